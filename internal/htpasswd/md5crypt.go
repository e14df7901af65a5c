package htpasswd

import (
	"crypto/md5" //nolint:gosec // MD5-crypt is defined with MD5.
	"crypto/subtle"
	"errors"
	"hash"
	"strings"
)

// md5Crypt is Poul-Henning Kamp's MD5-crypt ($1$) and Apache's variant of
// it, which differs only in its magic string ($apr1$).
type md5Crypt struct {
	magic, salt string
	// sum is the encoded digest, the 22 characters after the salt.
	sum string
}

func parseMD5Crypt(hash, magic string) (Verifier, error) {
	rest := hash[len(magic):]
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok || len(salt) > 8 || len(sum) != 22 || !isCryptB64(sum) || strings.Contains(salt, "$") {
		return nil, errors.New(magic + " hash must be " + magic + "<salt of up to 8 characters>$<22 characters>")
	}
	return &md5Crypt{magic: magic, salt: salt, sum: sum}, nil
}

func (m *md5Crypt) Verify(password []byte) bool {
	got := md5CryptSum(password, []byte(m.magic), []byte(m.salt))
	return subtle.ConstantTimeCompare(got, []byte(m.sum)) == 1
}

// md5CryptSum returns the 22-character encoded digest.
func md5CryptSum(pw, magic, salt []byte) []byte {
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write(magic)
	ctx.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	// The original C code writes a byte of a zeroed buffer for each set
	// bit of the length, the password's first byte for each clear one.
	for n := len(pw); n != 0; n >>= 1 {
		if n&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)

	// A thousand rounds, to slow brute force down.
	final = cryptRounds(md5.New(), 1000, pw, salt, final)

	out := make([]byte, 0, 22)
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = appendB64(out, uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	return appendB64(out, uint32(final[11]), 2)
}

// cryptRounds is the strengthening loop MD5-crypt and SHA-crypt share:
// each round hashes the key, the salt and the last sum in an order that
// depends on the round number.
func cryptRounds(h hash.Hash, rounds int, key, salt, sum []byte) []byte {
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(key)
		} else {
			h.Write(sum)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(key)
		}
		if i&1 != 0 {
			h.Write(sum)
		} else {
			h.Write(key)
		}
		sum = h.Sum(sum[:0])
	}
	return sum
}
