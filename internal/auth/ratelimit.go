package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/config"
)

// maxTrackedKeys bounds the memory of a LoginLimiter: past it, keys whose
// failures all left the window go, then arbitrary ones (an attacker with
// that many addresses gains a reset of some counters, not memory).
const maxTrackedKeys = 100_000

// LoginLimiter throttles password guessing: it counts failed logins per
// (username, client address) and per client address in a sliding window
// and refuses further attempts of a key that reached its limit, before
// any password is checked.
//
// There is deliberately no limit per username alone: one that any address
// could trip would let anybody lock a user (or the admin) out by sending
// wrong passwords. Guessing one user's password from one address is
// limited by the pair; spraying many usernames from one address by the
// address limit (PerAddress, a multiple of the pair's so that a few
// colleagues behind one NAT address mistyping do not lock each other out).
//
// Counts are per process, as Flask-Limiter's default memory storage in
// Airflow's web server: N web servers allow N times the limit at most.
type LoginLimiter struct {
	// PerUser limits failures per (username, address).
	PerUser config.RateLimit
	// PerAddress limits failures per address, across usernames.
	PerAddress config.RateLimit

	mu       sync.Mutex
	failures map[string][]time.Time // key -> failure times, oldest first
}

// NewLoginLimiter returns a limiter allowing limit failures per
// (username, address) and four times as many per address.
func NewLoginLimiter(limit config.RateLimit) *LoginLimiter {
	return &LoginLimiter{PerUser: limit, PerAddress: config.RateLimit{Count: 4 * limit.Count, Window: limit.Window}}
}

// userKey keys a (username, address) pair; usernames are hashed, so that
// memory does not grow with the length of names an attacker makes up.
func userKey(username, address string) string {
	sum := sha256.Sum256([]byte(username))
	return "u\x00" + address + "\x00" + hex.EncodeToString(sum[:16])
}

func addressKey(address string) string { return "a\x00" + address }

// Allow reports whether a login of username from address may be checked
// now and, when not, how long until it may.
func (l *LoginLimiter) Allow(username, address string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.wait(userKey(username, address), l.PerUser, now), l.wait(addressKey(address), l.PerAddress, now))
	return wait, wait == 0
}

// Reserve is Allow for a password check about to run: when allowed, the
// attempt counts as a failure at once, until Succeed or Release takes it
// back. Checks started together would otherwise all pass Allow before the
// first failure is known (concurrent guesses, each with its own password).
func (l *LoginLimiter) Reserve(username, address string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.wait(userKey(username, address), l.PerUser, now), l.wait(addressKey(address), l.PerAddress, now))
	if wait == 0 {
		l.add(username, address, now)
	}
	return wait, wait == 0
}

// wait returns how long key must wait under limit, 0 if it need not.
func (l *LoginLimiter) wait(key string, limit config.RateLimit, now time.Time) time.Duration {
	times := l.prune(key, limit.Window, now)
	if len(times) < limit.Count {
		return 0
	}
	// The oldest failure that keeps the count at the limit must leave the
	// window.
	return times[len(times)-limit.Count].Add(limit.Window).Sub(now)
}

// prune drops key's failures that left the window and returns the rest.
func (l *LoginLimiter) prune(key string, window time.Duration, now time.Time) []time.Time {
	times := l.failures[key]
	i := 0
	for i < len(times) && !now.Before(times[i].Add(window)) {
		i++
	}
	times = times[i:]
	if len(times) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = times
	return times
}

// Fail records a failed login of username from address that no Reserve
// counted (one decided without a password check).
func (l *LoginLimiter) Fail(username, address string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.add(username, address, now)
}

// add counts a failure of username from address at now.
func (l *LoginLimiter) add(username, address string, now time.Time) {
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	if len(l.failures) >= maxTrackedKeys {
		l.evict(now)
	}
	for _, k := range []struct {
		key   string
		limit config.RateLimit
	}{{userKey(username, address), l.PerUser}, {addressKey(address), l.PerAddress}} {
		times := append(l.prune(k.key, k.limit.Window, now), now)
		// Only the last Count failures matter to wait.
		if len(times) > k.limit.Count {
			times = times[len(times)-k.limit.Count:]
		}
		l.failures[k.key] = times
	}
}

// Succeed forgets the failures of username from address, and takes back
// the address's count of the attempt Reserve admitted at (not its other
// failures: an attacker's own account must not reset its spraying).
func (l *LoginLimiter) Succeed(username, address string, at time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, userKey(username, address))
	l.takeBack(addressKey(address), at)
}

// Release takes back the attempt Reserve admitted at, for a login that was
// neither a success nor a failure (the check was shed or cancelled).
func (l *LoginLimiter) Release(username, address string, at time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takeBack(userKey(username, address), at)
	l.takeBack(addressKey(address), at)
}

// takeBack removes one failure counted at at from key.
func (l *LoginLimiter) takeBack(key string, at time.Time) {
	times := l.failures[key]
	if i := slices.IndexFunc(times, at.Equal); i >= 0 {
		times = slices.Delete(times, i, i+1)
		if len(times) == 0 {
			delete(l.failures, key)
			return
		}
		l.failures[key] = times
	}
}

func (l *LoginLimiter) evict(now time.Time) {
	longest := max(l.PerUser.Window, l.PerAddress.Window)
	for k, times := range l.failures {
		if !now.Before(times[len(times)-1].Add(longest)) {
			delete(l.failures, k)
		}
	}
	for k := range l.failures {
		if len(l.failures) < maxTrackedKeys {
			break
		}
		delete(l.failures, k)
	}
}
