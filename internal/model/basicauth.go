package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// BasicAuth is HTTP basic authentication against a list of users: a
// request without valid credentials gets 401 and a challenge for Realm,
// and the Authorization header of an accepted one is not sent upstream.
type BasicAuth struct {
	// Realm goes into WWW-Authenticate: Basic realm="<Realm>"; translate
	// admits no quote or control character in it.
	Realm string `json:"realm"`
	// Secret is the "<namespace>/<name>" the users come from.
	Secret string `json:"secret"`
	// Fingerprint is a hash of the users and their password hashes; it
	// shows in golden files and debug output instead of them, and makes
	// the model's hash change when they change.
	Fingerprint string `json:"fingerprint"`
	// Users are the users and their password hashes, sorted by name;
	// never encoded.
	Users []Credential `json:"-"`
}

// Credential is one user and the hash of its password, in one of the
// formats of internal/htpasswd.
type Credential struct {
	User string
	Hash string
}

// NewBasicAuth returns a BasicAuth with its fingerprint computed. users
// must be sorted by User.
func NewBasicAuth(realm, secret string, users []Credential) *BasicAuth {
	h := sha256.New()
	for _, u := range users {
		h.Write([]byte(u.User))
		h.Write([]byte{0})
		h.Write([]byte(u.Hash))
		h.Write([]byte{0})
	}
	return &BasicAuth{Realm: realm, Secret: secret, Fingerprint: hex.EncodeToString(h.Sum(nil))[:16], Users: users}
}
