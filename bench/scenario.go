package main

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// scenarioKind says which load generator drives a scenario and over which
// of the proxy's ports.
type scenarioKind int

const (
	// closedH1 is wrk, HTTP/1.1 keep-alive, closed loop, plain port.
	closedH1 scenarioKind = iota
	// openH1 is the Go open-loop generator at a fixed rate, plain port.
	openH1
	// h2TLS is h2load, HTTP/2 over TLS, TLS port.
	h2TLS
	// tlsConnect is the Go generator of one TLS 1.3 connection per request.
	tlsConnect
	// webSocket is the Go WebSocket echo client, plain port.
	webSocket
)

// scenario is one load shape, run against every proxy in every round.
type scenario struct {
	name        string // short label used in flags, progress lines and report headings
	description string // what a reader of the report needs to know about it
	kind        scenarioKind
	connections int
	streams     int // h2TLS: concurrent streams per connection
	duration    time.Duration
	host, path  string
	msgSize     int    // webSocket: message size in bytes
	rateOf      string // openH1: the closed-loop scenario whose nginx throughput, halved, sets the rate
	rate        float64
	unit        string // what one counted operation is: req, conn or msg
}

// responseBody is one of the fixed answers of the backend, served from
// /body/<name>.
type responseBody struct {
	name string
	size int
}

// responseBodies are the backend's fixed answers the HTTP/1.1 matrix covers.
var responseBodies = []responseBody{{"0b", 0}, {"1k", 1024}, {"4k", 4096}}

// bodyPath is the backend path of a fixed answer.
func bodyPath(b responseBody) string { return "/body/" + b.name }

// Shapes of the scenarios besides the HTTP/1.1 matrix.
const (
	openLoopConns  = 16
	h2Conns        = 16
	h2Streams      = 10
	tlsConnWorkers = 16
	wsConns        = 16
	wsMsgSize      = 64
)

// h1Connections are the HTTP/1.1 matrix's connection counts.
var h1Connections = []int{1, 16, 256}

// allScenarios lists every scenario the harness knows, each run d long, in
// the order they run. An open-loop scenario comes after the closed-loop one
// its rate derives from.
func allScenarios(d time.Duration) []scenario {
	var out []scenario
	for _, c := range h1Connections {
		for _, b := range responseBodies {
			out = append(out, scenario{
				name:        fmt.Sprintf("h1-c%d-%s", c, b.name),
				description: fmt.Sprintf("HTTP/1.1 keep-alive, closed loop (wrk), %d connection(s), %d-byte response body, %v per run.", c, b.size, d),
				kind:        closedH1, connections: c, duration: d, host: benchHost, path: bodyPath(b), unit: "req",
			})
		}
	}
	out = append(out,
		scenario{
			name: "h1-open-c16-0b",
			description: fmt.Sprintf("HTTP/1.1 keep-alive, open loop at a fixed rate of half of nginx's median requests/s in h1-c16-0b, "+
				"%d connections, 0-byte body, %v per run. Latencies are measured from each request's scheduled send time, "+
				"so a stall delays and is charged to every request due during it (no coordinated omission).", openLoopConns, d),
			kind: openH1, connections: openLoopConns, duration: d, host: benchHost, path: bodyPath(responseBodies[0]),
			rateOf: "h1-c16-0b", unit: "req",
		},
		scenario{
			name: "h2-tls-c16-m10-1k",
			description: fmt.Sprintf("HTTP/2 over TLS 1.3 from the client (h2load), %d connections × %d concurrent streams, "+
				"1024-byte body, %v per run; each proxy terminates TLS and speaks HTTP/1.1 keep-alive to the backend.", h2Conns, h2Streams, d),
			kind: h2TLS, connections: h2Conns, streams: h2Streams, duration: d, host: benchHost, path: bodyPath(responseBodies[1]), unit: "req",
		},
		scenario{
			name: "tls13-new-conn-c16",
			description: fmt.Sprintf("New TLS 1.3 connections: %d workers each loop over connect, full handshake (ECDSA P-256 "+
				"certificate, no resumption), one HTTP/1.1 GET of the 0-byte body, close; %v per run. "+
				"A counted operation is a whole connection.", tlsConnWorkers, d),
			kind: tlsConnect, connections: tlsConnWorkers, duration: d, host: benchHost, path: bodyPath(responseBodies[0]), unit: "conn",
		},
		scenario{
			name: "ws-echo-c16-64b",
			description: fmt.Sprintf("WebSocket: %d connections upgraded through the proxy to an echo backend, each sending a "+
				"%d-byte binary message and waiting for its echo, closed loop, %v per run. A counted operation is one message round trip.",
				wsConns, wsMsgSize, d),
			kind: webSocket, connections: wsConns, duration: d, host: benchHost, path: wsPath, msgSize: wsMsgSize, unit: "msg",
		},
	)
	return out
}

// selectScenarios picks the scenarios named by a comma-separated list of
// names and shell patterns ("all" for every one), keeping the canonical
// order. An open-loop scenario brings in the closed-loop scenario its rate
// derives from unless a fixed rate is given.
func selectScenarios(all []scenario, spec string, fixedRate bool) ([]scenario, error) {
	want := make(map[string]bool)
	for _, pat := range strings.Split(spec, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		if pat == "all" {
			pat = "*"
		}
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("-scenarios: bad pattern %q: %w", pat, err)
		}
		matched := false
		for _, sc := range all {
			if ok, _ := path.Match(pat, sc.name); ok {
				want[sc.name], matched = true, true
			}
		}
		if !matched {
			return nil, fmt.Errorf("-scenarios: %q matches no scenario (known: %s)", pat, strings.Join(scenarioNames(all), ", "))
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("-scenarios selects nothing")
	}
	if !fixedRate {
		for _, sc := range all {
			if want[sc.name] && sc.rateOf != "" {
				want[sc.rateOf] = true
			}
		}
	}
	var out []scenario
	for _, sc := range all {
		if want[sc.name] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// scenarioNames lists the names of scs.
func scenarioNames(scs []scenario) []string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.name)
	}
	return out
}

// openLoopRate is the rate of an open-loop scenario: half of nginx's median
// throughput in its closed-loop reference, so that every proxy is loaded to
// a level nginx handles with room to spare and the latencies compare
// queueing-free service.
func openLoopRate(sc scenario, ms []measurement) (float64, error) {
	var rps []float64
	for _, m := range ms {
		if m.scenario == sc.rateOf && m.proxy == "nginx" {
			rps = append(rps, m.load.RPS)
		}
	}
	if len(rps) == 0 {
		return 0, fmt.Errorf("%s takes its rate from nginx in %s, which was not measured; add nginx to -proxies or give -rate",
			sc.name, sc.rateOf)
	}
	if r := median(rps) / 2; r > 0 {
		return r, nil
	}
	return 0, fmt.Errorf("nginx had no throughput in %s to derive %s's rate from", sc.rateOf, sc.name)
}

// hasKind reports whether scs holds a scenario of kind k.
func hasKind(scs []scenario, k scenarioKind) bool {
	return slices.ContainsFunc(scs, func(sc scenario) bool { return sc.kind == k })
}
