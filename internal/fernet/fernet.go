// Package fernet encrypts and decrypts the secrets Windsock keeps in its
// metadata database (variable values, connection passwords and extras) the
// way Airflow does: Fernet tokens (https://github.com/fernet/spec), with the
// comma-separated core.fernet_key behaving as cryptography's MultiFernet
// (the first key encrypts, every key decrypts). Values encrypted by Airflow
// therefore decrypt here with the same key, and the other way round.
package fernet

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	fernetgo "github.com/fernet/fernet-go"
)

// ErrInvalidToken is returned by Decrypt and Rotate when a token is
// malformed or none of the keys verifies it. As in cryptography, the two
// cases are not told apart.
var ErrInvalidToken = errors.New("invalid fernet token or wrong key")

// ErrNoKey is returned when decrypting or rotating without a key.
var ErrNoKey = errors.New("no fernet key is configured (core.fernet_key is empty)")

// Token layout from the spec: version (1) | timestamp (8) | IV (16) |
// ciphertext (n*16) | HMAC (32).
const (
	tokenVersion = 0x80
	headerLen    = 1 + 8 + aes.BlockSize
	minTokenLen  = headerLen + aes.BlockSize + sha256.Size
)

// Keys is a parsed core.fernet_key. The zero value and nil behave as
// Airflow's NullFernet: Enabled reports false and nothing is encrypted.
type Keys struct {
	keys []*fernetgo.Key
}

// Parse reads core.fernet_key: one or more comma-separated keys, each the
// URL-safe base64 encoding of 32 bytes. The first key encrypts; all of them
// decrypt, which is how keys are rotated. An empty string gives Keys that do
// not encrypt, as Airflow does when no key is set. Errors never include key
// material.
func Parse(keys string) (*Keys, error) {
	k := &Keys{}
	if strings.TrimSpace(keys) == "" {
		return k, nil
	}
	for i, part := range strings.Split(keys, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			// A trailing comma is harmless; an empty key in the middle is
			// still skipped rather than failing every decryption.
			continue
		}
		key, err := decodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("parse fernet key %d: %w", i+1, err)
		}
		k.keys = append(k.keys, key)
	}
	return k, nil
}

// decodeKey accepts what Python's base64.urlsafe_b64decode accepts in
// practice: URL-safe base64 with padding, or the standard alphabet. Unlike
// fernet-go's DecodeKey it refuses hex, which Airflow would reject too.
func decodeKey(s string) (*fernetgo.Key, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("a Fernet key must be 32 url-safe base64-encoded bytes")
	}
	if len(b) != len(fernetgo.Key{}) {
		return nil, fmt.Errorf("a Fernet key must be 32 url-safe base64-encoded bytes, got %d bytes", len(b))
	}
	var key fernetgo.Key
	copy(key[:], b)
	return &key, nil
}

// GenerateKey returns a new random key in the form core.fernet_key expects
// (URL-safe base64 of 32 random bytes), like Fernet.generate_key().
func GenerateKey() (string, error) {
	var k fernetgo.Key
	if err := k.Generate(); err != nil {
		return "", fmt.Errorf("generate fernet key: %w", err)
	}
	return k.Encode(), nil
}

// Enabled reports whether at least one key is configured, i.e. whether
// values written now are encrypted (Airflow's fernet.is_encrypted).
func (k *Keys) Enabled() bool {
	return k != nil && len(k.keys) > 0
}

// Encrypt returns the Fernet token of plain made with the first key. Without
// a key it returns plain unchanged, as Airflow's NullFernet does; callers
// record Enabled() alongside so they know which one they stored.
func (k *Keys) Encrypt(plain []byte) (string, error) {
	if !k.Enabled() {
		return string(plain), nil
	}
	return k.encryptAt(plain, time.Now())
}

func (k *Keys) encryptAt(plain []byte, at time.Time) (string, error) {
	tok, err := fernetgo.EncryptAndSignAtTime(plain, k.keys[0], at)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return string(tok), nil
}

// Decrypt verifies token with each key in turn and returns the plaintext.
// There is no TTL, as in Airflow: stored secrets do not expire.
func (k *Keys) Decrypt(token string) ([]byte, error) {
	plain, _, err := k.decrypt(token)
	return plain, err
}

// Rotate decrypts token with any key and encrypts it again with the first
// key, keeping its timestamp, like MultiFernet.rotate (what `airflow
// rotate-fernet-key` does to every stored secret).
func (k *Keys) Rotate(token string) (string, error) {
	plain, signedAt, err := k.decrypt(token)
	if err != nil {
		return "", err
	}
	return k.encryptAt(plain, signedAt)
}

func (k *Keys) decrypt(token string) ([]byte, time.Time, error) {
	if !k.Enabled() {
		return nil, time.Time{}, ErrNoKey
	}
	token = strings.TrimSpace(token)
	raw, err := base64.URLEncoding.DecodeString(token)
	// fernet-go ignores decoding errors and does not check the length
	// before unpadding, so the structure is checked here first.
	if err != nil || len(raw) < minTokenLen || raw[0] != tokenVersion ||
		(len(raw)-headerLen-sha256.Size)%aes.BlockSize != 0 {
		return nil, time.Time{}, ErrInvalidToken
	}
	plain := fernetgo.VerifyAndDecrypt([]byte(token), 0, k.keys)
	if plain == nil {
		return nil, time.Time{}, ErrInvalidToken
	}
	signedAt := time.Unix(int64(binary.BigEndian.Uint64(raw[1:9])), 0)
	return plain, signedAt, nil
}
