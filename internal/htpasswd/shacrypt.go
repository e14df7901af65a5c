package htpasswd

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt round limits. Fewer rounds than the minimum are raised to it,
// as glibc and musl do; more than the maximum are refused, as musl (the C
// library of ingress-nginx's image) does, since every wrong password would
// cost that many hash rounds.
const (
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 9999999
	shaCryptDefaultRounds = 5000
)

// shaCrypt is Ulrich Drepper's SHA-crypt: $5$ (SHA-256) and $6$ (SHA-512).
type shaCrypt struct {
	is512  bool
	rounds int
	salt   string
	// sum is the encoded digest after the last $.
	sum string
}

func parseSHACrypt(h string, is512 bool) (Verifier, error) {
	magic, sumLen := "$5$", 43
	if is512 {
		magic, sumLen = "$6$", 86
	}
	bad := errors.New(magic + " hash must be " + magic + "[rounds=N$]<salt of up to 16 characters>$<" + strconv.Itoa(sumLen) + " characters>")
	s := &shaCrypt{is512: is512, rounds: shaCryptDefaultRounds}
	rest := h[len(magic):]
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, found := strings.Cut(r, "$")
		n, err := strconv.Atoi(num)
		if !found || err != nil || n < 0 || num != strconv.Itoa(n) {
			return nil, bad
		}
		if n > shaCryptMaxRounds {
			return nil, errors.New(magic + " hash has more than " + strconv.Itoa(shaCryptMaxRounds) + " rounds")
		}
		s.rounds, rest = max(n, shaCryptMinRounds), after
	}
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok || len(salt) > 16 || len(sum) != sumLen || !isCryptB64(sum) {
		return nil, bad
	}
	s.salt, s.sum = salt, sum
	return s, nil
}

func (s *shaCrypt) Verify(password []byte) bool {
	got := shaCryptSum(password, []byte(s.salt), s.rounds, s.is512)
	return subtle.ConstantTimeCompare(got, []byte(s.sum)) == 1
}

// The byte order of the final encoding, three bytes per four characters.
var (
	sha256Order = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
	sha512Order = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
)

// shaCryptSum returns the encoded digest (43 or 86 characters).
func shaCryptSum(pw, salt []byte, rounds int, is512 bool) []byte {
	newHash := sha256.New
	if is512 {
		newHash = sha512.New
	}
	// repeat writes src cyclically until n bytes are written.
	repeat := func(h hash.Hash, src []byte, n int) {
		for ; n > len(src); n -= len(src) {
			h.Write(src)
		}
		h.Write(src[:n])
	}

	b := newHash()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	bSum := b.Sum(nil)

	a := newHash()
	a.Write(pw)
	a.Write(salt)
	repeat(a, bSum, len(pw))
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(bSum)
		} else {
			a.Write(pw)
		}
	}
	aSum := a.Sum(nil)

	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	p := make([]byte, 0, len(pw))
	for dpSum := dp.Sum(nil); len(p) < len(pw); {
		p = append(p, dpSum[:min(len(dpSum), len(pw)-len(p))]...)
	}

	ds := newHash()
	for range 16 + int(aSum[0]) {
		ds.Write(salt)
	}
	s := ds.Sum(nil)[:len(salt)]

	c := cryptRounds(newHash(), rounds, p, s, aSum)

	if !is512 {
		out := make([]byte, 0, 43)
		for _, g := range sha256Order {
			out = appendB64(out, uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
		}
		return appendB64(out, uint32(c[31])<<8|uint32(c[30]), 3)
	}
	out := make([]byte, 0, 86)
	for _, g := range sha512Order {
		out = appendB64(out, uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
	}
	return appendB64(out, uint32(c[63]), 2)
}
