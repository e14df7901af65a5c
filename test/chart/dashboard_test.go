package chart

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// dashboardMetrics returns the metric names the dashboard may use, the ones
// Strait exports on /metrics, with the series names each family has in
// Prometheus: a counter or gauge its own name, a histogram _bucket, _sum
// and _count, a summary its own name (quantiles), _sum and _count.
// Metrics named process_* and go_* (Go's collectors) are allowed besides.
func dashboardMetrics() map[string]string {
	families := dashboardFamilies()
	series := map[string]string{} // series name -> family
	for name, typ := range families {
		switch typ {
		case "histogram":
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				series[name+s] = name
			}
		case "summary":
			for _, s := range []string{"", "_sum", "_count"} {
				series[name+s] = name
			}
		default:
			series[name] = name
		}
	}
	return series
}

// PromQL pieces that are not metric names.
var (
	promStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\[\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promTokens   = regexp.MustCompile(`\$\w+|\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*|[a-zA-Z_:][a-zA-Z0-9_:]*`)
	labelValues  = regexp.MustCompile(`^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)
)

// isPromKeyword reports whether a word is a PromQL keyword or operator
// (neither a function nor a metric).
func isPromKeyword(word string) bool {
	switch strings.ToLower(word) {
	case "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2":
		return true
	}
	return false
}

// metricNames returns the metric names a PromQL expression (or a Grafana
// label_values query) reads: identifiers outside label matchers, strings,
// ranges and grouping clauses that are not keywords, numbers, variables or
// function calls.
func metricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		expr = m[1]
	}
	s := promStrings.ReplaceAllString(expr, " ")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range promTokens.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if tok[0] == '$' || (tok[0] >= '0' && tok[0] <= '9') || isPromKeyword(tok) {
			continue
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or an aggregation
		}
		names = append(names, tok)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (ingress) (rate(nginx_ingress_controller_requests{status!~"5..",ingress=~"$ingress"}[$__rate_interval]))`: {"nginx_ingress_controller_requests"},
		`histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="}"}[5m]))) / on(pod) b offset 1h`:                         {"a_bucket", "b"},
		`time() - max(foo_timestamp_seconds)`: {"foo_timestamp_seconds"},
		`label_values(nginx_ingress_controller_requests{controller_namespace=~"$namespace"}, ingress)`: {"nginx_ingress_controller_requests"},
		`sum without (instance) (rate(nginx_requests_total[1m])) > 1e+03`:                              {"nginx_requests_total"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// dashboardPanel is the part of a Grafana panel the test reads.
type dashboardPanel struct {
	ID      int              `json:"id"`
	Type    string           `json:"type"`
	Title   string           `json:"title"`
	Panels  []dashboardPanel `json:"panels"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

// TestDashboard parses dashboards/strait.json and checks that every panel
// queries something, only by metric names Strait exports, and that every
// one of those families is shown somewhere.
func TestDashboard(t *testing.T) {
	var dash struct {
		Title      string           `json:"title"`
		UID        string           `json:"uid"`
		Panels     []dashboardPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	b := readFile(t, chartDir(t)+"/dashboards/strait.json")
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("dashboards/strait.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("dashboard title %q, uid %q: want both", dash.Title, dash.UID)
	}
	allowed := dashboardMetrics()
	used := map[string]bool{}
	check := func(where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %q reads no metric", where, expr)
		}
		for _, n := range names {
			switch fam, ok := allowed[n]; {
			case ok:
				used[fam] = true
			case strings.HasPrefix(n, "process_"), strings.HasPrefix(n, "go_"):
				used[n[:strings.Index(n, "_")+1]] = true
			default:
				t.Errorf("%s: %q reads %s, which Strait does not export", where, expr, n)
			}
		}
	}
	ids := map[int]bool{}
	var walk func(ps []dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				check("panel "+p.Title+" query "+q.RefID, q.Expr)
			}
		}
	}
	walk(dash.Panels)
	if len(ids) < 10 {
		t.Errorf("%d panels, want the dashboard's full set", len(ids))
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if err := json.Unmarshal(v.Query, &s); err != nil {
				t.Fatalf("variable %s: query %s", v.Name, v.Query)
			}
			q.Query = s
		}
		check("variable "+v.Name, q.Query)
	}
	var missing []string
	for _, fam := range allowed {
		if !used[fam] {
			missing = append(missing, fam)
		}
	}
	for _, prefix := range []string{"process_", "go_"} {
		if !used[prefix] {
			missing = append(missing, prefix+"*")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard shows nothing of %v", slices.Compact(missing))
	}
}

// dashboardFamilies are the metric families the dashboard may read, with
// their types; TestDashboardMetricsServed checks them against a running
// Strait.
func dashboardFamilies() map[string]string {
	return map[string]string{
		"nginx_ingress_controller_requests":                                        "counter",
		"nginx_ingress_controller_request_duration_seconds":                        "histogram",
		"nginx_ingress_controller_response_size":                                   "histogram",
		"nginx_ingress_controller_request_size":                                    "histogram",
		"nginx_ingress_controller_ingress_upstream_latency_seconds":                "summary",
		"nginx_ingress_controller_config_last_reload_successful":                   "gauge",
		"nginx_ingress_controller_config_last_reload_successful_timestamp_seconds": "gauge",
		"strait_generations_total":                                                 "counter",
		"strait_generation_build_seconds":                                          "histogram",
		"strait_object_problems":                                                   "gauge",
		"strait_upstream_ejections_total":                                          "counter",
	}
}
