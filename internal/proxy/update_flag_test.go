package proxy_test

// The golden package registers -update, so that `go test ./... -update`
// (which passes the flag to every test binary) works in this package too.
import _ "github.com/straitgw/strait/internal/golden"
