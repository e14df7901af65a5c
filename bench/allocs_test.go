package main

import "testing"

func TestParseMallocs(t *testing.T) {
	text := `# HELP go_memstats_mallocs_total Total number of heap objects allocated, both live and gc-ed.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total_extra 5
go_memstats_mallocs_total 1.234567e+06
go_memstats_frees_total 1.2e+06
`
	got, err := parseMallocs(text)
	if err != nil || got != 1234567 {
		t.Errorf("parseMallocs = %v, %v; want 1234567", got, err)
	}
	for _, bad := range []string{"", "go_memstats_frees_total 5\n", "go_memstats_mallocs_total many\n"} {
		if _, err := parseMallocs(bad); err == nil {
			t.Errorf("parseMallocs(%q) succeeded", bad)
		}
	}
}
