package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// summary is one proxy's median results over all rounds of one scenario.
// Each metric's median is taken on its own, so the row need not come from
// any single round; that is what makes one noisy round harmless.
type summary struct {
	proxy       string
	rounds      int
	rps         float64
	p50, p99    time.Duration
	p999        time.Duration
	errors      float64 // median errors per round
	totalErrors uint64  // errors over all rounds, so a single bad round still shows
	cpuPerReq   float64 // µs
	allocsPer   float64 // heap allocations per request; NaN for proxies not written in Go
	ratio       float64 // cpuPerReq / nginx's cpuPerReq; NaN without nginx
}

// scenarioResult is the summary table of one scenario.
type scenarioResult struct {
	sc   scenario
	rows []summary
}

// median returns the median of xs (the mean of the middle two for an even
// count) without reordering the caller's slice.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarize reduces one scenario's measurements to a row per proxy, in the
// order of proxies, with CPU ratios relative to the nginx row.
func summarize(proxies []string, ms []measurement) []summary {
	var rows []summary
	for _, p := range proxies {
		var rps, p50, p99, p999, errs, cpu, allocs []float64
		row := summary{proxy: p}
		for _, m := range ms {
			if m.proxy != p {
				continue
			}
			row.rounds++
			rps = append(rps, m.load.RPS)
			p50 = append(p50, float64(m.load.P50))
			p99 = append(p99, float64(m.load.P99))
			p999 = append(p999, float64(m.load.P999))
			errs = append(errs, float64(m.load.Errors()))
			cpu = append(cpu, m.cpuPerRequest())
			if a := m.allocsPerRequest(); !math.IsNaN(a) {
				allocs = append(allocs, a)
			}
			row.totalErrors += m.load.Errors()
		}
		if row.rounds == 0 {
			continue
		}
		row.rps = median(rps)
		row.p50 = time.Duration(median(p50))
		row.p99 = time.Duration(median(p99))
		row.p999 = time.Duration(median(p999))
		row.errors = median(errs)
		row.cpuPerReq = median(cpu)
		row.allocsPer = median(allocs)
		rows = append(rows, row)
	}
	base := math.NaN()
	for _, r := range rows {
		if r.proxy == "nginx" {
			base = r.cpuPerReq
		}
	}
	for i := range rows {
		rows[i].ratio = rows[i].cpuPerReq / base
	}
	return rows
}

// summarizeAll summarizes every scenario.
func summarizeAll(scens []scenario, proxies []string, ms []measurement) []scenarioResult {
	var out []scenarioResult
	for _, sc := range scens {
		var these []measurement
		for _, m := range ms {
			if m.scenario == sc.name {
				these = append(these, m)
			}
		}
		out = append(out, scenarioResult{sc: sc, rows: summarize(proxies, these)})
	}
	return out
}

// formatLatency prints a latency with wrk-like precision: whole µs below a
// millisecond, two decimals above.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// formatErrors prints the median error count, adding the all-rounds total
// when it differs, so errors in one round are not hidden by the median.
func formatErrors(r summary) string {
	s := strconv.FormatFloat(r.errors, 'f', -1, 64)
	if float64(r.totalErrors) != r.errors {
		s += fmt.Sprintf(" (%d total)", r.totalErrors)
	}
	return s
}

// formatRatio prints a CPU ratio, or n/a when nginx was not measured.
func formatRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", x)
}

// formatAllocs prints allocations per request, or a dash for proxies
// whose allocations are not counted.
func formatAllocs(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.1f", x)
}

// unitPlural names a scenario's counted operation in a column heading.
func unitPlural(unit string) string {
	switch unit {
	case "conn":
		return "connections"
	case "msg":
		return "messages"
	}
	return "requests"
}

// summaryTable renders rows as a Markdown table; unit names what one
// counted operation is (req, conn, msg).
func summaryTable(rows []summary, unit string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| proxy | %s/s | p50 | p99 | p99.9 | errors | CPU µs/%s | allocs/%s | ratio to nginx CPU |\n", unitPlural(unit), unit, unit)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %s | %.2f | %s | %s |\n",
			r.proxy, r.rps, formatLatency(r.p50), formatLatency(r.p99), formatLatency(r.p999), formatErrors(r),
			r.cpuPerReq, formatAllocs(r.allocsPer), formatRatio(r.ratio))
	}
	return b.String()
}

// resultTables renders every scenario's table under a heading naming it.
func resultTables(results []scenarioResult) string {
	var b strings.Builder
	for i, res := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n%s\n\nMedians of %d rounds.\n\n", res.sc.name, res.sc.description, roundsOf(res))
		b.WriteString(summaryTable(res.rows, res.sc.unit))
	}
	return b.String()
}

// roundsOf is the number of rounds behind a scenario's medians.
func roundsOf(res scenarioResult) int {
	n := 0
	for _, r := range res.rows {
		n = max(n, r.rounds)
	}
	return n
}

// roundsTable lists every measurement, so readers can judge the spread the
// medians summarize.
func roundsTable(ms []measurement) string {
	var b strings.Builder
	b.WriteString("| scenario | round | proxy | count | per second | p50 | p99 | p99.9 | errors | CPU s | proxy core busy | CPU µs each | allocs each |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %.0f | %s | %s | %s | %d | %.2f | %.0f%% | %.2f | %s |\n",
			m.scenario, m.round, m.proxy, m.load.Requests, m.load.RPS, formatLatency(m.load.P50),
			formatLatency(m.load.P99), formatLatency(m.load.P999), m.load.Errors(), m.cpu.Seconds(), 100*m.coreBusy(),
			m.cpuPerRequest(), formatAllocs(m.allocsPerRequest()))
	}
	return b.String()
}

