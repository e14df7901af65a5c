// Package htpasswd reads the password files of nginx's auth_basic_user_file
// and verifies passwords against their hashes. The hash formats are those
// nginx accepts on the Alpine (musl) image of ingress-nginx: {PLAIN}, {SHA},
// {SSHA}, Apache's $apr1$, MD5-crypt $1$, SHA-crypt $5$ and $6$, and bcrypt
// $2a$, $2b$ and $2y$. Classic DES crypt is refused: it keeps only eight
// characters of a password and is broken by brute force.
//
// Files are parsed once per configuration generation into Verifiers; a
// request only runs the hash function. Every comparison of secret material
// takes constant time for inputs of equal length.
package htpasswd

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Verifier checks a password against one stored hash.
type Verifier interface {
	// Verify reports whether password matches the hash.
	Verify(password []byte) bool
}

// Entry is one user line of a password file.
type Entry struct {
	// User is the name before the first colon.
	User string
	// Hash is the stored password hash, as written.
	Hash string
}

// LineError is a line of a password file that cannot be used.
type LineError struct {
	// Line is the 1-based line number (0 for auth-map entries).
	Line int
	// User is the user the line is for, when it names one.
	User string
	// Err says what is wrong; it never includes the hash.
	Err error
}

func (e *LineError) Error() string {
	switch {
	case e.Line > 0 && e.User != "":
		return fmt.Sprintf("line %d (user %q): %v", e.Line, e.User, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	default:
		return fmt.Sprintf("user %q: %v", e.User, e.Err)
	}
}

// ParseFile reads an htpasswd file: one "user:hash" a line, blank lines and
// lines starting with # ignored, the hash ending at the next colon (as
// nginx reads it, so that "user:hash:comment" works). Entries come in file
// order; a user listed twice keeps its first line, which is the one nginx
// checks. Lines that cannot be used, including hashes in a format not
// supported, are returned as errors and left out of entries: those users
// cannot log in, and every other user can.
func ParseFile(data string) (entries []Entry, errs []*LineError) {
	seen := map[string]bool{}
	for i, line := range strings.Split(data, "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok {
			errs = append(errs, &LineError{Line: n, Err: errors.New(`no ":" between user and password hash`)})
			continue
		}
		hash, _, _ = strings.Cut(hash, ":")
		e := Entry{User: user, Hash: hash}
		if err := e.check(); err != nil {
			errs = append(errs, &LineError{Line: n, User: user, Err: err})
			continue
		}
		if seen[user] {
			errs = append(errs, &LineError{Line: n, User: user, Err: errors.New("user listed again; the first line is used")})
			continue
		}
		seen[user] = true
		entries = append(entries, e)
	}
	return entries, errs
}

// ParseMap reads ingress-nginx's auth-map layout: each key a user, its
// value the hash. One trailing newline of a value is ignored, as a file
// would end it. Entries come sorted by user.
func ParseMap(data map[string][]byte) (entries []Entry, errs []*LineError) {
	users := make([]string, 0, len(data))
	for u := range data {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		h := strings.TrimSuffix(strings.TrimSuffix(string(data[u]), "\n"), "\r")
		e := Entry{User: u, Hash: h}
		err := e.check()
		if err == nil && (strings.Contains(u, ":") || strings.HasPrefix(u, "#")) {
			// A file could not hold it, and nginx reads a file.
			err = errors.New(`a user name cannot contain ":" or start with "#"`)
		}
		if err != nil {
			errs = append(errs, &LineError{User: u, Err: err})
			continue
		}
		entries = append(entries, e)
	}
	return entries, errs
}

func (e *Entry) check() error {
	if e.User == "" {
		return errors.New("empty user name")
	}
	if strings.ContainsAny(e.User, "\r\n") || strings.ContainsAny(e.Hash, "\r\n:") {
		return errors.New("line break or colon inside the entry")
	}
	_, err := Parse(e.Hash)
	return err
}

// Parse compiles one stored hash into a Verifier.
func Parse(hash string) (Verifier, error) {
	switch {
	case strings.HasPrefix(hash, "{PLAIN}"):
		return newPlain(hash[len("{PLAIN}"):]), nil
	case strings.HasPrefix(hash, "{SHA}"):
		return parseSHA(hash[len("{SHA}"):])
	case strings.HasPrefix(hash, "{SSHA}"):
		return parseSSHA(hash[len("{SSHA}"):])
	case strings.HasPrefix(hash, "$apr1$"):
		return parseMD5Crypt(hash, "$apr1$")
	case strings.HasPrefix(hash, "$1$"):
		return parseMD5Crypt(hash, "$1$")
	case strings.HasPrefix(hash, "$5$"):
		return parseSHACrypt(hash, false)
	case strings.HasPrefix(hash, "$6$"):
		return parseSHACrypt(hash, true)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return parseBcrypt(hash)
	case hash == "":
		return nil, errors.New("empty password hash")
	case len(hash) == 13 && isCryptB64(hash):
		return nil, errors.New("classic DES crypt hashes are not supported (they use only 8 characters of the password); re-create the entry with htpasswd -B (bcrypt)")
	}
	return nil, errors.New("password hash format not recognised (supported: {PLAIN}, {SHA}, {SSHA}, $apr1$, $1$, $5$, $6$, $2a$, $2b$, $2y$)")
}

// plain is {PLAIN}: the password itself. Both sides are hashed before the
// comparison so that it takes the same time whatever their lengths.
type plain struct{ sum [sha256.Size]byte }

func newPlain(pw string) *plain { return &plain{sum: sha256.Sum256([]byte(pw))} }

func (p *plain) Verify(password []byte) bool {
	s := sha256.Sum256(password)
	return subtle.ConstantTimeCompare(s[:], p.sum[:]) == 1
}

// cryptB64 is the alphabet of crypt(3) encodings.
const cryptB64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isCryptB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(cryptB64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// appendB64 appends the n low 6-bit groups of v, least significant first,
// as crypt(3) does.
func appendB64(dst []byte, v uint32, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, cryptB64[v&0x3f])
		v >>= 6
	}
	return dst
}
