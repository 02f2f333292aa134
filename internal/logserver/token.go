package logserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// tokenAudience is the audience of log tokens, Airflow's for the same use,
// so that a token made for anything else is refused.
const tokenAudience = "task-instance-logs"

// tokenLifetime is how long a token is valid, and the clock skew allowed
// between hosts: Airflow's logging.log_request_clock_grace default.
const tokenLifetime = 30 * time.Second

// tokenClaims is what a token carries, with JWT's claim names.
type tokenClaims struct {
	Audience  string `json:"aud"`
	Filename  string `json:"filename"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expires   int64  `json:"exp"`
}

// tokenKey derives the signing key from webserver.secret_key, so that a
// log token is never valid as a session cookie or an API continuation
// token signed with the same secret.
func tokenKey(secretKey string) []byte {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte("windsock worker log server token"))
	return m.Sum(nil)
}

// EnvironmentKey is the secret an environment's log servers and the API
// reading from them share: webserver.secret_key bound to the environment's
// id, so that when two environments on one host share a secret key (and a
// log server port, one after the other), one environment's request for a
// try's log is refused by the other's log server, which has a log at the
// same path (the same DAG, run, task and try), instead of answered with it.
func EnvironmentKey(secretKey, envID string) string {
	if secretKey == "" {
		return "" // refused as unset, as before
	}
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte("windsock environment\x00" + envID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signToken returns a token allowing to read filename (a path relative to
// the log folder) for tokenLifetime from now: base64url of the claims'
// JSON, a dot, base64url of their HMAC-SHA256.
func signToken(secretKey, filename string, now time.Time) string {
	c := tokenClaims{Audience: tokenAudience, Filename: filename, IssuedAt: now.Unix(),
		NotBefore: now.Add(-tokenLifetime).Unix(), Expires: now.Add(tokenLifetime).Unix()}
	payload, _ := json.Marshal(c) // strings and numbers always encode
	m := hmac.New(sha256.New, tokenKey(secretKey))
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// errToken is the cause of every refused token; the message says which
// check failed, for the worker's log (never for the caller).
var errToken = errors.New("invalid log token")

// verifyToken checks that token was signed with secretKey, is for the log
// server, is within its validity at now (with tokenLifetime of skew either
// side) and allows reading filename.
func verifyToken(secretKey, token, filename string, now time.Time) error {
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("%w: malformed", errToken)
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: malformed", errToken)
	}
	m := hmac.New(sha256.New, tokenKey(secretKey))
	m.Write(payload)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return fmt.Errorf("%w: bad signature (is webserver.secret_key the same on every host, and the request for this environment?)", errToken)
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return fmt.Errorf("%w: malformed claims", errToken)
	}
	switch t := now.Unix(); {
	case c.Audience != tokenAudience:
		return fmt.Errorf("%w: audience %q", errToken, c.Audience)
	case t > c.Expires+int64(tokenLifetime/time.Second):
		return fmt.Errorf("%w: expired (are the hosts' clocks in sync?)", errToken)
	case t < c.NotBefore:
		return fmt.Errorf("%w: not valid yet (are the hosts' clocks in sync?)", errToken)
	case c.Filename != filename:
		return fmt.Errorf("%w: made for another file", errToken)
	}
	return nil
}
