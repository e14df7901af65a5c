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
	errors      float64 // median errors per round
	totalErrors uint64  // errors over all rounds, so a single bad round still shows
	cpuPerReq   float64 // µs
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
		var rps, p50, p99, errs, cpu []float64
		row := summary{proxy: p}
		for _, m := range ms {
			if m.proxy != p {
				continue
			}
			row.rounds++
			rps = append(rps, m.load.RPS)
			p50 = append(p50, float64(m.load.P50))
			p99 = append(p99, float64(m.load.P99))
			errs = append(errs, float64(m.load.Errors()))
			cpu = append(cpu, m.cpuPerRequest())
			row.totalErrors += m.load.Errors()
		}
		if row.rounds == 0 {
			continue
		}
		row.rps = median(rps)
		row.p50 = time.Duration(median(p50))
		row.p99 = time.Duration(median(p99))
		row.errors = median(errs)
		row.cpuPerReq = median(cpu)
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

// summaryTable renders rows as a Markdown table.
func summaryTable(rows []summary) string {
	var b strings.Builder
	b.WriteString("| proxy | requests/s | p50 | p99 | errors | CPU µs/req | ratio to nginx CPU |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %.2f | %s |\n",
			r.proxy, r.rps, formatLatency(r.p50), formatLatency(r.p99), formatErrors(r), r.cpuPerReq, formatRatio(r.ratio))
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
		b.WriteString(summaryTable(res.rows))
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
	b.WriteString("| scenario | round | proxy | requests | requests/s | p50 | p99 | errors | CPU s | proxy core busy | CPU µs/req |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %.0f | %s | %s | %d | %.2f | %.0f%% | %.2f |\n",
			m.scenario, m.round, m.proxy, m.load.Requests, m.load.RPS, formatLatency(m.load.P50),
			formatLatency(m.load.P99), m.load.Errors(), m.cpu.Seconds(), 100*m.coreBusy(), m.cpuPerRequest())
	}
	return b.String()
}

// methodText is the report's method paragraph.
func methodText(o options) string {
	return fmt.Sprintf("Both proxies run on this one machine against the same backend, an nginx "+
		"instance (one worker) that answers every request with a fixed 3-byte body. The proxy under test "+
		"is pinned to CPU %[1]d and limited to one core: nginx with `worker_processes 1`, configured like "+
		"ingress-nginx (keepalive upstream pool of 64, HTTP/1.1 upstream, the ingress-nginx request headers, "+
		"no access log), and Strait with `GOMAXPROCS=1`, fed an equivalent Service, EndpointSlice and Ingress "+
		"(and a ConfigMap with `disable-access-log`) "+
		"from a manifests directory. wrk (one thread) and the backend are pinned to CPU %[2]d, so the proxy's "+
		"core does nothing but proxy. Each measured run is preceded by an unmeasured %[3]v warm-up; rounds "+
		"alternate which proxy goes first, and every figure below is the median over %[4]d rounds. CPU per "+
		"request is the user plus system time the proxy's processes (nginx master and worker; Strait's one "+
		"process) accumulated in /proc/<pid>/stat during the measured run, divided by the requests wrk "+
		"completed in it. wrk runs closed-loop (each connection sends its next request when the previous "+
		"answer arrives), so requests/s and latency are bounded by whichever core saturates first, the "+
		"proxy's or the one wrk and the backend share; the per-round table's \"proxy core busy\" (proxy "+
		"CPU time over wall time) tells which. CPU per request does not depend on that and is the cost "+
		"figure to compare.",
		proxyCPU, loadCPU, warmup, o.rounds)
}

// renderReport renders the Markdown report written by -out.
func renderReport(info machineInfo, o options, results []scenarioResult, ms []measurement) string {
	var b strings.Builder
	b.WriteString("# Strait vs nginx: CPU per proxied request\n\n")
	b.WriteString("<!-- Generated by `go run ./bench`; rerun it rather than editing by hand. -->\n\n")
	fmt.Fprintf(&b, "Measured %s.\n\n", info.date.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("## Method\n\n" + methodText(o) + "\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d logical CPUs\n", info.cpuModel, info.cpus)
	fmt.Fprintf(&b, "- Kernel: %s\n", info.kernel)
	fmt.Fprintf(&b, "- nginx: %s (Debian package)\n", info.nginx)
	fmt.Fprintf(&b, "- wrk: %s\n", info.wrk)
	fmt.Fprintf(&b, "- Go: %s\n", info.goVersion)
	fmt.Fprintf(&b, "- Strait: %s\n\n", info.strait)
	b.WriteString("## Reproduce\n\nFrom the repository root (installs nginx and wrk with apt-get if missing; needs root for that and at least 2 CPUs):\n\n")
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", o.reproduceCommand())
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
