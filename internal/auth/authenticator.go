package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Defaults of an Authenticator.
const (
	// DefaultLoginCacheTTL is how long a verified username and password
	// skip bcrypt after their last use.
	DefaultLoginCacheTTL = 2 * time.Minute
	// DefaultMaxQueuedChecks is how many password checks may wait for a
	// free core before further ones are shed.
	DefaultMaxQueuedChecks = 64
	// DefaultMaxCheckWait is how long a password check may wait for a
	// free core before it is shed.
	DefaultMaxCheckWait = 5 * time.Second
	// loginCacheMax bounds the cache; past it, expired entries go, then all.
	loginCacheMax = 4096
	// tokenTouchEvery limits last_used_at writes to one per token per
	// interval, so that a busy script does not write on every request.
	tokenTouchEvery = time.Minute
	// sessionTouchEvery likewise limits the writes that keep an active
	// session alive: its idle expiry is exact to within this.
	sessionTouchEvery = time.Minute
)

// Authenticator finds the user a request speaks for: HTTP Basic against
// ab_user, a bearer API token, or a session cookie. One Authenticator
// should serve the whole process (API and UI), so that its limits are
// shared.
//
// bcrypt at cost 12 takes about 250 ms of a core, which every request of a
// script using Basic auth would pay; so:
//   - a successful verification is remembered, keyed by an HMAC-SHA256 of
//     username and password under a random per-process key (a plain
//     SHA-256 would let whoever reads the process memory test guesses at
//     full speed) and tied to the stored hash it matched. The user row is
//     still read on every request: a user deactivated, deleted or given a
//     new password is refused at once, here and on every other server. An
//     entry lives CacheTTL after its last use, so a credential in steady
//     use never goes cold (no stall when it would have expired);
//   - concurrent checks of the same credentials share one computation;
//   - at most MaxConcurrentChecks computations run at once, at most
//     MaxQueuedChecks wait, none longer than MaxCheckWait: past those the
//     check is shed with EUNAVAILABLE (503 and Retry-After), so that a
//     burst cannot queue more work than the server can do while its
//     clients still wait.
type Authenticator struct {
	Store    store.Queries
	Backends Backends
	// SecretKey is webserver.secret_key, which signs session cookies.
	SecretKey string
	Clock     func() time.Time
	Logger    *slog.Logger
	// CacheTTL defaults to DefaultLoginCacheTTL.
	CacheTTL time.Duration
	// SessionLifetime is webserver.session_lifetime_minutes; 0 means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// Limiter throttles failed logins; nil when webserver.auth_rate_limited
	// is off.
	Limiter *LoginLimiter
	// MaxConcurrentChecks defaults to GOMAXPROCS; MaxQueuedChecks to
	// DefaultMaxQueuedChecks; MaxCheckWait to DefaultMaxCheckWait.
	MaxConcurrentChecks int
	MaxQueuedChecks     int
	MaxCheckWait        time.Duration

	once     sync.Once
	cacheKey []byte
	dummy    []byte // a bcrypt hash to spend time on for unknown users
	slots    chan struct{}
	queued   atomic.Int64
	flights  singleflight.Group
	checks   atomic.Int64

	// CookieName is the session cookie's name, the environment's
	// (SessionCookie); SessionCookieName when empty.
	CookieName string

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cachedLogin
}

type cachedLogin struct {
	username string
	hash     string // the ab_user.password the password matched
	expires  time.Time
}

// SessionCookie is the name of the environment's session cookie
// (CookieName, or SessionCookieName when unset).
func (a *Authenticator) SessionCookie() string {
	if a.CookieName == "" {
		return SessionCookieName
	}
	return a.CookieName
}

// NewAuthenticator returns the Authenticator that cfg describes
// (api.auth_backends, webserver.secret_key, session_lifetime_minutes,
// auth_rate_limited, auth_rate_limit). cfg must have passed Validate; an
// unreadable rate limit falls back to Airflow's default.
func NewAuthenticator(st store.Queries, cfg *config.Config, clock func() time.Time, logger *slog.Logger) *Authenticator {
	cfg = cfg.WithDefaults()
	a := &Authenticator{Store: st, Backends: ParseBackends(cfg.API.AuthBackends), SecretKey: cfg.Webserver.SecretKey,
		Clock: clock, Logger: logger, SessionLifetime: time.Duration(cfg.Webserver.SessionLifetimeMinutes) * time.Minute}
	if cfg.Webserver.AuthRateLimited {
		limit, err := config.ParseRateLimit(cfg.Webserver.AuthRateLimit)
		if err != nil {
			limit = config.RateLimit{Count: 5, Window: 40 * time.Second}
		}
		a.Limiter = NewLoginLimiter(limit)
	}
	a.CookieName = environmentCookie(st)
	return a
}

// environmentCookie is the session cookie name of the environment whose
// store st is (SessionCookie): a whole store knows its environment's id,
// queries inside a transaction do not, and get SessionCookieName.
func environmentCookie(st store.Queries) string {
	c, ok := st.(store.Coordination)
	if !ok {
		return SessionCookieName
	}
	id, err := c.EnvironmentID(context.Background())
	if err != nil {
		return SessionCookieName // a store that cannot say: one name for all, as before
	}
	return SessionCookie(id)
}

