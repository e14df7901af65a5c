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
}
