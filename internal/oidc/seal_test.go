package oidc

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealRefusesTamperedForeignAndExpired(t *testing.T) {
	s, err := newSealer(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	v := s.seal("sess", []byte("hello"), now.Add(time.Minute))
	if got, err := s.open("sess", v, now); err != nil || string(got) != "hello" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := s.open("sess", v, now.Add(time.Minute)); !errors.Is(err, errExpired) {
		t.Errorf("at expiry: %v, want expired", err)
	}
	// Every single-byte change of the sealed value is refused.
	raw := []byte(v)
	for i := range raw {
		alt := append([]byte(nil), raw...)
		alt[i] ^= 0x01
		if _, err := s.open("sess", string(alt), now); err == nil {
			t.Fatalf("altered byte %d accepted", i)
		}
	}
	if _, err := s.open("other", v, now); !errors.Is(err, errTampered) {
		t.Errorf("under another cookie name: %v, want refused", err)
	}
	other, _ := newSealer(testKey(2))
	if _, err := other.open("sess", v, now); !errors.Is(err, errTampered) {
		t.Errorf("with another key: %v, want refused", err)
	}
	for _, junk := range []string{"", "abc", strings.Repeat("A", 200), "!!!"} {
		if _, err := s.open("sess", junk, now); err == nil {
			t.Errorf("junk %q accepted", junk)
		}
	}
	if _, err := newSealer(testKey(1)[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestChunkedCookies(t *testing.T) {
	big := strings.Repeat("x", 2*chunkSize+100)
	rec := httptest.NewRecorder()
	writeChunked(rec, httptest.NewRequest("GET", "/", nil), "s", big, cookieAttrs{secure: true, maxAge: 60})
	cs := rec.Result().Cookies()
	if len(cs) != 3 || cs[0].Name != "s_0" || cs[2].Name != "s_2" {
		t.Fatalf("cookies %v, want s_0..s_2", names(cs))
	}
	for _, c := range cs {
		if len(c.Value) > chunkSize || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("chunk %s: len %d, attributes %+v", c.Name, len(c.Value), c)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range cs {
		r.AddCookie(c)
	}
	if got, ok := readChunked(r, "s"); !ok || got != big {
		t.Fatalf("read back %d bytes, ok %v", len(got), ok)
	}
	// A smaller value replaces the chunks: they are deleted.
	rec = httptest.NewRecorder()
	writeChunked(rec, r, "s", "small", cookieAttrs{maxAge: 60})
	got := map[string]int{}
	for _, c := range rec.Result().Cookies() {
		got[c.Name] = c.MaxAge
	}
	if got["s"] != 60 || got["s_0"] != -1 || got["s_1"] != -1 || got["s_2"] != -1 {
		t.Errorf("after shrinking: %v", got)
	}
	// A missing chunk breaks the value, which then fails to open.
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cs[0])
	r.AddCookie(cs[2])
	if got, _ := readChunked(r, "s"); got == big {
		t.Error("a value with a missing chunk read back whole")
	}
}

func TestIsSessionCookie(t *testing.T) {
	for name, want := range map[string]bool{
		"_s": true, "_s_0": true, "_s_12": true, "_s_state_abc": true,
		"_sx": false, "_s_x": false, "other": false, "_s_": false, "x_s": false,
	} {
		if got := isSessionCookie(name, "_s"); got != want {
			t.Errorf("isSessionCookie(%q) = %v", name, got)
		}
	}
}

func names(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}
