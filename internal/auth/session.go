package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// SessionCookieName is the name of the UI's session cookie.
const SessionCookieName = "windsock_session"

// sessionVersion starts every session payload, so that the format can
// change without old cookies being misread.
const sessionVersion = "v1"

// NewSessionCookie returns a session cookie for userID valid until
// expires, signed with HMAC-SHA256 under a key derived from secretKey
// (webserver.secret_key). It is HttpOnly and SameSite=Lax, and Secure when
// the request came over TLS.
func NewSessionCookie(secretKey string, userID int64, expires time.Time, secure bool) (*http.Cookie, error) {
	if secretKey == "" {
		return nil, windsock.Errorf(windsock.EINVALID, "webserver.secret_key is empty: cannot sign session cookies")
	}
	payload := sessionVersion + ":" + strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(expires.Unix(), 10)
	value := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(sessionMAC(secretKey, payload))
	return &http.Cookie{
		Name:     SessionCookieName,
		Value:    value,
		Path:     "/",
		Expires:  expires.UTC(),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}, nil
}

// IssueSession sets a session cookie for userID on w, valid for ttl.
func IssueSession(w http.ResponseWriter, r *http.Request, secretKey string, userID int64, now time.Time, ttl time.Duration) error {
	c, err := NewSessionCookie(secretKey, userID, now.Add(ttl), r.TLS != nil)
	if err != nil {
		return err
	}
	http.SetCookie(w, c)
	return nil
}

// VerifySessionCookie checks a session cookie's value and returns the user
// id it carries. A value that was altered, signed with another key or has
// expired is an EUNAUTH error.
func VerifySessionCookie(secretKey, value string, now time.Time) (int64, error) {
	invalid := windsock.Errorf(windsock.EUNAUTH, "invalid session")
	if secretKey == "" {
		return 0, invalid
	}
	enc, sig, ok := strings.Cut(value, ".")
	if !ok {
		return 0, invalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return 0, invalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, sessionMAC(secretKey, string(payload))) {
		return 0, invalid
	}
	parts := strings.Split(string(payload), ":")
	if len(parts) != 3 || parts[0] != sessionVersion {
		return 0, invalid
	}
	userID, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, invalid
	}
	if !now.Before(time.Unix(exp, 0)) {
		return 0, windsock.Errorf(windsock.EUNAUTH, "session expired")
	}
	return userID, nil
}

// sessionMAC signs payload under a key derived from secretKey for this one
// purpose, so that a signature made with the same secret elsewhere (Airflow
// also uses it for other tokens) can never pass as a session.
func sessionMAC(secretKey, payload string) []byte {
	kdf := hmac.New(sha256.New, []byte(secretKey))
	fmt.Fprint(kdf, "windsock session cookie")
	m := hmac.New(sha256.New, kdf.Sum(nil))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
