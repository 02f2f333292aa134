package fernet_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/fernet"
)

// The published vectors of the Fernet spec (github.com/fernet/spec,
// generate.json, verify.json and invalid.json).
const (
	specKey   = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	specToken = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
	specSrc   = "hello"
	specNow   = "1985-10-26T01:20:00-07:00"
)

var specIV = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// specToken builds a token by the letter of the spec using only the
// standard library, independently of the package under test.
func buildSpecToken(t *testing.T, key string, signedAt time.Time, iv, msg []byte) string {
	t.Helper()
	k, err := base64.URLEncoding.DecodeString(key)
	if err != nil || len(k) != 32 {
		t.Fatalf("bad test key: %v", err)
	}
	signingKey, encryptionKey := k[:16], k[16:]

	padLen := aes.BlockSize - len(msg)%aes.BlockSize
	padded := append(append([]byte{}, msg...), bytes.Repeat([]byte{byte(padLen)}, padLen)...)
	block, err := aes.NewCipher(encryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, padded)

	var tok []byte
	tok = append(tok, 0x80)
	tok = binary.BigEndian.AppendUint64(tok, uint64(signedAt.Unix()))
	tok = append(tok, iv...)
	tok = append(tok, ciphertext...)
	mac := hmac.New(sha256.New, signingKey)
	mac.Write(tok)
	tok = mac.Sum(tok)
	return base64.URLEncoding.EncodeToString(tok)
}

func mustParse(t *testing.T, keys string) *fernet.Keys {
	t.Helper()
	k, err := fernet.Parse(keys)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return k
}

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := fernet.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return k
}

func TestSpecVector(t *testing.T) {
	t.Parallel()
	now, err := time.Parse(time.RFC3339, specNow)
	if err != nil {
		t.Fatal(err)
	}
	// Our stdlib-only construction must reproduce the published token
	// byte for byte, which validates the construction itself...
	if got := buildSpecToken(t, specKey, now, specIV, []byte(specSrc)); got != specToken {
		t.Fatalf("spec construction = %s, want the published token %s", got, specToken)
	}
	// ...and Decrypt must read it, whatever its age (no TTL, as Airflow).
	plain, err := mustParse(t, specKey).Decrypt(specToken)
	if err != nil {
		t.Fatalf("Decrypt(spec token): %v", err)
	}
	if string(plain) != specSrc {
		t.Fatalf("Decrypt(spec token) = %q, want %q", plain, specSrc)
	}
}