// methodText is the report's method section.
func methodText(o options) string {
	return fmt.Sprintf(`All three proxies run on this one machine, in the same run, against the same backends: an nginx instance (one worker) serving fixed bodies of 0, 1024 and 4096 bytes, and a WebSocket echo server (Go, GOMAXPROCS=1). The proxy under test is pinned to CPU %[1]d and limited to one core; the load generators and both backends are pinned to CPU %[2]d, so the proxy's core does nothing but proxy.

- **nginx**: `+"`worker_processes 1`"+`, configured like ingress-nginx generates for one Ingress with a TLS section: keepalive upstream pools of 320 connections (ingress-nginx's default, and Strait's), HTTP/1.1 upstream, the ingress-nginx request headers (X-Request-ID, X-Real-IP, X-Forwarded-For/Host/Port/Proto/Scheme, X-Scheme), the Upgrade/Connection mapping of its template, TLS 1.2 and 1.3 with a shared session cache and no session tickets, HTTP/2 by ALPN, no access log.
- **HAProxy**: `+"`nbthread 1`"+`, HTTP mode, `+"`option http-keep-alive`"+` and `+"`http-reuse always`"+` towards the backend, the same request headers (X-Request-ID from `+"`uuid`"+`; X-Original-Forwarded-For is omitted, as nginx omits it when the client sends no X-Forwarded-For), TLS 1.2 and 1.3 without session tickets, ALPN h2 and http/1.1, no logging.
- **Strait**: `+"`GOMAXPROCS=1`"+`, fed an equivalent Service, EndpointSlice, Ingress (with a TLS section) and TLS Secret per backend from a manifests directory, with a ConfigMap setting `+"`disable-access-log`"+` and `+"`ssl-redirect: \"false\"`"+` (the other two do not redirect either).

All three serve the same self-signed ECDSA P-256 certificate. Each measured run is preceded by an unmeasured %[3]v warm-up; rounds alternate which proxy goes first (nginx, HAProxy, Strait, then the reverse), and every figure below is the median over %[4]d rounds, each metric taken on its own.

CPU per request is the user plus system time the proxy's processes (nginx master and worker; HAProxy's one process; Strait's one process) accumulated in /proc/<pid>/stat during the measured run, divided by the requests (connections, messages) completed in it; it is the cost figure to compare. Allocations per request are the difference of Strait's `+"`go_memstats_mallocs_total`"+` (read from its /metrics before and after the run) divided the same way; nginx and HAProxy are not written in Go and show —.

The closed-loop generators (wrk, h2load, the TLS and WebSocket clients) send the next request when the previous answer arrives, so their throughput and latency are bounded by whichever core saturates first, the proxy's or the load core; the per-round table's "proxy core busy" (proxy CPU time over wall time) tells which. In the open-loop scenario the Go generator sends at a fixed rate and measures each latency from the request's scheduled send time, so its p99 and p99.9 include any queueing a stall causes. wrk's p50/p99/p99.9 come from its own histogram through a `+"`done`"+` script; h2load's from its per-request log; the Go generators keep every sample. Percentiles are nearest-rank.

nginx and Strait close a client connection after 1000 requests (`+"`keepalive_requests`"+`, ingress-nginx's default, which both apply to HTTP/2 connections too, with a GOAWAY); HAProxy has no limit. wrk and the Go generators then reconnect. h2load does not replace a connection that sent GOAWAY, so in the HTTP/2 scenario nginx and Strait serve 16 × 1000 requests per run and then idle, their CPU per request being over those, while HAProxy serves for the whole run; h2load counts the streams in flight at a GOAWAY as errors, which is where nginx's and Strait's errors there come from.`,
		proxyCPU, loadCPU, warmup, o.rounds)
}

// renderReport renders the Markdown report written by -out.
func renderReport(info machineInfo, o options, results []scenarioResult, ms []measurement) string {
	var b strings.Builder
	b.WriteString("# Strait vs nginx and HAProxy: cost per proxied request\n\n")
	b.WriteString("<!-- Generated by `go run ./bench`; rerun it rather than editing by hand. -->\n\n")
	fmt.Fprintf(&b, "Measured %s.\n\n", info.date.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("## Method\n\n" + methodText(o) + "\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d logical CPUs\n", info.cpuModel, info.cpus)
	fmt.Fprintf(&b, "- Kernel: %s\n", info.kernel)
	fmt.Fprintf(&b, "- nginx: %s (Debian package)\n", info.nginx)
	fmt.Fprintf(&b, "- HAProxy: %s (Debian package)\n", info.haproxy)
	fmt.Fprintf(&b, "- wrk: %s\n", info.wrk)
	fmt.Fprintf(&b, "- h2load: %s\n", info.h2load)
	fmt.Fprintf(&b, "- Go: %s\n", info.goVersion)
	fmt.Fprintf(&b, "- Strait: %s\n\n", info.strait)
	b.WriteString("## Reproduce\n\nFrom the repository root (installs nginx, HAProxy, wrk and h2load with apt-get if missing; needs root for that and at least 2 CPUs):\n\n")
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", o.reproduceCommand())
	b.WriteString("`go run ./bench -list` lists the scenarios; `-scenarios` takes names and shell patterns.\n\n")
	b.WriteString("## Results\n\n")
	b.WriteString(strings.ReplaceAll(resultTables(results), "### ", "### Scenario "))
	b.WriteString("\nThe errors column is the median per round, with the total over all rounds in parentheses when it differs.\n\n")
	b.WriteString("## All rounds\n\n")
	b.WriteString(roundsTable(ms))
	return b.String()
}

// writeReport writes the report, creating its directory if needed.
func writeReport(path, text string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
