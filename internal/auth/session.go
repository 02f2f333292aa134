package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// SessionCookieName is the name of the UI's session cookie, or its
// prefix: see SessionCookie.
const SessionCookieName = "windsock_session"

// SessionCookie is the name of the session cookie of environment envID:
// browsers keep cookies per host, whatever the port, so the UIs of two
// environments on one host would overwrite each other's cookie (logging
// each other out) if they shared a name. The web servers of one
// environment share it (their store has one id). "" gives
// SessionCookieName.
func SessionCookie(envID string) string {
	if envID == "" {
		return SessionCookieName
	}
	return SessionCookieName + "_" + envID
}

// IsSessionCookie reports whether name is a session cookie's, of any
// environment (SessionCookie).
func IsSessionCookie(name string) bool {
	return name == SessionCookieName || strings.HasPrefix(name, SessionCookieName+"_")
}

// DefaultSessionLifetime is Airflow's webserver.session_lifetime_minutes
// default, 43200 minutes (30 days).
const DefaultSessionLifetime = 43200 * time.Minute

// sessionVersion starts every session payload, so that the format can
// change without old cookies being misread. v1 cookies carried a user id
// and could not be revoked; they are refused.
const sessionVersion = "v2"

// sessionCookieLifetime is how long a browser keeps the session cookie:
// the most browsers allow. Whether the session is alive is the store's
// to say (its expiry moves while the user is active), so the cookie must
// not expire before it; once the session has, the cookie opens nothing.
const sessionCookieLifetime = 400 * 24 * time.Hour

// CreateSession starts a UI session of userID that expires after ttl
// without activity: a row in user_session holding the SHA-256 of a random
// id, and the cookie carrying that id, signed with HMAC-SHA256 under a key
// derived from secretKey (webserver.secret_key). The cookie is HttpOnly
// and SameSite=Lax, and Secure when secure (the request came over TLS).
// Deleting the row revokes the cookie on every web server. cookieName is
// the environment's (SessionCookie).
func CreateSession(ctx context.Context, st store.Queries, secretKey, cookieName string, userID int64, now time.Time, ttl time.Duration, secure bool) (*http.Cookie, error) {
	if secretKey == "" {
		return nil, windsock.Errorf(windsock.EINVALID, "webserver.secret_key is empty: cannot sign session cookies")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	id := base64.RawURLEncoding.EncodeToString(raw)
	expires := now.Add(ttl)
	if err := st.SessionCreate(ctx, &windsock.Session{IDHash: hashSessionID(id), UserID: userID,
		CreatedAt: now.UTC(), ExpiresAt: expires.UTC()}); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	payload := sessionVersion + ":" + id
	return &http.Cookie{
		Name:     cookieName,
		Value:    base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(sessionMAC(secretKey, payload)),
		Path:     "/",
		Expires:  now.Add(sessionCookieLifetime).UTC(),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}, nil
}

// parseSessionCookie checks a session cookie's signature and returns the
// session id it carries. A value that was altered or signed with another
// key is an EUNAUTH error. Whether the session still exists and has not
// expired is for the store to say.
func parseSessionCookie(secretKey, value string) (string, error) {
	invalid := windsock.Errorf(windsock.EUNAUTH, "invalid session")
	if secretKey == "" {
		return "", invalid
	}
	enc, sig, ok := strings.Cut(value, ".")
	if !ok {
		return "", invalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", invalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, sessionMAC(secretKey, string(payload))) {
		return "", invalid
	}
	version, id, ok := strings.Cut(string(payload), ":")
	if !ok || version != sessionVersion || id == "" {
		return "", invalid
	}
	return id, nil
}

// hashSessionID is what user_session stores of a session id: a fast hash
// is enough, the id carries 256 random bits.
func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
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
