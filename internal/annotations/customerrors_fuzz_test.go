package annotations

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Run one at a time, e.g.
//
//	go test ./internal/annotations -run XXX -fuzz FuzzParseStatusList -fuzztime 20s

func FuzzParseStatusList(f *testing.F) {
	for _, s := range []string{"404", "404,503", " 503 , 404 ,", "404,404", "399", "600", "4O4", "+404", "-404", "0404",
		"404;503", ",", "", "500,abc", "5xx", "１２３"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		codes, err := ParseStatusList(s)
		if err != nil {
			if codes != nil {
				t.Errorf("ParseStatusList(%q) = %v with error %v", s, codes, err)
			}
			return
		}
		if len(codes) == 0 || !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
			t.Fatalf("ParseStatusList(%q) = %v: not a sorted, non-empty set", s, codes)
		}
		for _, c := range codes {
			if c < 400 || c > 599 {
				t.Fatalf("ParseStatusList(%q) holds %d, outside 400-599", s, c)
			}
		}
		// Re-rendered, the list parses to the same codes.
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = strconv.Itoa(c)
		}
		if back, err := ParseStatusList(strings.Join(parts, ",")); err != nil || !slices.Equal(back, codes) {
			t.Errorf("ParseStatusList(%q) = %v, but re-parsing gives %v, %v", s, codes, back, err)
		}
	})
}

func FuzzParseServerAliases(f *testing.F) {
	for _, s := range []string{"a.test", "A.Test, b.test", "*.x.test", "a.*.test", "*", "*.", "~^www\\d+\\.test$", "~(", "~",
		"a..b", "-a.test", "a-.test", "a_b.test", "a.test,a.test", " , ", strings.Repeat("a", 64) + ".test", "xn--bcher-kva.test"} {
		f.Add(s)
	}
	label := regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseServerAliases(s)
		if err != nil {
			if names != nil {
				t.Errorf("ParseServerAliases(%q) = %v with error %v", s, names, err)
			}
			return
		}
		if len(names) == 0 {
			t.Fatalf("ParseServerAliases(%q): no names and no error", s)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("ParseServerAliases(%q): %q twice", s, n)
			}
			seen[n] = true
			if strings.HasPrefix(n, "~") {
				if _, err := regexp.Compile(n[1:]); err != nil {
					t.Errorf("ParseServerAliases(%q): regex %q does not compile: %v", s, n, err)
				}
				continue
			}
			// Every other name is a DNS name (a wildcard only as the whole
			// first label), so it can never carry configuration syntax.
			for i, l := range strings.Split(strings.TrimPrefix(n, "*."), ".") {
				if !label.MatchString(l) || len(l) > 63 {
					t.Errorf("ParseServerAliases(%q): %q has bad label %d %q", s, n, i, l)
				}
			}
			if back, err := ParseServerAliases(n); err != nil || !slices.Equal(back, []string{n}) {
				t.Errorf("ParseServerAliases(%q) gave %q, which re-parses as %v, %v", s, n, back, err)
			}
		}
	})
}
