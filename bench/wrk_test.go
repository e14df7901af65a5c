package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// wrkSocketErrors is wrk 4.1 output from a run that hit socket errors; the
// format of that line is wrk's printf in src/wrk.c.
const wrkSocketErrors = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.51ms    2.03ms  41.26ms   95.11%
    Req/Sec    23.90k     1.62k   26.19k    80.00%
  Latency Distribution
     50%    1.21ms
     75%    1.44ms
     90%    1.80ms
     99%   12.40ms
  237804 requests in 10.00s, 35.61MB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  23778.11
Transfer/sec:      3.56MB
bench-percentiles-us 1210 12400 39870
`

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want loadResult
	}{
		{
			// Percentiles come from the script's µs line, not the table.
			name: "clean run",
			out:  readTestdata(t, "wrk-ok.txt"),
			want: loadResult{
				Requests: 158, Elapsed: 1190 * time.Millisecond, RPS: 133.27,
				P50: 6339 * time.Microsecond, P99: 330316 * time.Microsecond, P999: 345322 * time.Microsecond,
			},
		},
		{
			name: "all non-2xx",
			out:  readTestdata(t, "wrk-non2xx.txt"),
			want: loadResult{
				Requests: 69411, Elapsed: 1100 * time.Millisecond, RPS: 63116.00,
				P50: 100 * time.Microsecond, P99: 239 * time.Microsecond, P999: 1800 * time.Microsecond, Non2xx: 69411,
			},
		},
		{
			name: "socket errors",
			out:  wrkSocketErrors,
			want: loadResult{
				Requests: 237804, Elapsed: 10 * time.Second, RPS: 23778.11,
				P50: 1210 * time.Microsecond, P99: 12400 * time.Microsecond, P999: 39870 * time.Microsecond,
				SocketErrors: 16, Non2xx: 7,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseWrk =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got.Errors() != tt.want.SocketErrors+tt.want.Non2xx {
				t.Errorf("Errors() = %d", got.Errors())
			}
		})
	}
}

func TestParseWrkRejectsIncompleteOutput(t *testing.T) {
	full := readTestdata(t, "wrk-ok.txt")
	for _, drop := range []string{"requests in", "Requests/sec", "Latency Distribution", "50%", "99%", "bench-percentiles-us"} {
		var kept []string
		for _, line := range strings.Split(full, "\n") {
			if !strings.Contains(line, drop) {
				kept = append(kept, line)
			}
		}
		if _, err := parseWrk(strings.Join(kept, "\n")); err == nil {
			t.Errorf("parseWrk accepted output without %q", drop)
		}
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("parseWrk accepted a connection failure")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"99.00us": 99 * time.Microsecond,
		"1.14ms":  1140 * time.Microsecond,
		"2.50s":   2500 * time.Millisecond,
		"1.00m":   time.Minute,
		"1.00h":   time.Hour,
	} {
		got, err := parseWrkDuration(in)
		if err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"12", "1.0ns", "ms", "1.2.3ms"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q) succeeded", in)
		}
	}
}

func TestWrkArgs(t *testing.T) {
	w := wrk{bin: "/usr/bin/wrk", taskset: "/usr/bin/taskset", cpu: 1, script: "/t/p.lua"}
	sc := scenario{connections: 32, host: "bench.local", path: "/body/1k"}
	got := w.args("http://127.0.0.1:8080/", sc, 10*time.Second)
	want := []string{"/usr/bin/taskset", "-c", "1", "/usr/bin/wrk", "-t1", "-c32", "-d10s", "--latency",
		"-s", "/t/p.lua", "-H", "Host: bench.local", "http://127.0.0.1:8080/body/1k"}
	if !slices.Equal(got, want) {
		t.Errorf("args =\n%q\nwant\n%q", got, want)
	}
}

// TestWrkScriptLine checks that the done script prints the line parseWrk
// reads: its format string, filled in as Lua's %.0f would, must match.
func TestWrkScriptLine(t *testing.T) {
	if !strings.Contains(wrkScript, `"bench-percentiles-us %.0f %.0f %.0f\n"`) ||
		!strings.Contains(wrkScript, "latency:percentile(99.9)") || !strings.HasPrefix(wrkScript, "done = function") {
		t.Errorf("unexpected wrk script:\n%s", wrkScript)
	}
	if !wrkScriptRe.MatchString(fmt.Sprintf("bench-percentiles-us %.0f %.0f %.0f\n", 12.0, 340.0, 1999.0)) {
		t.Error("parseWrk's pattern does not match the script's output")
	}
}
