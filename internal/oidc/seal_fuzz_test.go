package oidc

import (
	"testing"
	"time"
)

// FuzzOpenCookie checks that no cookie value a client can send opens to
// anything but what was sealed with the key, and that none panics.
//
//	go test ./internal/oidc -run XXX -fuzz FuzzOpenCookie -fuzztime 20s
func FuzzOpenCookie(f *testing.F) {
	s, err := newSealer(testKey(9))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	good := s.seal("c", []byte(`{"i":"x"}`), now.Add(time.Hour))
	for _, v := range []string{good, good[:len(good)-1], "", "A", "====", good + "A"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.open("c", v, now)
		// Only this plaintext is ever sealed with the key (by each fuzz
		// process, under its own nonce).
		if err == nil && string(got) != `{"i":"x"}` {
			t.Errorf("value %q opened to %q", v, got)
		}
	})
}
