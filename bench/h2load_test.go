package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseH2load(t *testing.T) {
	got, err := parseH2load(readTestdata(t, "h2load-ok.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := loadResult{Requests: 4527, Elapsed: 2 * time.Second, RPS: 2263.50}
	if got != want {
		t.Errorf("parseH2load = %+v, want %+v", got, want)
	}
}

// h2loadFailures is the summary of a run with failed streams and error
// statuses, in the format of h2load 1.52's printf.
const h2loadFailures = `finished in 512.40ms, 1951.60 req/s, 2.10MB/s
requests: 1000 total, 1000 started, 1000 done, 960 succeeded, 40 failed, 12 errored, 3 timeout
status codes: 975 2xx, 0 3xx, 20 4xx, 5 5xx
`

func TestParseH2loadFailures(t *testing.T) {
	got, err := parseH2load(h2loadFailures)
	if err != nil {
		t.Fatal(err)
	}
	// 40 failed include the 25 4xx/5xx answers, counted once as Non2xx.
	want := loadResult{Requests: 1000, Elapsed: 512400 * time.Microsecond, RPS: 1951.60, Non2xx: 25, SocketErrors: 15 + 12 + 3}
	if got != want {
		t.Errorf("parseH2load = %+v, want %+v", got, want)
	}
}

func TestParseH2loadRejectsIncompleteOutput(t *testing.T) {
	full := readTestdata(t, "h2load-ok.txt")
	for _, drop := range []string{"finished in", "requests:", "status codes:"} {
		var kept []string
		for _, line := range strings.Split(full, "\n") {
			if !strings.HasPrefix(line, drop) {
				kept = append(kept, line)
			}
		}
		if _, err := parseH2load(strings.Join(kept, "\n")); err == nil {
			t.Errorf("parseH2load accepted output without %q", drop)
		}
	}
}

func TestParseH2loadLog(t *testing.T) {
	log := "1764392400000000\t200\t1500\n1764392400000100\t-1\t99999\n1764392400000200\t404\t250\n\n"
	got, err := parseH2loadLog(log)
	if err != nil {
		t.Fatal(err)
	}
	// The failed stream (-1) has no latency; the 404 has one.
	if want := []time.Duration{1500 * time.Microsecond, 250 * time.Microsecond}; !slices.Equal(got, want) {
		t.Errorf("parseH2loadLog = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1\t-1\t5\n", "1\t200\n", "1\tOK\t5\n", "1\t200\tfast\n"} {
		if _, err := parseH2loadLog(bad); err == nil {
			t.Errorf("parseH2loadLog(%q) succeeded", bad)
		}
	}
}

func TestH2loadArgs(t *testing.T) {
	h := h2load{bin: "/usr/bin/h2load", taskset: "/usr/bin/taskset", cpu: 1, logFile: "/t/h2.log"}
	sc := scenario{connections: 16, streams: 10, host: "bench.local", path: "/body/1k"}
	got := h.args("127.0.0.1:8443", sc, 5*time.Second)
	want := []string{"/usr/bin/taskset", "-c", "1", "/usr/bin/h2load", "-t1", "-c16", "-m10", "-D", "5",
		"--connect-to=127.0.0.1:8443", "--log-file=/t/h2.log", "https://bench.local/body/1k"}
	if !slices.Equal(got, want) {
		t.Errorf("args =\n%q\nwant\n%q", got, want)
	}
}
