package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// OIDC is OpenID Connect login (strait.dev/oidc-*): a request without a
// valid session cookie is sent to the issuer's login, and claims of the
// ID token of an accepted one are passed upstream as headers. The data
// plane fetches the issuer's discovery document and keys itself;
// translate never contacts the issuer.
type OIDC struct {
	// Issuer is the issuer URL, as ID tokens name it.
	Issuer string `json:"issuer"`
	// ClientID is the client registered at the issuer.
	ClientID string `json:"clientID"`
	// ClientSecretRef and CookieSecretRef are the "<namespace>/<name>" of
	// the Secrets the client secret and the cookie key come from;
	// ClientSecretRef is empty for a public client.
	ClientSecretRef string `json:"clientSecretRef,omitempty"`
	CookieSecretRef string `json:"cookieSecretRef"`
	// Scopes are asked for at login; openid is among them.
	Scopes []string `json:"scopes"`
	// RedirectPath is the callback's path, LogoutPath the logout's.
	RedirectPath string `json:"redirectPath"`
	LogoutPath   string `json:"logoutPath"`
	// PostLogoutRedirect is an absolute URL or a path; empty means a
	// plain page after logout.
	PostLogoutRedirect string `json:"postLogoutRedirect,omitempty"`
	// ClaimHeaders send claims upstream, in the order written.
	ClaimHeaders []ClaimHeader `json:"claimHeaders,omitempty"`
	// GroupsClaim names the claim AllowedGroups is checked against.
	GroupsClaim string `json:"groupsClaim"`
	// AllowedGroups, when not empty, admits only users in one of them.
	AllowedGroups []string `json:"allowedGroups,omitempty"`
	// RequiredClaims must all hold.
	RequiredClaims []ClaimRule `json:"requiredClaims,omitempty"`
	// CookieName names the session cookie.
	CookieName string `json:"cookieName"`
	// SessionMaxAge is a session's longest life in seconds.
	SessionMaxAge int `json:"sessionMaxAge"`
	// Fingerprint is a hash of the client secret and cookie key; it shows
	// in golden files and debug output instead of them, and makes the
	// model's hash change when they change.
	Fingerprint string `json:"fingerprint"`
	// ClientSecret and CookieKey (32 bytes) are never encoded.
	ClientSecret string `json:"-"`
	CookieKey    []byte `json:"-"`
}

// ClaimHeader sends a claim upstream in a request header.
type ClaimHeader struct {
	Claim  string `json:"claim"`
	Header string `json:"header"`
}

// ClaimRule requires a claim to have a value.
type ClaimRule struct {
	Claim string `json:"claim"`
	Value string `json:"value"`
}

// SetFingerprint computes Fingerprint from the secrets.
func (o *OIDC) SetFingerprint() {
	h := sha256.New()
	h.Write([]byte(o.ClientSecret))
	h.Write([]byte{0})
	h.Write(o.CookieKey)
	o.Fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
}
