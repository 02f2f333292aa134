// Package mwaatoken mints and verifies the short-lived tokens of MWAA's
// CLI and web-login flows. The control plane mints them (CreateCliToken,
// CreateWebLoginToken) with a secret it generated for the environment; the
// environment's web server verifies them with the same secret, which it
// reads from aws_mwaa.token_secret. A token is the base64url of its JSON
// claims, a dot, and the base64url of an HMAC-SHA256 over the kind and the
// claims, so a web token cannot be used as a CLI token or the other way
// round.
package mwaatoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Kinds of token.
const (
	KindCLI = "cli"
	KindWeb = "web"
	// KindSession is a session of the control plane's own UI (its
	// cookie): Claims.User holds the access key id.
	KindSession = "session"
)

// Lifetimes, as MWAA's.
const (
	CLITokenTTL = 60 * time.Second
	WebTokenTTL = 60 * time.Second
)

// ConfigSection and ConfigOption name where an environment reads its token
// secret (aws_mwaa.token_secret, or AIRFLOW__AWS_MWAA__TOKEN_SECRET). The
// /aws_mwaa routes exist only when it is set, which only the control plane
// does.
const (
	ConfigSection = "aws_mwaa"
	ConfigOption  = "token_secret"
)

// ErrInvalid is returned for a token that is malformed, forged, of the
// wrong kind, for another environment or expired; callers answer all of
// them alike.
var ErrInvalid = errors.New("invalid or expired token")

// Claims is what a token says.
type Claims struct {
	Kind        string `json:"kind"`
	Environment string `json:"env"`
	// Role is the Airflow role of a web token (Admin, Op, User, Viewer,
	// Public).
	Role string `json:"role,omitempty"`
	// User is the Airflow username the web session is for
	// (CreateWebLoginToken's AirflowIdentity).
	User string `json:"user,omitempty"`
	// IamIdentity is who asked for the token.
	IamIdentity string `json:"iam,omitempty"`
	// Expires is a Unix time in seconds.
	Expires int64 `json:"exp"`
	// Nonce makes two tokens minted in the same second differ.
	Nonce string `json:"n,omitempty"`
}

// Mint signs c with secret.
func Mint(secret []byte, c Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(secret, c.Kind, p)), nil
}

// Verify checks a token of the given kind at now and returns its claims.
// env, when not empty, must be the token's environment; the secret is per
// environment anyway, so an environment that does not know its own name
// passes "".
func Verify(secret []byte, token, kind, env string, now time.Time) (Claims, error) {
	var c Claims
	if len(secret) == 0 {
		return c, ErrInvalid
	}
	p, sig, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok {
		return c, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, kind, p)) {
		return c, ErrInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, ErrInvalid
	}
	if c.Kind != kind || (env != "" && c.Environment != env) || now.Unix() >= c.Expires {
		return Claims{}, ErrInvalid
	}
	return c, nil
}

func mac(secret []byte, kind, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("windsock-mwaa-token-v1\n" + kind + "\n" + payload))
	return m.Sum(nil)
}
