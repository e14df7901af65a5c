package htpasswd

import (
	"crypto/sha1" //nolint:gosec // {SHA} and {SSHA} are defined with SHA-1.
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// sha is {SHA} (base64 of the SHA-1 of the password) and {SSHA} (base64 of
// the SHA-1 of the password and a salt, then the salt).
type sha struct {
	digest []byte
	salt   []byte
}

func parseSHA(b64 string) (Verifier, error) {
	d, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(d) != sha1.Size {
		return nil, errors.New("{SHA} must be followed by the base64 of a 20-byte SHA-1 digest")
	}
	return &sha{digest: d}, nil
}

func parseSSHA(b64 string) (Verifier, error) {
	d, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(d) <= sha1.Size {
		return nil, errors.New("{SSHA} must be followed by the base64 of a 20-byte SHA-1 digest and a salt")
	}
	return &sha{digest: d[:sha1.Size], salt: d[sha1.Size:]}, nil
}

func (s *sha) Verify(password []byte) bool {
	h := sha1.New()
	h.Write(password)
	h.Write(s.salt)
	return subtle.ConstantTimeCompare(h.Sum(nil), s.digest) == 1
}
