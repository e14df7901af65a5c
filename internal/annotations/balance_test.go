package annotations

import (
	"reflect"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

func TestParseHashBy(t *testing.T) {
	v := func(n model.HashVar, name string) model.HashPart { return model.HashPart{Var: n, Name: name} }
	lit := func(s string) model.HashPart { return model.HashPart{Literal: s} }
	for _, tc := range []struct {
		in   string
		want []model.HashPart
		bad  bool
	}{
		{in: "$request_uri", want: []model.HashPart{v(model.HashRequestURI, "")}},
		{in: "$remote_addr$host", want: []model.HashPart{v(model.HashRemoteAddr, ""), v(model.HashHost, "")}},
		{in: "${request_uri}-x", want: []model.HashPart{v(model.HashRequestURI, ""), lit("-x")}},
		{in: "a-$arg_User_id", want: []model.HashPart{lit("a-"), v(model.HashArg, "User_id")}},
		{in: "$http_X_Tenant", want: []model.HashPart{v(model.HashHeader, "x-tenant")}},
		{in: "$cookie_sid$binary_remote_addr", want: []model.HashPart{v(model.HashCookie, "sid"), v(model.HashRemoteAddr, "")}},
		{in: "$query_string$scheme$request_method", want: []model.HashPart{v(model.HashArgs, ""), v(model.HashScheme, ""), v(model.HashMethod, "")}},
		{in: "$uri-", want: []model.HashPart{v(model.HashURI, ""), lit("-")}},
		{in: "$foo", bad: true},
		{in: "$Request_uri", bad: true},
		{in: "$", bad: true},
		{in: "${request_uri", bad: true},
		{in: "${}", bad: true},
		{in: "$arg_", bad: true},
		{in: "$uri/x", bad: true},
		{in: "$uri;drop", bad: true},
		{in: "{x}", bad: true},
	} {
		h, err := ParseHashBy(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseHashBy(%q) = %+v, want an error", tc.in, h)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(h.Parts, tc.want) || h.Expr != tc.in {
			t.Errorf("ParseHashBy(%q) = %+v, %v; want %+v", tc.in, h, err, tc.want)
		}
	}
}

func TestBalanceValues(t *testing.T) {
	for _, tc := range []struct {
		a   Annotation
		ok  []string
		bad []string
	}{
		{&LoadBalance, []string{"round_robin", "ewma", "chash", "sticky_persistent"}, []string{"random", "EWMA", "least_conn"}},
		{&Affinity, []string{"cookie"}, []string{"ip", "Cookie"}},
		{&AffinityMode, []string{"balanced", "persistent"}, []string{"sticky"}},
		{&SessionCookieName, []string{"INGRESSCOOKIE", "route-1_a"}, []string{"a b", "a;b", "a=b"}},
		{&SessionCookiePath, []string{"/", "/app/x"}, []string{"app", "/a;b", "/a b"}},
		{&SessionCookieSameSite, []string{"None", "lax", "STRICT"}, []string{"Sometimes"}},
		{&SessionCookieMaxAge, []string{"0", "3600"}, []string{"1h", "-1"}},
		{&UpstreamHashBySubsetSize, []string{"1", "3"}, []string{"0", "x"}},
	} {
		for _, s := range tc.ok {
			if err := tc.a.CheckValue(s); err != nil {
				t.Errorf("%s %q: %v", tc.a.Describe().Name, s, err)
			}
		}
		for _, s := range tc.bad {
			if tc.a.CheckValue(s) == nil {
				t.Errorf("%s %q accepted", tc.a.Describe().Name, s)
			}
		}
	}
}