func TestDecryptTokenBuiltFromSpec(t *testing.T) {
	t.Parallel()
	key := mustKey(t)
	tests := []struct {
		name string
		msg  string
	}{
		{"empty", ""},
		{"one block exactly", "0123456789abcdef"},
		{"connection password", "p@ss:wörd/with%chars"},
		{"json variable", `{"bucket": "s3://data", "retries": 3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := []byte("0123456789abcdef")
			tok := buildSpecToken(t, key, time.Unix(1700000000, 0), iv, []byte(tt.msg))
			plain, err := mustParse(t, key).Decrypt(tok)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(plain) != tt.msg {
				t.Fatalf("Decrypt = %q, want %q", plain, tt.msg)
			}
		})
	}
}

func TestSpecInvalidTokens(t *testing.T) {
	t.Parallel()
	// From the spec's invalid.json, without the two TTL cases: Airflow
	// decrypts without a TTL, so those tokens are valid here.
	tokens := map[string]string{
		"incorrect mac":                  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==",
		"too short":                      "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==",
		"invalid base64":                 "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		"payload not multiple of block":  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm",
		"payload padding error":          "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==",
		"incorrect IV (padding error)":   "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==",
		"very short payload size":        "gAAAAABdnQ1TUKh2OE_ggbyCIxfg",
		"super short payload size":       "gAAA",
		"empty":                          "",
		"wrong version byte (0x81 ...)":  "gQAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==",
		"published token, one bit wrong": strings.Replace(specToken, "Dy02", "Dy03", 1),
	}
	keys := mustParse(t, specKey)
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := keys.Decrypt(tok); !errors.Is(err, fernet.ErrInvalidToken) {
				t.Fatalf("Decrypt(%q) error = %v, want ErrInvalidToken", tok, err)
			}
		})
	}

	// The "expired TTL" and "far-future TS" tokens hold an empty message
	// (as cryptography's Fernet also decrypts them without a TTL).
	for _, tok := range []string{
		"gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		"gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==",
	} {
		if plain, err := keys.Decrypt(tok); err != nil || len(plain) != 0 {
			t.Fatalf("Decrypt(%s) = %q, %v; want an empty message: no TTL applies", tok, plain, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	keys := mustParse(t, mustKey(t))
	if !keys.Enabled() {
		t.Fatal("Enabled() = false with a key")
	}
	msg := []byte("postgres password")
	tok, err := keys.Encrypt(msg)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if strings.Contains(tok, string(msg)) || !strings.HasPrefix(tok, "gAAAAA") {
		t.Fatalf("Encrypt produced %q, not a Fernet token", tok)
	}
	got, err := keys.Decrypt(tok)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("Decrypt = %q, want %q", got, msg)
	}
	tok2, err := keys.Encrypt(msg)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok {
		t.Fatal("two encryptions gave the same token: the IV is not random")
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	tok, err := mustParse(t, mustKey(t)).Encrypt([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = mustParse(t, mustKey(t)).Decrypt(tok)
	if !errors.Is(err, fernet.ErrInvalidToken) {
		t.Fatalf("Decrypt with another key: error = %v, want ErrInvalidToken", err)
	}
	if err.Error() != "invalid fernet token or wrong key" {
		t.Fatalf("error message = %q", err)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := mustKey(t), mustKey(t)
	oldTok, err := mustParse(t, oldKey).Encrypt([]byte("value"))
	if err != nil {
		t.Fatal(err)
	}

	// During rotation core.fernet_key is "new,old": old tokens still
	// decrypt, new ones are made with the new key.
	both := mustParse(t, newKey+", "+oldKey)
	if got, err := both.Decrypt(oldTok); err != nil || string(got) != "value" {
		t.Fatalf("Decrypt(old token) with new,old = %q, %v", got, err)
	}
	rotated, err := both.Rotate(oldTok)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	onlyNew := mustParse(t, newKey)
	if got, err := onlyNew.Decrypt(rotated); err != nil || string(got) != "value" {
		t.Fatalf("Decrypt(rotated) with the new key alone = %q, %v", got, err)
	}
	if _, err := onlyNew.Decrypt(oldTok); !errors.Is(err, fernet.ErrInvalidToken) {
		t.Fatalf("Decrypt(old token) with the new key alone: error = %v, want ErrInvalidToken", err)
	}
	// MultiFernet.rotate keeps the original timestamp.
	if ts(t, rotated) != ts(t, oldTok) {
		t.Fatalf("Rotate changed the timestamp: %d -> %d", ts(t, oldTok), ts(t, rotated))
	}
	if _, err := both.Rotate("garbage"); !errors.Is(err, fernet.ErrInvalidToken) {
		t.Fatalf("Rotate(garbage): error = %v, want ErrInvalidToken", err)
	}
}

func ts(t *testing.T, tok string) uint64 {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint64(raw[1:9])
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	for _, keys := range []*fernet.Keys{mustParse(t, ""), mustParse(t, "  "), nil} {
		if keys.Enabled() {
			t.Fatal("Enabled() = true without a key")
		}
		got, err := keys.Encrypt([]byte("plain"))
		if err != nil || got != "plain" {
			t.Fatalf("Encrypt without key = %q, %v; want the plaintext, as NullFernet", got, err)
		}
		if _, err := keys.Decrypt(specToken); !errors.Is(err, fernet.ErrNoKey) {
			t.Fatalf("Decrypt without key: error = %v, want ErrNoKey", err)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    string
		wantErr string
	}{
		{"spec key", specKey, ""},
		{"trailing comma", specKey + ",", ""},
		{"standard alphabet", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), ""},
		{"too short", base64.URLEncoding.EncodeToString([]byte("short")), "parse fernet key 1: a Fernet key must be 32 url-safe base64-encoded bytes, got 5 bytes"},
		{"not base64", specKey + ",not-a-key!", "parse fernet key 2: a Fernet key must be 32 url-safe base64-encoded bytes"},
		{"hex is refused", strings.Repeat("ab", 32), "parse fernet key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := fernet.Parse(tt.keys)
			if tt.wantErr == "" {
				if err != nil || !k.Enabled() {
					t.Fatalf("Parse(%q) = %v, %v; want enabled keys", tt.keys, k, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want prefix %q", tt.keys, err, tt.wantErr)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := mustKey(t), mustKey(t)
	if a == b {
		t.Fatal("GenerateKey returned the same key twice")
	}
	raw, err := base64.URLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || len(a) != 44 {
		t.Fatalf("GenerateKey = %q: want url-safe base64 of 32 bytes (%v)", a, err)
	}
}

func TestDecryptTokenFromPythonCryptography(t *testing.T) {
	t.Parallel()
	// Made with Python: Fernet(key).encrypt("Airflow connection p@ss wörd".encode())
	// (cryptography 48.0), which is what Airflow stores.
	const (
		key = "9Z8xQpKf3yVw2m4N1sT7uL0cR5eH6aJ8bD3gF2kY1oI="
		tok = "gAAAAABrBOsce83DfH7VnRYajnkG941YFS35k_TbT6_T4-vD1ojkNeVMnAR9Jqd_vrwOmrLrpqO03SXqMLHzplpffVoDWwEViFk9YAYM17YZBRU-Psm6Fqs="
	)
	plain, err := mustParse(t, key).Decrypt(tok)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if want := "Airflow connection p@ss wörd"; string(plain) != want {
		t.Fatalf("Decrypt = %q, want %q", plain, want)
	}
}
