package oidc

import (
	"testing"

	"github.com/straitgw/strait/internal/model"
)

func TestRulesAndHeaders(t *testing.T) {
	c, err := parseClaims([]byte(`{"sub":"u1","email":"a@example.com","email_verified":true,"groups":["dev","ops"],"level":3,"bad":"a\r\nX-Evil: 1","obj":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		groups []string
		rules  []model.ClaimRule
		want   bool
	}{
		{nil, nil, true},
		{[]string{"ops"}, nil, true},
		{[]string{"admins"}, nil, false},
		{nil, []model.ClaimRule{{Claim: "email_verified", Value: "true"}}, true},
		{nil, []model.ClaimRule{{Claim: "email_verified", Value: "false"}}, false},
		{nil, []model.ClaimRule{{Claim: "level", Value: "3"}, {Claim: "groups", Value: "dev"}}, true},
		{nil, []model.ClaimRule{{Claim: "missing", Value: "x"}}, false},
		{nil, []model.ClaimRule{{Claim: "obj", Value: "x"}}, false},
		{[]string{"dev"}, []model.ClaimRule{{Claim: "email_verified", Value: "false"}}, false},
	} {
		o := &model.OIDC{GroupsClaim: "groups", AllowedGroups: tc.groups, RequiredClaims: tc.rules}
		if got, why := admits(o, c); got != tc.want {
			t.Errorf("groups %v rules %v: admits = %v (%s), want %v", tc.groups, tc.rules, got, why, tc.want)
		}
	}
	for claim, want := range map[string]string{"email": "a@example.com", "groups": "dev,ops", "email_verified": "true", "level": "3", "bad": "aX-Evil: 1"} {
		if got, ok := headerValue(c, claim); !ok || got != want {
			t.Errorf("header of %s = %q, %v; want %q", claim, got, ok, want)
		}
	}
	for _, claim := range []string{"missing", "obj"} {
		if _, ok := headerValue(c, claim); ok {
			t.Errorf("claim %s gave a header", claim)
		}
	}
}
