package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Defaults of an Authenticator.
const (
	// DefaultLoginCacheTTL is how long a verified username and password
	// skip bcrypt.
	DefaultLoginCacheTTL = 2 * time.Minute
	// loginCacheMax bounds the cache; past it, expired entries go, then all.
	loginCacheMax = 4096
	// tokenTouchEvery limits last_used_at writes to one per token per
	// interval, so that a busy script does not write on every request.
	tokenTouchEvery = time.Minute
)

// Authenticator finds the user a request speaks for: HTTP Basic against
// ab_user, a bearer API token, or a session cookie.
//
// bcrypt at cost 12 takes about 250 ms, which every request of a script
// using Basic auth would pay; so a successful verification is remembered
// for CacheTTL, keyed by an HMAC-SHA256 of username and password under a
// random per-process key (a plain SHA-256 would let whoever reads the
// process memory test guesses at full speed). The user row is still read on
// every request: a user deactivated, deleted or given a new password is
// refused at once, since an entry only counts while the stored hash is the
// one it verified.
type Authenticator struct {
	Store    store.Queries
	Backends Backends
	// SecretKey is webserver.secret_key, which signs session cookies.
	SecretKey string
	Clock     func() time.Time
	Logger    *slog.Logger
	// CacheTTL defaults to DefaultLoginCacheTTL.
	CacheTTL time.Duration

	once     sync.Once
	cacheKey []byte
	dummy    []byte // a bcrypt hash to spend time on for unknown users

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cachedLogin
}

type cachedLogin struct {
	hash    string // the ab_user.password the password matched
	expires time.Time
}

// Authenticate returns the user of a request's credentials with its roles
// and without its password hash. It returns (nil, nil) when the request
// carries none, and an EUNAUTH error when they are wrong or not accepted.
func (a *Authenticator) Authenticate(r *http.Request) (*windsock.User, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		switch {
		case a.Backends.DenyAll:
			return nil, windsock.Errorf(windsock.EUNAUTH, "authentication is denied to every request")
		case strings.EqualFold(scheme, "Basic"):
			if !a.Backends.Basic {
				return nil, windsock.Errorf(windsock.EUNAUTH, "basic authentication is not enabled")
			}
			username, password, ok := r.BasicAuth()
			if !ok {
				return nil, windsock.Errorf(windsock.EUNAUTH, "malformed basic credentials")
			}
			return a.Basic(ctx, username, password)
		case strings.EqualFold(scheme, "Bearer"):
			return a.Token(ctx, strings.TrimSpace(rest))
		default:
			return nil, windsock.Errorf(windsock.EUNAUTH, "unsupported authorization scheme %q", scheme)
		}
	}
	if c, err := r.Cookie(SessionCookieName); err == nil && a.Backends.Session && !a.Backends.DenyAll {
		return a.Session(ctx, c.Value)
	}
	return nil, nil
}

// Basic verifies a username and password.
func (a *Authenticator) Basic(ctx context.Context, username, password string) (*windsock.User, error) {
	a.init()
	wrong := windsock.Errorf(windsock.EUNAUTH, "invalid username or password")
	u, err := a.Store.UserGet(ctx, username)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		// Spend the time a real check takes, so that response times do
		// not tell which usernames exist.
		_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return nil, wrong
	}
	if err != nil {
		return nil, err
	}
	if !u.Active || u.Password == "" {
		return nil, wrong
	}
	key := a.loginKey(username, password)
	if !a.cached(key, u.Password) {
		if !CheckPassword(u.Password, password) {
			return nil, wrong
		}
		a.remember(key, u.Password)
	}
	u.Password = ""
	return u, nil
}

// Token verifies a bearer API token.
func (a *Authenticator) Token(ctx context.Context, token string) (*windsock.User, error) {
	invalid := windsock.Errorf(windsock.EUNAUTH, "invalid or revoked token")
	if token == "" {
		return nil, invalid
	}
	t, err := a.Store.APITokenGetByHash(ctx, HashAPIToken(token))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	now := a.now()
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return nil, windsock.Errorf(windsock.EUNAUTH, "token expired")
	}
	u, err := a.Store.UserGet(ctx, t.Username)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, invalid
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenTouchEvery {
		if err := a.Store.APITokenTouch(ctx, t.ID, now); err != nil {
			a.logger().Warn("authenticate: record token use", "token_id", t.ID, "error", err)
		}
	}
	u.Password = ""
	return u, nil
}

// Session verifies a session cookie's value.
func (a *Authenticator) Session(ctx context.Context, value string) (*windsock.User, error) {
	id, err := VerifySessionCookie(a.SecretKey, value, a.now())
	if err != nil {
		return nil, err
	}
	u, err := a.Store.UserGetByID(ctx, id)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.EUNAUTH, "invalid session")
	}
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, windsock.Errorf(windsock.EUNAUTH, "invalid session")
	}
	u.Password = ""
	return u, nil
}

// Forget drops every cached verification, e.g. after a password change
// (not needed for correctness, since entries are tied to the stored hash,
// but it frees them at once).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cache = nil
}

// dummyHash is compared against when a login names no user, so that a
// wrong username costs as long as a wrong password (no user enumeration by
// timing). It is a bcrypt hash at bcryptCost of a password nobody knows;
// being a constant, it costs nothing to make.
const dummyHash = "$2a$12$.9rr6xNQqHPEVciT8xl29OD6XyZ1b8s6eiR3ajSmAsoqSXGFSlNMO"

func (a *Authenticator) init() {
	a.once.Do(func() {
		a.cacheKey = make([]byte, 32)
		// crypto/rand.Read never returns an error (Go 1.24+).
		_, _ = rand.Read(a.cacheKey)
		a.dummy = []byte(dummyHash)
	})
}

func (a *Authenticator) loginKey(username, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.cacheKey)
	m.Write([]byte(username))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (a *Authenticator) cached(key [sha256.Size]byte, hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	return ok && e.hash == hash && a.now().Before(e.expires)
}

func (a *Authenticator) remember(key [sha256.Size]byte, hash string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.cache == nil {
		a.cache = map[[sha256.Size]byte]cachedLogin{}
	}
	if len(a.cache) >= loginCacheMax {
		for k, e := range a.cache {
			if !now.Before(e.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= loginCacheMax {
			clear(a.cache)
		}
	}
	ttl := a.CacheTTL
	if ttl <= 0 {
		ttl = DefaultLoginCacheTTL
	}
	a.cache[key] = cachedLogin{hash: hash, expires: now.Add(ttl)}
}

func (a *Authenticator) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock()
}

func (a *Authenticator) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}