// Authenticate returns the user of a request's credentials with its roles
// and without its password hash. It returns (nil, nil) when the request
// carries none, an EUNAUTH error when they are wrong or not accepted,
// ETHROTTLED after too many failures and EUNAVAILABLE when the server is
// too busy to check a password now.
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
			return a.Login(ctx, username, password, ClientAddress(r))
		case strings.EqualFold(scheme, "Bearer"):
			return a.Token(ctx, strings.TrimSpace(rest))
		default:
			return nil, windsock.Errorf(windsock.EUNAUTH, "unsupported authorization scheme %q", scheme)
		}
	}
	if c, err := r.Cookie(a.SessionCookie()); err == nil && a.Backends.Session && !a.Backends.DenyAll {
		return a.Session(ctx, c.Value)
	}
	return nil, nil
}

// ClientAddress is the address logins of r are throttled by: the peer's
// IP. X-Forwarded-For is not trusted, since any client can set it.
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Login verifies a username and password sent from address with HTTP
// Basic auth. Like FAB's auth_user_db it counts the outcome in ab_user: a
// real verification that succeeds adds to login_count and sets last_login
// (a cached one does not: a script with Basic auth would write on every
// request), a failure adds to fail_login_count.
func (a *Authenticator) Login(ctx context.Context, username, password, address string) (*windsock.User, error) {
	return a.login(ctx, username, password, address, false)
}

// SignIn is Login for the login form: every success is a sign-in and
// counts in login_count and last_login, cached or not.
func (a *Authenticator) SignIn(ctx context.Context, username, password, address string) (*windsock.User, error) {
	return a.login(ctx, username, password, address, true)
}

func (a *Authenticator) login(ctx context.Context, username, password, address string, signIn bool) (*windsock.User, error) {
	a.init()
	now := a.now()
	if wait, ok := a.Limiter.Allow(username, address, now); !ok {
		return nil, throttled(wait)
	}
	wrong := windsock.Errorf(windsock.EUNAUTH, "invalid username or password")
	key := a.loginKey(username, password)
	u, err := a.Store.UserGet(ctx, username)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		// Spend the time a real check takes, so that response times do
		// not tell which usernames exist.
		if _, err := a.verify(ctx, attempt{username, address, now}, key, a.dummy, password, nil); err != nil {
			return nil, err
		}
		return nil, wrong // counted by the check's reservation
	}
	if err != nil {
		return nil, err
	}
	if !u.Active || u.Password == "" {
		a.Limiter.Fail(username, address, now)
		return nil, wrong
	}
	if !a.cached(key, u.Password) {
		ok, err := a.verify(ctx, attempt{username, address, now}, key, []byte(u.Password), password, func(ctx context.Context) {
			a.remember(key, username, u.Password)
			if !signIn {
				a.record(ctx, u, true)
			}
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			a.record(ctx, u, false) // the check's reservation is the failure
			return nil, wrong
		}
	}
	a.Limiter.Succeed(username, address, now)
	if signIn {
		a.record(ctx, u, true)
	}
	u.Password = ""
	return u, nil
}

// verify compares password with hash once for all concurrent callers of
// the same key and hash, within the bounds on concurrent and queued
// computations. onSuccess runs once, in the computation, when they match.
// throttled is the error of a login refused by the limiter for wait.
func throttled(wait time.Duration) error {
	secs := int(wait.Round(time.Second) / time.Second)
	return windsock.RetryLater(windsock.ETHROTTLED, wait,
		"Too many failed logins; try again in %d seconds", max(secs, 1))
}

// attempt is who tries to sign in, from where and when, for the limiter.
type attempt struct {
	username, address string
	at                time.Time
}

