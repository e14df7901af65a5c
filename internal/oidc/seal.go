package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cookies are sealed with AES-256-GCM: base64url(nonce || ciphertext).
// The plaintext starts with the expiry (Unix seconds, 8 bytes) so that a
// copied cookie stops working when it should, and the cookie's name is
// the additional data, so that a sealed value cannot be moved to another
// cookie (a state cookie replayed as a session, say).

// chunkSize is the largest value one cookie carries: browsers keep about
// 4096 bytes per cookie, name and attributes included.
const chunkSize = 3800

// maxChunks bounds how many chunks are read back, so that a client cannot
// make Strait concatenate unbounded data.
const maxChunks = 8

var (
	errExpired  = errors.New("expired")
	errTampered = errors.New("not sealed with this key, or altered")
)

// sealer encrypts and authenticates cookie values with one key.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("the cookie key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns the cookie value for data under name, valid until exp.
func (s *sealer) seal(name string, data []byte, exp time.Time) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+8+len(data)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), uint64(exp.Unix()))
	plain = append(plain, data...)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name)))
}

// open returns the data sealed under name, refusing an altered, foreign
// or expired value.
func (s *sealer) open(name, value string, now time.Time) ([]byte, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize()+8+s.aead.Overhead() {
		return nil, errTampered
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return nil, errTampered
	}
	if exp := int64(binary.BigEndian.Uint64(plain)); now.Unix() >= exp {
		return nil, errExpired
	}
	return plain[8:], nil
}

// chunkName is the name of the i-th chunk of a cookie.
func chunkName(name string, i int) string { return name + "_" + strconv.Itoa(i) }

// readChunked returns a cookie's value: the cookie itself, or its chunks
// <name>_0, <name>_1, ... joined in order.
func readChunked(r *http.Request, name string) (string, bool) {
	if c, err := r.Cookie(name); err == nil {
		return c.Value, true
	}
	var b strings.Builder
	for i := 0; i < maxChunks; i++ {
		c, err := r.Cookie(chunkName(name, i))
		if err != nil {
			break
		}
		b.WriteString(c.Value)
	}
	return b.String(), b.Len() > 0
}

// cookieAttrs are the attributes of every cookie Strait sets for a
// session.
type cookieAttrs struct {
	secure bool
	maxAge int // seconds; -1 deletes
}

func newCookie(name, value string, a cookieAttrs) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: a.maxAge, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode}
}

// writeChunked sets a cookie, split into chunks when the value is too
// large for one, and deletes the cookies of an earlier layout the request
// still carries (the unchunked one, or surplus chunks).
func writeChunked(w http.ResponseWriter, r *http.Request, name, value string, a cookieAttrs) {
	if len(value) <= chunkSize {
		http.SetCookie(w, newCookie(name, value, a))
		clearChunks(w, r, name, 0, a.secure)
		return
	}
	n := 0
	for i := 0; i < len(value); i += chunkSize {
		http.SetCookie(w, newCookie(chunkName(name, n), value[i:min(i+chunkSize, len(value))], a))
		n++
	}
	clearChunks(w, r, name, n, a.secure)
	if _, err := r.Cookie(name); err == nil {
		http.SetCookie(w, newCookie(name, "", cookieAttrs{secure: a.secure, maxAge: -1}))
	}
}

// clearChunks deletes the chunks of name from the from-th on that the
// request carries.
func clearChunks(w http.ResponseWriter, r *http.Request, name string, from int, secure bool) {
	for i := from; i < maxChunks; i++ {
		if _, err := r.Cookie(chunkName(name, i)); err != nil {
			return
		}
		http.SetCookie(w, newCookie(chunkName(name, i), "", cookieAttrs{secure: secure, maxAge: -1}))
	}
}

// clearCookie deletes a cookie and all its chunks.
func clearCookie(w http.ResponseWriter, r *http.Request, name string, secure bool) {
	http.SetCookie(w, newCookie(name, "", cookieAttrs{secure: secure, maxAge: -1}))
	for i := 0; i < maxChunks; i++ {
		if _, err := r.Cookie(chunkName(name, i)); err != nil {
			return
		}
		http.SetCookie(w, newCookie(chunkName(name, i), "", cookieAttrs{secure: secure, maxAge: -1}))
	}
}

// isSessionCookie reports whether a cookie name belongs to the session or
// login state of the cookie named name; such cookies are never sent
// upstream.
func isSessionCookie(cookie, name string) bool {
	rest, ok := strings.CutPrefix(cookie, name)
	if !ok {
		return false
	}
	if rest == "" || strings.HasPrefix(rest, stateSuffix) {
		return true
	}
	if d, ok := strings.CutPrefix(rest, "_"); ok {
		_, err := strconv.Atoi(d)
		return err == nil
	}
	return false
}

// stateSuffix starts the names of login-state cookies.
const stateSuffix = "_state_"
