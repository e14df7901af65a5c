package htpasswd

import (
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash is $2a$, $2b$ and $2y$ (htpasswd -B). Passwords are cut at 72
// bytes, as every bcrypt implementation does.
type bcryptHash struct{ hash []byte }

func parseBcrypt(h string) (Verifier, error) {
	// Cost checks the layout and the cost (4 to 31); the 53 characters of
	// salt and digest must follow.
	if _, err := bcrypt.Cost([]byte(h)); err != nil || len(h) != 60 || !isCryptB64(h[7:]) || h[6] != '$' {
		return nil, errors.New("bcrypt hash must be $2y$<cost 04-31>$<53 characters>")
	}
	return &bcryptHash{hash: []byte(h)}, nil
}

func (b *bcryptHash) Verify(password []byte) bool {
	// The comparison inside is constant-time.
	return bcrypt.CompareHashAndPassword(b.hash, password) == nil
}