func (a *Authenticator) verify(ctx context.Context, who attempt, key [sha256.Size]byte, hash []byte, password string, onSuccess func(context.Context)) (bool, error) {
	// The computation outlives a caller that gives up: the others
	// sharing it still want the answer.
	flightCtx := context.WithoutCancel(ctx)
	ch := a.flights.DoChan(string(key[:])+string(hash), func() (any, error) {
		// A flight that ended between this caller's cache miss and now
		// has left its answer in the cache.
		if a.cached(key, string(hash)) {
			return true, nil
		}
		// One reservation per check, not per request: the requests that
		// share a check (one credential) count once, and checks started
		// together (guesses) each count before any of them ends.
		if wait, ok := a.Limiter.Reserve(who.username, who.address, who.at); !ok {
			return false, throttled(wait)
		}
		if err := a.acquire(); err != nil {
			a.Limiter.Release(who.username, who.address, who.at)
			return false, err
		}
		a.checks.Add(1)
		ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
		a.release()
		if ok {
			a.Limiter.Succeed(who.username, who.address, who.at)
		}
		if ok && onSuccess != nil {
			onSuccess(flightCtx)
		}
		return ok, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return false, res.Err
		}
		return res.Val.(bool), nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// acquire takes a computation slot, waiting in a bounded queue for at most
// MaxCheckWait.
func (a *Authenticator) acquire() error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	maxQueued := a.MaxQueuedChecks
	if maxQueued <= 0 {
		maxQueued = DefaultMaxQueuedChecks
	}
	wait := a.MaxCheckWait
	if wait <= 0 {
		wait = DefaultMaxCheckWait
	}
	overloaded := windsock.RetryLater(windsock.EUNAVAILABLE, wait,
		"The server is too busy checking passwords; try again shortly")
	if a.queued.Add(1) > int64(maxQueued) {
		a.queued.Add(-1)
		return overloaded
	}
	defer a.queued.Add(-1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return overloaded
	}
}

func (a *Authenticator) release() { <-a.slots }

// PasswordChecks returns how many bcrypt computations this Authenticator
// has run.
func (a *Authenticator) PasswordChecks() int64 { return a.checks.Load() }

// record writes a login's outcome to ab_user; a failure to write is
// logged, the login has been decided.
func (a *Authenticator) record(ctx context.Context, u *windsock.User, success bool) {
	if err := a.Store.UserRecordLogin(ctx, u.ID, success, a.now().UTC()); err != nil {
		a.logger().Warn("authenticate: record login", "user", u.Username, "success", success, "error", err)
	}
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

// StartSession starts a UI session of u (after a login) and returns its
// cookie; the session ends after SessionLifetime without activity. Expired sessions are removed on the
// way, so that the table holds live ones only.
func (a *Authenticator) StartSession(ctx context.Context, u *windsock.User, secure bool) (*http.Cookie, error) {
	now := a.now()
	if _, err := a.Store.SessionDeleteExpired(ctx, now.UTC()); err != nil {
		a.logger().Warn("authenticate: remove expired sessions", "error", err)
	}
	return CreateSession(ctx, a.Store, a.SecretKey, a.SessionCookie(), u.ID, now, a.sessionLifetime(), secure)
}

// Session verifies a session cookie's value: its signature, then that
// the session exists in the store (not logged out, revoked or expired) in
// the same query that reads its user, so a revocation counts at once on
// every server at no extra round trip. As Airflow's, a session expires
// after SessionLifetime without activity: a request pushes its expiry to
// now+SessionLifetime, writing at most once per sessionTouchEvery.
func (a *Authenticator) Session(ctx context.Context, value string) (*windsock.User, error) {
	now := a.now().UTC()
	id, err := parseSessionCookie(a.SecretKey, value)
	if err != nil {
		return nil, err
	}
	sess, u, err := a.Store.SessionUser(ctx, hashSessionID(id), now)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.EUNAUTH, "invalid or expired session")
	}
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, windsock.Errorf(windsock.EUNAUTH, "invalid session")
	}
	if expires := now.Add(a.sessionLifetime()); expires.Sub(sess.ExpiresAt) >= sessionTouchEvery {
		if err := a.Store.SessionExtend(ctx, sess.IDHash, expires); err != nil {
			a.logger().Warn("authenticate: extend session", "user", u.Username, "error", err)
		}
	}
	u.Password = ""
	return u, nil
}

func (a *Authenticator) sessionLifetime() time.Duration {
	if a.SessionLifetime <= 0 {
		return DefaultSessionLifetime
	}
	return a.SessionLifetime
}

// EndSession revokes the session of a cookie value (logout). A value that
// is not a valid session is ignored: there is nothing to end.
func (a *Authenticator) EndSession(ctx context.Context, value string) error {
	id, err := parseSessionCookie(a.SecretKey, value)
	if err != nil {
		return nil
	}
	return a.Store.SessionDelete(ctx, hashSessionID(id))
}

// Forget drops the cached verifications of username, after its password
// changed or it was deleted. Not needed for correctness (entries are tied
// to the stored hash, read on every request) but it frees them at once.
func (a *Authenticator) Forget(username string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.cache {
		if e.username == username {
			delete(a.cache, k)
		}
	}
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
		n := a.MaxConcurrentChecks
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		a.slots = make(chan struct{}, n)
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

// cached reports whether key verified against hash and is still fresh,
// and if so keeps it fresh for another TTL: this is the refresh before
// expiry, and it needs no bcrypt, since the same password against the
// same hash gives the same answer.
func (a *Authenticator) cached(key [sha256.Size]byte, hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	now := a.now()
	if !ok || e.hash != hash || !now.Before(e.expires) {
		return false
	}
	e.expires = now.Add(a.ttl())
	a.cache[key] = e
	return true
}

func (a *Authenticator) remember(key [sha256.Size]byte, username, hash string) {
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
	a.cache[key] = cachedLogin{username: username, hash: hash, expires: now.Add(a.ttl())}
}

func (a *Authenticator) ttl() time.Duration {
	if a.CacheTTL <= 0 {
		return DefaultLoginCacheTTL
	}
	return a.CacheTTL
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
