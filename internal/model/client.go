package model

// Client holds the ConfigMap's limits on client connections. Zero fields
// mean ingress-nginx's defaults, so that a model without such keys stays
// the same.
type Client struct {
	// HeaderBufferBytes is the size of large-client-header-buffers
	// (default 8k): the longest request line (414 beyond) and header line
	// (400 beyond).
	HeaderBufferBytes int64 `json:"headerBufferBytes,omitempty"`
	// HeaderBuffers is the number of large-client-header-buffers
	// (default 4): the head may take HeaderBuffers × HeaderBufferBytes
	// (400 beyond).
	HeaderBuffers int `json:"headerBuffers,omitempty"`
	// KeepAliveOff closes every client connection after one response
	// (keep-alive: 0).
	KeepAliveOff bool `json:"keepAliveOff,omitempty"`
	// KeepAliveSeconds is keep-alive: how long an idle client connection
	// stays open (default 75).
	KeepAliveSeconds int `json:"keepAliveSeconds,omitempty"`
	// KeepAliveRequests is keep-alive-requests: the most requests one
	// HTTP/1 client connection carries (default 1000).
	KeepAliveRequests int `json:"keepAliveRequests,omitempty"`
	// HeaderTimeoutSeconds is client-header-timeout: how long a request
	// head may take to arrive (default 60).
	HeaderTimeoutSeconds int `json:"headerTimeoutSeconds,omitempty"`
	// BodyTimeoutSeconds is client-body-timeout: the longest wait between
	// two reads of a request body (default 60).
	BodyTimeoutSeconds int `json:"bodyTimeoutSeconds,omitempty"`
	// MaxConnections is max-worker-connections: the most client
	// connections open at once on the HTTP and HTTPS listeners together
	// (default 16384). MaxConnectionsFromFileLimit, in the ConfigMap 0,
	// derives the cap from the process's open-file limit instead.
	MaxConnections int `json:"maxConnections,omitempty"`
	// MaxConnectionsFromFileLimit is max-worker-connections: 0.
	MaxConnectionsFromFileLimit bool `json:"maxConnectionsFromFileLimit,omitempty"`
	// HTTP2MaxConcurrentStreams is http2-max-concurrent-streams: the most
	// concurrent streams on one HTTP/2 connection (default 128).
	HTTP2MaxConcurrentStreams int `json:"http2MaxConcurrentStreams,omitempty"`
}

// Upstream holds the ConfigMap's upstream keep-alive settings. Zero fields
// mean ingress-nginx's defaults.
type Upstream struct {
	// KeepAliveOff disables connection reuse: every upstream request is
	// sent with Connection: close (upstream-keepalive-connections: 0).
	KeepAliveOff bool `json:"keepAliveOff,omitempty"`
	// KeepAliveConnections is upstream-keepalive-connections: idle
	// connections kept per endpoint (default 320).
	KeepAliveConnections int `json:"keepAliveConnections,omitempty"`
	// KeepAliveTimeoutSeconds is upstream-keepalive-timeout: how long an
	// idle connection is kept (default 60).
	KeepAliveTimeoutSeconds int `json:"keepAliveTimeoutSeconds,omitempty"`
	// KeepAliveRequests is upstream-keepalive-requests: the most requests
	// sent over one connection (default 10000).
	KeepAliveRequests int `json:"keepAliveRequests,omitempty"`
	// KeepAliveTimeSeconds is upstream-keepalive-time: the longest a
	// connection is reused after it was opened (default 3600).
	KeepAliveTimeSeconds int `json:"keepAliveTimeSeconds,omitempty"`
}
