package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
)

// CSRFHeader is the header a browser's fetch() carries the CSRF token in;
// HTML forms carry it as the field CSRFField.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// CSRFToken returns the CSRF token that goes with a session cookie value:
// an HMAC-SHA256 of the value under a key derived from secretKey for this
// one purpose. A page embeds it; a request that changes something must
// send it back. Another site can make a browser send the cookie but cannot
// read the page, so it cannot know the token.
func CSRFToken(secretKey, sessionValue string) string {
	kdf := hmac.New(sha256.New, []byte(secretKey))
	fmt.Fprint(kdf, "windsock csrf token")
	m := hmac.New(sha256.New, kdf.Sum(nil))
	m.Write([]byte(sessionValue))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRFToken reports, in constant time, whether token is the CSRF
// token of sessionValue. An empty secret key, session value or token is
// never valid.
func ValidCSRFToken(secretKey, sessionValue, token string) bool {
	if secretKey == "" || sessionValue == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(CSRFToken(secretKey, sessionValue)))
}

// CheckCSRF reports whether r carries the CSRF token of its session
// cookie (named cookieName), in the X-CSRF-Token header or, for an HTML
// form post, the csrf_token field. A request without a session cookie
// fails.
func CheckCSRF(secretKey, cookieName string, r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return false
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		token = r.PostFormValue(CSRFField)
	}
	return ValidCSRFToken(secretKey, c.Value, token)
}
