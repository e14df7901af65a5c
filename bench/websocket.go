package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsPath is where the proxies route WebSocket upgrades to the echo backend.
const wsPath = "/ws"

// serveWebSocketEcho is the WebSocket backend: it serves wsEchoHandler on
// addr until the process is killed.
func serveWebSocketEcho(addr string) error {
	if addr == "" {
		return errors.New("usage: " + cmdWSEcho + " 127.0.0.1:PORT")
	}
	srv := &http.Server{Addr: addr, Handler: wsEchoHandler(), ReadHeaderTimeout: ioTimeout}
	return srv.ListenAndServe()
}

// wsEchoHandler upgrades requests for wsPath and sends every message
// received back as it came.
func wsEchoHandler() http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}
	mux := http.NewServeMux()
	// Plain GETs answer 200 so that the readiness probe of the harness
	// works on this backend and through each proxy's route to it.
	mux.HandleFunc(wsPath, func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			w.Write([]byte("websocket echo\n"))
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			kind, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(kind, msg); err != nil {
				return
			}
		}
	})
	return mux
}

// runWebSocketLoad opens c.connections WebSockets through the proxy and, on
// each, sends a binary message of c.size bytes and waits for its echo, in a
// closed loop until the duration is over. A "request" of this generator is
// one message round trip; its latency runs from the send to the echo's
// arrival. An echo that differs from what was sent counts as an error.
func runWebSocketLoad(ctx context.Context, c loadgenConfig) (loadResult, error) {
	dialer := websocket.Dialer{
		NetDial:          func(_, _ string) (net.Conn, error) { return net.DialTimeout("tcp", c.addr, ioTimeout) },
		HandshakeTimeout: ioTimeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		Proxy:            nil, // never through an environment proxy
	}
	url := fmt.Sprintf("ws://%s%s", c.host, c.path)
	msg := bytes.Repeat([]byte("m"), c.size)
	start := time.Now()
	end := start.Add(c.duration)
	results := make([]connResult, c.connections)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = wsConn(ctx, dialer, url, msg, end) })
	}
	wg.Wait()
	return collectResults(results, time.Since(start)), nil
}

// wsConn runs one WebSocket of runWebSocketLoad, reconnecting after errors.
func wsConn(ctx context.Context, dialer websocket.Dialer, url string, msg []byte, end time.Time) connResult {
	var r connResult
	var conn *websocket.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for time.Now().Before(end) && ctx.Err() == nil {
		if conn == nil {
			c, resp, err := dialer.DialContext(ctx, url, nil)
			if err != nil {
				if resp != nil {
					r.non2xx++
				} else {
					r.socketErrors++
				}
				// Do not spin on a proxy that refuses upgrades.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn = c
		}
		t0 := time.Now()
		conn.SetWriteDeadline(t0.Add(ioTimeout))
		conn.SetReadDeadline(t0.Add(ioTimeout))
		err := conn.WriteMessage(websocket.BinaryMessage, msg)
		var got []byte
		if err == nil {
			_, got, err = conn.ReadMessage()
		}
		if err != nil || !bytes.Equal(got, msg) {
			r.socketErrors++
			conn.Close()
			conn = nil
			continue
		}
		r.latencies = append(r.latencies, time.Since(t0))
	}
	return r
}
