package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"
)

// runTLSConnect measures new TLS 1.3 connections: each of c.connections
// workers, in a closed loop, dials, completes a full handshake (no session
// resumption: the client keeps no session cache), sends one GET with
// Connection: close, reads the answer and closes. A "request" of this
// generator is therefore a whole connection, and its latency covers TCP
// connect, handshake and the proxied request.
func runTLSConnect(ctx context.Context, c loadgenConfig) (loadResult, error) {
	req := []byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", c.path, c.host))
	cfg := &tls.Config{
		ServerName: c.host,
		// The certificate is self-signed for the run; what is measured is
		// the proxies' handshake work, which verification here would not change.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		NextProtos:         []string{"http/1.1"},
	}
	start := time.Now()
	end := start.Add(c.duration)
	results := make([]connResult, c.connections)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r := &results[i]
			for time.Now().Before(end) && ctx.Err() == nil {
				t0 := time.Now()
				status, err := oneTLSRequest(c.addr, cfg, req)
				if err != nil {
					r.socketErrors++
					continue
				}
				r.latencies = append(r.latencies, time.Since(t0))
				if status < 200 || status >= 400 {
					r.non2xx++
				}
			}
		})
	}
	wg.Wait()
	return collectResults(results, time.Since(start)), nil
}

// oneTLSRequest runs one connection of runTLSConnect.
func oneTLSRequest(addr string, cfg *tls.Config, req []byte) (int, error) {
	d := &net.Dialer{Timeout: ioTimeout}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(ioTimeout))
	conn := tls.Client(raw, cfg)
	if err := conn.Handshake(); err != nil {
		return 0, err
	}
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	status, _, err := readResponse(bufio.NewReader(conn))
	return status, err
}

// collectResults merges per-connection results into one loadResult.
func collectResults(results []connResult, elapsed time.Duration) loadResult {
	var all []time.Duration
	var res loadResult
	for _, r := range results {
		all = append(all, r.latencies...)
		res.SocketErrors += r.socketErrors
		res.Non2xx += r.non2xx
	}
	res.Requests = uint64(len(all))
	res.Elapsed = elapsed
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	p := percentilesOf(all)
	res.P50, res.P99, res.P999 = p.P50, p.P99, p.P999
	return res
}
