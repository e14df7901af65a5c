package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestAllScenarios(t *testing.T) {
	all := allScenarios(5 * time.Second)
	want := "h1-c1-0b,h1-c1-1k,h1-c1-4k,h1-c16-0b,h1-c16-1k,h1-c16-4k,h1-c256-0b,h1-c256-1k,h1-c256-4k," +
		"h1-open-c16-0b,h2-tls-c16-m10-1k,tls13-new-conn-c16,ws-echo-c16-64b"
	if got := strings.Join(scenarioNames(all), ","); got != want {
		t.Errorf("scenarios = %s\nwant %s", got, want)
	}
	seen := map[string]bool{}
	for _, sc := range all {
		if sc.duration != 5*time.Second || sc.host != benchHost || sc.connections < 1 || sc.description == "" || sc.unit == "" {
			t.Errorf("%s incomplete: %+v", sc.name, sc)
		}
		if sc.rateOf != "" && !seen[sc.rateOf] {
			t.Errorf("%s takes its rate from %q, which does not run before it", sc.name, sc.rateOf)
		}
		seen[sc.name] = true
		if sc.kind == h2TLS && sc.streams < 1 {
			t.Errorf("%s has no streams", sc.name)
		}
	}
	if c := all[len(h1Connections)*len(responseBodies)-1]; c.connections != 256 || c.path != "/body/4k" {
		t.Errorf("last of the matrix = %+v", c)
	}
}

func TestSelectScenarios(t *testing.T) {
	all := allScenarios(time.Second)
	for spec, want := range map[string]string{
		"h1-c16-*":                  "h1-c16-0b,h1-c16-1k,h1-c16-4k",
		"ws-echo-c16-64b, h1-c1-0b": "h1-c1-0b,ws-echo-c16-64b",
		"h1-open-c16-0b":            "h1-c16-0b,h1-open-c16-0b",
		"*-4k,*-4k":                 "h1-c1-4k,h1-c16-4k,h1-c256-4k",
	} {
		got, err := selectScenarios(all, spec, false)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		if g := strings.Join(scenarioNames(got), ","); g != want {
			t.Errorf("%q selects %s, want %s", spec, g, want)
		}
	}
	if got, _ := selectScenarios(all, "all", false); len(got) != len(all) {
		t.Errorf("all selects %d of %d", len(got), len(all))
	}
	// With a fixed rate the open loop needs no reference run.
	if got, _ := selectScenarios(all, "h1-open-c16-0b", true); len(got) != 1 {
		t.Errorf("with a fixed rate: %v", scenarioNames(got))
	}
	for _, bad := range []string{"", "nope", "h1-c16-0b,nope", "[x"} {
		if _, err := selectScenarios(all, bad, false); err == nil {
			t.Errorf("selectScenarios(%q) succeeded", bad)
		}
	}
}

func TestOpenLoopRate(t *testing.T) {
	sc := scenario{name: "h1-open-c16-0b", rateOf: "h1-c16-0b"}
	ms := []measurement{
		{proxy: "nginx", scenario: "h1-c16-0b", load: loadResult{RPS: 30000}},
		{proxy: "nginx", scenario: "h1-c16-0b", load: loadResult{RPS: 10000}},
		{proxy: "nginx", scenario: "h1-c16-0b", load: loadResult{RPS: 32000}},
		{proxy: "strait", scenario: "h1-c16-0b", load: loadResult{RPS: 90000}},
		{proxy: "nginx", scenario: "h1-c1-0b", load: loadResult{RPS: 90000}},
	}
	if got, err := openLoopRate(sc, ms); err != nil || got != 15000 {
		t.Errorf("openLoopRate = %v, %v; want half the nginx median, 15000", got, err)
	}
	if _, err := openLoopRate(sc, ms[3:]); err == nil {
		t.Error("openLoopRate without nginx succeeded")
	}
	if _, err := openLoopRate(sc, []measurement{{proxy: "nginx", scenario: "h1-c16-0b"}}); err == nil {
		t.Error("openLoopRate from zero throughput succeeded")
	}
}

func TestAllocsPerRequest(t *testing.T) {
	m := measurement{mallocs: 3000, load: loadResult{Requests: 1000}}
	if got := m.allocsPerRequest(); got != 3 {
		t.Errorf("allocsPerRequest = %v", got)
	}
	m.mallocs = math.NaN()
	if got := m.allocsPerRequest(); !math.IsNaN(got) {
		t.Errorf("allocsPerRequest without a count = %v", got)
	}
	if got := formatAllocs(math.NaN()); got != "—" {
		t.Errorf("formatAllocs(NaN) = %q", got)
	}
}
