package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// loadGenerator drives one scenario against one proxy for d.
type loadGenerator interface {
	run(ctx context.Context, t *target, sc scenario, d time.Duration) (loadResult, error)
}

// generators picks the load generator each scenario kind needs: wrk for
// closed-loop HTTP/1.1, h2load for HTTP/2, the bench binary's own Go
// generators for the rest. All run pinned to the load core.
type generators struct {
	wrk  wrk
	h2   h2load
	self selfGenerator
}

// run implements loadGenerator.
func (g generators) run(ctx context.Context, t *target, sc scenario, d time.Duration) (loadResult, error) {
	plainAddr := strings.TrimSuffix(strings.TrimPrefix(t.url, "http://"), "/")
	cfg := loadgenConfig{addr: plainAddr, host: sc.host, path: sc.path, connections: sc.connections, duration: d, size: sc.msgSize}
	switch sc.kind {
	case closedH1:
		return g.wrk.run(ctx, t.url, sc, d)
	case openH1:
		cfg.rate = sc.rate
		return g.self.run(ctx, cmdOpenLoop, cfg)
	case h2TLS:
		return g.h2.run(ctx, t.tlsAddr, sc, d)
	case tlsConnect:
		cfg.addr = t.tlsAddr
		return g.self.run(ctx, cmdTLSConn, cfg)
	case webSocket:
		return g.self.run(ctx, cmdWebSocket, cfg)
	}
	return loadResult{}, fmt.Errorf("scenario %s has unknown kind %d", sc.name, sc.kind)
}
