package htpasswd

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // {SHA} is defined with SHA-1.
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Run one at a time, e.g.
//
//	go test ./internal/htpasswd -run XXX -fuzz FuzzParseFile -fuzztime 20s

func FuzzParseFile(f *testing.F) {
	for _, s := range []string{"", "a:{PLAIN}b", "# c\na:{PLAIN}b\r\nb:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=:x\n",
		"nocolon", ":", "a:", "a:b:c", "a:{PLAIN}1\na:{PLAIN}2", "a:j89N81Gk9pA8w", "\n\n\r\n#\n",
		"u:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0\nv:$5$rounds=1000$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, errs := ParseFile(s)
		seen := map[string]bool{}
		for _, e := range entries {
			if e.User == "" || strings.ContainsAny(e.User, ":\r\n") || strings.HasPrefix(e.User, "#") {
				t.Errorf("ParseFile(%q): bad user %q", s, e.User)
			}
			if seen[e.User] {
				t.Errorf("ParseFile(%q): user %q twice", s, e.User)
			}
			seen[e.User] = true
			if _, err := Parse(e.Hash); err != nil {
				t.Errorf("ParseFile(%q): entry %q with an unusable hash: %v", s, e.User, err)
			}
			// A usable line re-parses alone to the same entry.
			again, aerrs := ParseFile(e.User + ":" + e.Hash)
			if len(again) != 1 || again[0] != e || len(aerrs) != 0 {
				t.Errorf("ParseFile(%q): entry %+v re-parses as %+v, %v", s, e, again, aerrs)
			}
		}
		lines := strings.Count(s, "\n") + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > lines {
				t.Errorf("ParseFile(%q): error on line %d of %d", s, e.Line, lines)
			}
		}
		if len(entries)+len(errs) > lines {
			t.Errorf("ParseFile(%q): %d entries and %d errors for %d lines", s, len(entries), len(errs), lines)
		}
	})
}

// FuzzParse feeds arbitrary hashes to Parse and the verifiers it returns.
func FuzzParse(f *testing.F) {
	for _, k := range known {
		f.Add(k.hash, k.password)
	}
	f.Add("$5$rounds=999$$", "x")
	f.Add("$2y$31$", "x")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		v, err := Parse(hash)
		if err != nil {
			if v != nil {
				t.Errorf("Parse(%q) = %v with error %v", hash, v, err)
			}
			return
		}
		// Keep each run short: skip the verifiers made slow on purpose.
		switch x := v.(type) {
		case *shaCrypt:
			if x.rounds > 20000 {
				return
			}
		case *bcryptHash:
			if c, _ := bcrypt.Cost(x.hash); c > 6 {
				return
			}
		}
		if v.Verify([]byte(pw)) != v.Verify([]byte(pw)) {
			t.Errorf("%q: Verify(%q) is not deterministic", hash, pw)
		}
	})
}

func FuzzMD5Crypt(f *testing.F) {
	f.Add("secret", "saltsalt", true)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, pw, salt string, apr bool) {
		salt = cryptSalt(salt, 8)
		magic := "$1$"
		if apr {
			magic = "$apr1$"
		}
		h := magic + salt + "$" + string(md5CryptSum([]byte(pw), []byte(magic), []byte(salt)))
		roundTrip(t, h, pw)
	})
}

func FuzzSHACrypt(f *testing.F) {
	f.Add("secret", "saltsalt", false, uint16(0))
	f.Add("pw", "sixteencharsaltX", true, uint16(1234))
	f.Fuzz(func(t *testing.T, pw, salt string, is512 bool, rounds uint16) {
		salt = cryptSalt(salt, 16)
		r := max(int(rounds)%3000, shaCryptMinRounds)
		magic := "$5$"
		if is512 {
			magic = "$6$"
		}
		h := magic + "rounds=" + itoa(r) + "$" + salt + "$" + string(shaCryptSum([]byte(pw), []byte(salt), r, is512))
		roundTrip(t, h, pw)
	})
}

func FuzzSHA(f *testing.F) {
	f.Add("secret", []byte("salt"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, pw string, salt []byte) {
		d := sha1.Sum(append([]byte(pw), salt...))
		h := "{SSHA}" + base64.StdEncoding.EncodeToString(append(d[:], salt...))
		if len(salt) == 0 {
			h = "{SHA}" + base64.StdEncoding.EncodeToString(d[:])
		}
		roundTrip(t, h, pw)
		roundTrip(t, "{PLAIN}"+pw, pw)
	})
}

func FuzzBcrypt(f *testing.F) {
	f.Add("secret", byte('y'))
	f.Add("", byte('a'))
	f.Fuzz(func(t *testing.T, pw string, minor byte) {
		// bcrypt reads at most 72 bytes of key; with 71 the wrong
		// candidates below still differ within them.
		if len(pw) > 71 {
			pw = pw[:71]
		}
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		// htpasswd writes $2y$, other tools $2a$ or $2b$: the same hash.
		b[2] = "aby"[int(minor)%3]
		// bcrypt ends the key with a NUL and repeats it, so "" and "\x00"
		// are one key in every implementation: no NUL is appended here.
		roundTrip(t, string(b), pw, []byte(pw+"x"), []byte("x"+pw))
	})
}

// roundTrip checks that hash parses and verifies pw and none of wrongs
// (by default: pw with a byte added, pw upper-cased).
func roundTrip(t *testing.T, hash, pw string, wrongs ...[]byte) {
	t.Helper()
	v, err := Parse(hash)
	if err != nil {
		t.Fatalf("Parse(%q): %v", hash, err)
	}
	if !v.Verify([]byte(pw)) {
		t.Fatalf("%q does not verify %q", hash, pw)
	}
	if wrongs == nil {
		wrongs = [][]byte{append([]byte(pw), 0), []byte(pw + "x"), bytes.ToUpper([]byte(pw + "a"))}
	}
	for _, wrong := range wrongs {
		if string(wrong) != pw && v.Verify(wrong) {
			t.Fatalf("%q verifies %q as well as %q", hash, wrong, pw)
		}
	}
}

// cryptSalt turns s into a salt of at most n characters of the crypt
// alphabet.
func cryptSalt(s string, n int) string {
	var b []byte
	for i := 0; i < len(s) && len(b) < n; i++ {
		b = append(b, cryptB64[int(s[i])%64])
	}
	return string(b)
}

func itoa(n int) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
