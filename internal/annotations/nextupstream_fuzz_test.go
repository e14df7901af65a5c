package annotations

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParseNextUpstream(f *testing.F) {
	for _, s := range []string{"error timeout", "error timeout http_502", "off", " off ", "off error", "http_500 http_500",
		"non_idempotent", "error\ttimeout\nhttp_404", "", " ", "http_501", "ERROR", "error,timeout", "http_429 non_idempotent invalid_header"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		on, err := ParseNextUpstream(s)
		if err != nil {
			if on.Conditions != nil || on.NonIdempotent {
				t.Errorf("ParseNextUpstream(%q) = %+v with error %v", s, on, err)
			}
			return
		}
		words := strings.Fields(s)
		if slices.Contains(words, "off") && (len(words) != 1 || len(on.Conditions) != 0 || on.NonIdempotent) {
			t.Errorf("ParseNextUpstream(%q) = %+v: off must stand alone and turn everything off", s, on)
		}
		if !slices.IsSorted(on.Conditions) || len(slices.Compact(slices.Clone(on.Conditions))) != len(on.Conditions) {
			t.Errorf("ParseNextUpstream(%q) = %v: not sorted and unique", s, on.Conditions)
		}
		for _, c := range on.Conditions {
			if !slices.Contains(NextUpstreamConditions, c) || !slices.Contains(words, c) {
				t.Errorf("ParseNextUpstream(%q): condition %q is unknown or not in the input", s, c)
			}
		}
		for _, w := range words {
			if w != "off" && w != "non_idempotent" && !slices.Contains(on.Conditions, w) {
				t.Errorf("ParseNextUpstream(%q): word %q was dropped", s, w)
			}
		}
		if on.NonIdempotent != slices.Contains(words, "non_idempotent") {
			t.Errorf("ParseNextUpstream(%q): NonIdempotent = %v", s, on.NonIdempotent)
		}
		// The canonical form parses to the same value.
		canon := slices.Clone(on.Conditions)
		if on.NonIdempotent {
			canon = append(canon, "non_idempotent")
		}
		if len(canon) == 0 {
			canon = []string{"off"}
		}
		again, err := ParseNextUpstream(strings.Join(canon, " "))
		if err != nil || !slices.Equal(again.Conditions, on.Conditions) || again.NonIdempotent != on.NonIdempotent {
			t.Errorf("ParseNextUpstream(%q) = %+v, whose canonical form re-parses as %+v, %v", s, on, again, err)
		}
	})
}
