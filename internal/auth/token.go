package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// tokenPrefix marks Windsock API tokens so that secret scanners and people
// can tell them from other credentials.
const tokenPrefix = "wsk_"

// NewAPIToken returns a new bearer token (32 random bytes) and the hash to
// store. The token itself must be shown once and never stored.
func NewAPIToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate api token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashAPIToken(token), nil
}

// HashAPIToken returns the hex SHA-256 of a token, as stored in
// api_token.token_hash. A fast hash is enough: the token carries 256 random
// bits, so there is nothing to guess.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:])
}
