package mwaa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/iampolicy"
)

// File names inside the control plane's home.
const (
	keysFileName = "keys.json"
	// masterKeyFileName holds the AES-256 key that encrypts the secret
	// access keys. SigV4 needs the secret itself to verify a signature,
	// so secrets cannot be hashed; they are encrypted at rest instead,
	// with a key that never leaves the home (as core.fernet_key for an
	// environment's secrets).
	masterKeyFileName = "controlplane.key"
)

// ErrKeyNotFound is returned by KeyStore.Delete for an unknown key.
var ErrKeyNotFound = errors.New("no such access key")

// Key is an access key of the control plane.
type Key struct {
	AccessKeyID string    `json:"access_key_id"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at"`
	// Policy is the key's IAM policy document; empty means full access.
	Policy json.RawMessage `json:"policy,omitempty"`
	// Secret is the secret access key, AES-GCM encrypted (nonce|ciphertext,
	// base64), bound to the access key id.
	Secret string `json:"secret"`
}

// KeyStore keeps access keys in the control plane's home. It rereads the
// file on every lookup, so keys created or deleted by `windsock
// controlplane keys` count at once in a running control plane.
type KeyStore struct {
	home string
	mu   sync.Mutex
}

// NewKeyStore returns the key store of a control plane home.
func NewKeyStore(home string) *KeyStore { return &KeyStore{home: home} }

var reKeyName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// Create makes a key named name with an optional policy document and
// returns its id and secret; the secret is not shown again.
func (k *KeyStore) Create(name string, policy []byte, now time.Time) (id, secret string, err error) {
	if !reKeyName.MatchString(name) {
		return "", "", fmt.Errorf("key name %q: use 1 to 64 letters, digits and +=,.@_-", name)
	}
	if len(policy) > 0 {
		if _, err := iampolicy.Parse(policy); err != nil {
			return "", "", err
		}
	}
	unlock, err := k.lock()
	if err != nil {
		return "", "", err
	}
	defer unlock()
	keys, err := k.read()
	if err != nil {
		return "", "", err
	}
	for _, existing := range keys {
		if existing.Name == name {
			return "", "", fmt.Errorf("a key named %q already exists", name)
		}
	}
	id = "AKIA" + randomBase32(12)
	raw := make([]byte, 30)
	_, _ = rand.Read(raw)
	secret = base64.StdEncoding.EncodeToString(raw) // 40 characters, as AWS's
	master, err := k.masterKey(true)
	if err != nil {
		return "", "", err
	}
	sealed, err := seal(master, id, secret)
	if err != nil {
		return "", "", err
	}
	key := Key{AccessKeyID: id, Name: name, CreatedAt: now.UTC(), Secret: sealed}
	if len(policy) > 0 {
		key.Policy = json.RawMessage(policy)
	}
	keys = append(keys, key)
	return id, secret, k.write(keys)
}

// List returns the keys, by name, without their secrets.
func (k *KeyStore) List() ([]Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys, err := k.read()
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].Secret = ""
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	return keys, nil
}

// Delete removes the key with this access key id or name.
func (k *KeyStore) Delete(idOrName string) error {
	unlock, err := k.lock()
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := k.read()
	if err != nil {
		return err
	}
	for i, key := range keys {
		if key.AccessKeyID == idOrName || key.Name == idOrName {
			return k.write(append(keys[:i], keys[i+1:]...))
		}
	}
	return ErrKeyNotFound
}

// lookup returns a key with its decrypted secret and parsed policy.
func (k *KeyStore) lookup(id string) (Key, string, *iampolicy.Policy, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys, err := k.read()
	if err != nil {
		return Key{}, "", nil, false, err
	}
	for _, key := range keys {
		if key.AccessKeyID != id {
			continue
		}
		master, err := k.masterKey(false)
		if err != nil {
			return Key{}, "", nil, false, err
		}
		secret, err := open(master, id, key.Secret)
		if err != nil {
			return Key{}, "", nil, false, err
		}
		var policy *iampolicy.Policy
		if len(key.Policy) > 0 {
			if policy, err = iampolicy.Parse(key.Policy); err != nil {
				return Key{}, "", nil, false, err
			}
		}
		return key, secret, policy, true, nil
	}
	return Key{}, "", nil, false, nil
}

// lock serializes the changes of the keys file between goroutines and
// between processes (two `keys create` at once both land), and the
// creation of the encryption key.
func (k *KeyStore) lock() (unlock func(), err error) {
	k.mu.Lock()
	unlockFile, err := atomicfile.Lock(filepath.Join(k.home, keysFileName+".lock"))
	if err != nil {
		k.mu.Unlock()
		return nil, fmt.Errorf("keys: %w", err)
	}
	return func() {
		unlockFile()
		k.mu.Unlock()
	}, nil
}

func (k *KeyStore) read() ([]Key, error) {
	data, err := os.ReadFile(filepath.Join(k.home, keysFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	var keys []Key
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	return keys, nil
}

func (k *KeyStore) write(keys []Key) error {
	if keys == nil {
		keys = []Key{}
	}
	data, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(k.home, keysFileName), data, 0o600)
}

// masterKey reads the encryption key, creating it when create is set and
// it does not exist yet.
func (k *KeyStore) masterKey(create bool) ([]byte, error) {
	path := filepath.Join(k.home, masterKeyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		if err := os.MkdirAll(k.home, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("create %s: %w", path, werr)
		}
		return raw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(trimNewline(data)))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("read %s: not a base64 32-byte key", path)
	}
	return raw, nil
}

func seal(master []byte, id, secret string) (string, error) {
	gcm, err := newGCM(master)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), []byte(id))), nil
}

func open(master []byte, id, sealed string) (string, error) {
	gcm, err := newGCM(master)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < gcm.NonceSize() {
		return "", fmt.Errorf("decrypt key %s: malformed", id)
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(id))
	if err != nil {
		return "", fmt.Errorf("decrypt key %s: wrong %s or corrupted keys file", id, masterKeyFileName)
	}
	return string(plain), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func randomBase32(nBytes int) string {
	raw := make([]byte, nBytes)
	_, _ = rand.Read(raw)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
