package annotations

import (
	"slices"
	"testing"
)

func TestParseStatusListCases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"404", []int{404}},
		{"503,404, 404 ,", []int{404, 503}},
		{"400,599", []int{400, 599}},
		{"399", nil}, {"600", nil}, {"30x", nil}, {"404 503", nil}, {",", nil}, {"0404", nil},
	} {
		got, err := ParseStatusList(tc.in)
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.want != nil) {
			t.Errorf("ParseStatusList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseServiceName(t *testing.T) {
	for in, ok := range map[string]bool{
		"errors": true, " custom-errors-2 ": true, "a": true,
		"Errors": false, "2errors": false, "errors-": false, "err_ors": false, "ns/errors": false, "": false,
		"a23456789012345678901234567890123456789012345678901234567890123":  true,
		"a234567890123456789012345678901234567890123456789012345678901234": false,
	} {
		if _, err := parseServiceName(in); (err == nil) != ok {
			t.Errorf("parseServiceName(%q): error %v, want ok=%v", in, err, ok)
		}
	}
}

func TestParseServerAliasesCases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"A.test, b.test,a.test", []string{"a.test", "b.test"}},
		{"*.x.test", []string{"*.x.test"}},
		{`~^www\d+\.test$`, []string{`~^www\d+\.test$`}},
		{"a.*.test", nil}, {"~(", nil}, {"a_b.test", nil}, {"a..test", nil}, {"-a.test", nil}, {",", nil}, {"host:80", nil},
	} {
		got, err := ParseServerAliases(tc.in)
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.want != nil) {
			t.Errorf("ParseServerAliases(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
