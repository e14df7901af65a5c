package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// loadResult is what one load-generator run measured.
type loadResult struct {
	Requests     uint64        // responses completed
	Elapsed      time.Duration // as reported by the generator
	RPS          float64       // requests per second
	P50, P99     time.Duration // latency percentiles
	P999         time.Duration // 99.9th percentile latency
	SocketErrors uint64        // connect + read + write + timeout errors
	Non2xx       uint64        // responses outside 2xx/3xx
}

// Errors is every failed request: socket errors plus bad statuses.
func (r loadResult) Errors() uint64 { return r.SocketErrors + r.Non2xx }

// wrk runs the wrk HTTP/1.1 load generator pinned to one core.
type wrk struct {
	bin, taskset string
	cpu          int
	script       string // path of wrkScript, written once per run
}

// wrkScript makes wrk print the p50, p99 and p99.9 latencies, in µs, from
// its full-resolution histogram when it finishes; its --latency table stops
// at p99. Defining only done keeps wrk on its fast path: without a request
// or response function it runs no Lua per request.
const wrkScript = `done = function(summary, latency, requests)
  io.write(string.format("bench-percentiles-us %.0f %.0f %.0f\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
`

// args is wrk's command line. One thread is enough to saturate a
// single-core proxy and keeps wrk to the one core it is pinned to.
func (w wrk) args(url string, sc scenario, d time.Duration) []string {
	return []string{
		w.taskset, "-c", strconv.Itoa(w.cpu),
		w.bin, "-t1", "-c" + strconv.Itoa(sc.connections),
		"-d" + strconv.Itoa(int(d/time.Second)) + "s",
		"--latency", "-s", w.script, "-H", "Host: " + sc.host,
		strings.TrimSuffix(url, "/") + sc.path,
	}
}

// run runs wrk once and parses its report; wrk's own output goes into the
// error when it fails or prints something unparseable.
func (w wrk) run(ctx context.Context, url string, sc scenario, d time.Duration) (loadResult, error) {
	out, err := runOutput(ctx, "", w.args(url, sc, d)...)
	if err != nil {
		return loadResult{}, err
	}
	res, err := parseWrk(out)
	if err != nil {
		return res, fmt.Errorf("%w; wrk said:\n%s", err, out)
	}
	return res, nil
}

// Patterns for the lines of wrk 4.x's report that the harness reads, e.g.
//
//	  1198764 requests in 10.00s, 159.18MB read
//	  Socket errors: connect 0, read 12, write 0, timeout 3
//	  Non-2xx or 3xx responses: 7
//	Requests/sec: 119873.10
//
// and, under "Latency Distribution", lines like "     99%   1.20ms".
var (
	wrkRequestsRe   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+[a-z]+),`)
	wrkRPSRe        = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkSocketErrsRe = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xxRe     = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkPercentileRe = regexp.MustCompile(`(?m)^\s*(50|75|90|99)%\s+([0-9.]+[a-z]+)\s*$`)
	wrkScriptRe     = regexp.MustCompile(`(?m)^bench-percentiles-us (\d+) (\d+) (\d+)\s*$`)
)

// parseWrk extracts a loadResult from wrk's --latency output. wrk prints
// the socket-error and non-2xx lines only when they are non-zero, so their
// absence means zero; every other field is required.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	m := wrkRequestsRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no 'N requests in T' line")
	}
	r.Requests, _ = strconv.ParseUint(m[1], 10, 64)
	el, err := parseWrkDuration(m[2])
	if err != nil {
		return r, err
	}
	r.Elapsed = el

	m = wrkRPSRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no Requests/sec line")
	}
	if r.RPS, err = strconv.ParseFloat(m[1], 64); err != nil {
		return r, fmt.Errorf("wrk Requests/sec %q: %w", m[1], err)
	}

	// The percentile lines follow the "Latency Distribution" header; the
	// thread-stats table above it never matches because its rows start
	// with "Latency" or "Req/Sec", not a percentage.
	idx := strings.Index(out, "Latency Distribution")
	if idx < 0 {
		return r, errors.New("wrk output has no Latency Distribution (was --latency passed?)")
	}
	var have50, have99 bool
	for _, pm := range wrkPercentileRe.FindAllStringSubmatch(out[idx:], -1) {
		d, err := parseWrkDuration(pm[2])
		if err != nil {
			return r, err
		}
		switch pm[1] {
		case "50":
			r.P50, have50 = d, true
		case "99":
			r.P99, have99 = d, true
		}
	}
	if !have50 || !have99 {
		return r, errors.New("wrk Latency Distribution lacks the 50% or 99% line")
	}
	// The script's figures are exact to the µs where the table rounds to
	// two decimals, so they replace the table's p50 and p99.
	m = wrkScriptRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk output has no bench-percentiles-us line (was the done script passed with -s?)")
	}
	var us [3]uint64
	for i := range us {
		us[i], _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	r.P50, r.P99, r.P999 = time.Duration(us[0])*time.Microsecond, time.Duration(us[1])*time.Microsecond, time.Duration(us[2])*time.Microsecond

	if m = wrkSocketErrsRe.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseUint(s, 10, 64)
			r.SocketErrors += n
		}
	}
	if m = wrkNon2xxRe.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return r, nil
}

// parseWrkDuration reads wrk's time format: a decimal followed by us, ms,
// s, m or h. Those are all units time.ParseDuration knows, but wrk's output
// is checked against that set so a format change fails loudly.
func parseWrkDuration(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' })
	if i <= 0 {
		return 0, fmt.Errorf("wrk time %q has no unit", s)
	}
	switch s[i:] {
	case "us", "ms", "s", "m", "h":
	default:
		return 0, fmt.Errorf("wrk time %q has unknown unit %q", s, s[i:])
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("wrk time %q: %w", s, err)
	}
	return d, nil
}
