package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// h2load runs nghttp2's h2load, the HTTP/2 load generator, pinned to one core.
type h2load struct {
	bin, taskset string
	cpu          int
	logFile      string // where h2load writes per-request latencies, overwritten each run
}

// args is h2load's command line: one thread, sc.connections TLS connections
// with sc.streams concurrent streams each, for d. The URL names benchHost so
// that SNI and :authority are what a real client would send, and
// --connect-to sends the connections to the proxy's loopback port instead.
func (h h2load) args(tlsAddr string, sc scenario, d time.Duration) []string {
	return []string{
		h.taskset, "-c", strconv.Itoa(h.cpu),
		h.bin, "-t1", "-c" + strconv.Itoa(sc.connections), "-m" + strconv.Itoa(sc.streams),
		"-D", strconv.Itoa(int(d / time.Second)),
		"--connect-to=" + tlsAddr,
		"--log-file=" + h.logFile,
		"https://" + sc.host + sc.path,
	}
}

// run runs h2load once and combines its summary with the latencies of its
// per-request log.
func (h h2load) run(ctx context.Context, tlsAddr string, sc scenario, d time.Duration) (loadResult, error) {
	// Never read a previous run's latencies, should h2load append or fail
	// before writing.
	if err := os.Remove(h.logFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return loadResult{}, err
	}
	out, err := runOutput(ctx, "", h.args(tlsAddr, sc, d)...)
	if err != nil {
		return loadResult{}, err
	}
	res, err := parseH2load(out)
	if err != nil {
		return res, fmt.Errorf("%w; h2load said:\n%s", err, out)
	}
	log, err := os.ReadFile(h.logFile)
	if err != nil {
		return res, err
	}
	lat, err := parseH2loadLog(string(log))
	if err != nil {
		return res, fmt.Errorf("h2load log %s: %w", h.logFile, err)
	}
	p := percentilesOf(lat)
	res.P50, res.P99, res.P999 = p.P50, p.P99, p.P999
	return res, nil
}

// Patterns for the h2load 1.x summary lines the harness reads, e.g.
//
//	finished in 5.00s, 24321.40 req/s, 26.60MB/s
//	requests: 121607 total, 121767 started, 121607 done, 121607 succeeded, 0 failed, 0 errored, 0 timeout
//	status codes: 121607 2xx, 0 3xx, 0 4xx, 0 5xx
var (
	h2FinishedRe = regexp.MustCompile(`(?m)^finished in ([0-9.]+)(s|ms), ([0-9.]+) req/s`)
	h2RequestsRe = regexp.MustCompile(`(?m)^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2StatusRe   = regexp.MustCompile(`(?m)^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
)

// parseH2load extracts throughput and errors from h2load's summary. Requests
// counts the completed ones ("done"); failed, errored and timed-out streams
// are socket-level errors, 4xx and 5xx answers Non2xx (h2load counts those
// as failed too, so they are taken out of that figure to be counted once).
func parseH2load(out string) (loadResult, error) {
	var r loadResult
	m := h2FinishedRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("h2load output has no 'finished in' line")
	}
	secs, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return r, fmt.Errorf("h2load elapsed %q: %w", m[1], err)
	}
	if m[2] == "ms" {
		secs /= 1000
	}
	r.Elapsed = time.Duration(math.Round(secs*1e6)) * time.Microsecond
	if r.RPS, err = strconv.ParseFloat(m[3], 64); err != nil {
		return r, fmt.Errorf("h2load req/s %q: %w", m[3], err)
	}
	m = h2RequestsRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("h2load output has no 'requests:' line")
	}
	var n [7]uint64
	for i := range n {
		n[i], _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	done, failed, errored, timeout := n[2], n[4], n[5], n[6]
	r.Requests = done
	sm := h2StatusRe.FindStringSubmatch(out)
	if sm == nil {
		return r, errors.New("h2load output has no 'status codes:' line")
	}
	c4, _ := strconv.ParseUint(sm[3], 10, 64)
	c5, _ := strconv.ParseUint(sm[4], 10, 64)
	r.Non2xx = c4 + c5
	if failed >= r.Non2xx {
		failed -= r.Non2xx
	}
	r.SocketErrors = failed + errored + timeout
	return r, nil
}

// parseH2loadLog reads the latencies of h2load's --log-file: one line per
// request, tab-separated start time (µs since the epoch), status (-1 for a
// failed stream) and µs until the end of the response. Failed streams have
// no meaningful latency and are left out; they are counted as errors from
// the summary.
func parseH2loadLog(log string) ([]time.Duration, error) {
	var out []time.Duration
	for i, line := range strings.Split(log, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: want 3 tab-separated columns, got %q", i+1, line)
		}
		status, err := strconv.Atoi(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: status %q: %w", i+1, f[1], err)
		}
		us, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: duration %q: %w", i+1, f[2], err)
		}
		if status < 0 {
			continue
		}
		out = append(out, time.Duration(us)*time.Microsecond)
	}
	if len(out) == 0 {
		return nil, errors.New("no completed request")
	}
	return out, nil
}
