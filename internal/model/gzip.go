package model

// Gzip is response compression (ConfigMap use-gzip, gzip-level,
// gzip-min-length, gzip-types).
type Gzip struct {
	// Level is the compression level, 1 to 9.
	Level int `json:"level"`
	// MinLength is the smallest Content-Length compressed; responses of
	// unknown length are compressed.
	MinLength int64 `json:"minLength"`
	// Types are the compressed media types, lower case, sorted; "*"
	// compresses every type.
	Types []string `json:"types"`
	// DisableUserAgents are RE2 regular expressions, case-insensitive,
	// matched against User-Agent: a match is never compressed
	// (gzip-disable).
	DisableUserAgents []string `json:"disableUserAgents,omitempty"`
}
