package htpasswd

import (
	"strings"
	"testing"
)

// Known answers: generated with openssl passwd (-apr1, -1, -5, -6),
// htpasswd (-B, -s, -m) and Python's crypt (SHA-crypt with rounds=), plus
// the bcrypt vectors of Openwall's crypt_blowfish.
var known = []struct {
	hash, password string
}{
	{"{PLAIN}secret", "secret"},
	{"{PLAIN}", ""},
	{"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"},
	{"{SSHA}QxWRhccNco81WkE5NvgyzxlVKSQBAgMEc2FsdA==", "secret"},
	{"$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0", "secret"},
	{"$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.", ""},
	{"$apr1$x.y/Z9$XDe8uEQvERHtWDzfsO4lQ.", long},
	{"$apr1$enaMh3vq$05iSJ8r/zRR.QFoQly7YG1", "secret"},
	{"$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret"},
	{"$1$ab$rn6aQS/o7141mj179E/zA.", ""},
	{"$1$x.y/Z9$gUR09/r7lTaXx86DO5C2z1", long},
	{"$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret"},
	{"$5$x.y/Z9$F0Km9DCqTI9WSihMiwFyWxr9kdeAxX97qRmw3227nMA", long},
	{"$5$sixteencharsaltX$tyKiPLyLUl8Ywe3E306i4JqIqPND.DQoXdm/1IOo3t.", "pw"},
	{"$5$cXZNaB99p0LugmQT$hMFfdIC5UfMA8kJEcWEGK/SrWY4ISAEOcVbUWM6l4V2", "secret"},
	{"$5$rounds=1000$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6", "pw"},
	{"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "secret"},
	{"$6$x.y/Z9$NcNfJZiOkhVPWcuu/OHXhy4qRMbWj0Lao82upA0S1MOWVoBSChNnS2vL.UBlKv87bIxWrMktHbu8qV3G7enlD1", long},
	{"$6$sixteencharsaltX$jyC88cHWSD7PMdbFBmhuBBZfpDCFRCzKPzyleq9J1NulB.o.hixRo9pUYc3hk7aBqZQAehI9nd1FebtwloQX4/", "pw"},
	{"$6$IV15J2a8zkoK3tC0$EGs7e5qRwAxx02NOBaHn3OEP4Wi2SX7OKeVnP3WiBOJ5dyValO94TCOBun4RI19Hv9Y9JfBwkIJ4Y6igmtu95.", "secret"},
	{"$6$rounds=1234$abc$XqYbmoQGQJNpgo84CG21MP5uLQ40lQ0wvzjdHGtapstLfbwe/k/eiK7kIj485M6i4AtmYHzRT1qi/QlZQZNdo.", "pw"},
	{"$2y$05$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.jG", "secret"},
	{"$2y$04$TXM.rEnw9Fc7twRl5Avpv.2xe3Brtd6zCG/gx8SihBxJV2ec7hYxi", ""},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"},
	{"$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""},
	{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
}

const long = "a much longer password that is over sixteen bytes and more than 32 and 64 too, really quite long indeed"

func TestKnownAnswers(t *testing.T) {
	for _, k := range known {
		v, err := Parse(k.hash)
		if err != nil {
			t.Errorf("Parse(%q): %v", k.hash, err)
			continue
		}
		if !v.Verify([]byte(k.password)) {
			t.Errorf("%q does not verify %q", k.hash, k.password)
		}
		for _, wrong := range []string{k.password + "x", "x" + k.password, strings.ToUpper(k.password) + "!", ""} {
			if wrong != k.password && v.Verify([]byte(wrong)) {
				t.Errorf("%q verifies the wrong password %q", k.hash, wrong)
			}
		}
	}
}

func TestSHACryptRoundsLimits(t *testing.T) {
	// Fewer than 1000 rounds count as 1000 (glibc, musl).
	v, err := Parse("$5$rounds=10$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6")
	if err != nil || !v.Verify([]byte("pw")) {
		t.Errorf("rounds=10 should verify as rounds=1000: %v", err)
	}
	if _, err := Parse("$5$rounds=10000000$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6"); err == nil {
		t.Error("rounds=10000000 accepted; musl refuses more than 9999999")
	}
}

func TestParseRejects(t *testing.T) {
	for _, h := range []string{
		"", "secret", "j89N81Gk9pA8w", // DES crypt (htpasswd -d)
		"{SHA}notbase64!", "{SHA}c2hvcnQ=", "{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
		"$apr1$saltsalt", "$apr1$toolongsalt$LrttParrLPdxvgutaSXWJ0", "$apr1$saltsalt$LrttParrLPdxvgutaSXWJ",
		"$1$saltsalt$9xy1btjgzLYfb7hivXtC/!", "$5$saltsalt$short", "$5$rounds=x$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6",
		"$5$rounds=-1$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6", "$5$rounds=01000$abc$zdUXQ3de2d3x/8MYX1t30oZjPfJThZR5heHeVDYi8j6",
		"$5$seventeencharsalt$tyKiPLyLUl8Ywe3E306i4JqIqPND.DQoXdm/1IOo3t.",
		"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO",
		"$2y$05$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.j", "$2y$99$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.jG",
		"$2x$05$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.jG", "$3$x", "$apr1$",
	} {
		if v, err := Parse(h); err == nil {
			t.Errorf("Parse(%q) = %T, want an error", h, v)
		}
	}
	_, err := Parse("j89N81Gk9pA8w")
	if err == nil || !strings.Contains(err.Error(), "DES") {
		t.Errorf("DES crypt error %v does not name DES", err)
	}
}

func TestParseFile(t *testing.T) {
	file := "# comment\n" +
		"alice:{PLAIN}one\r\n" +
		"\n" +
		"bob:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0:extra field\n" +
		"nocolon\n" +
		"carol:j89N81Gk9pA8w\n" +
		"alice:{PLAIN}two\n" +
		":{PLAIN}x\n" +
		"dave:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="
	entries, errs := ParseFile(file)
	var users []string
	for _, e := range entries {
		users = append(users, e.User+"="+e.Hash)
	}
	want := "alice={PLAIN}one bob=$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0 dave={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="
	if got := strings.Join(users, " "); got != want {
		t.Errorf("entries = %s, want %s", got, want)
	}
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
		if strings.Contains(e.Error(), "j89N81Gk9pA8w") {
			t.Errorf("error %q shows the hash", e)
		}
	}
	for i, want := range []string{"line 5: ", `line 6 (user "carol"): classic DES`, `line 7 (user "alice"): user listed again`, "line 8: empty user name"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
			t.Errorf("errors = %q, want [%d] to start with %q", lines, i, want)
		}
	}
}

func TestParseMap(t *testing.T) {
	entries, errs := ParseMap(map[string][]byte{
		"zed":    []byte("{PLAIN}z\n"),
		"amy":    []byte("$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
		"a:b":    []byte("{PLAIN}x"),
		"#c":     []byte("{PLAIN}x"),
		"broken": []byte("{PLAIN}a\nb"),
		"des":    []byte("j89N81Gk9pA8w"),
	})
	if len(entries) != 2 || entries[0].User != "amy" || entries[1].User != "zed" || entries[1].Hash != "{PLAIN}z" {
		t.Errorf("entries = %+v", entries)
	}
	if len(errs) != 4 {
		t.Errorf("errors = %v, want 4", errs)
	}
}
