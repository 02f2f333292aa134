package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

// writable reports whether this process may create files in dir. A
// directory that does not exist yet counts as writable: it is created.
func writable(dir string) bool {
	const wOK = 2 // access(2)'s W_OK
	err := syscall.Access(dir, wOK)
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

// homeLock is an exclusive lock on a file, held by the one standalone or
// SQLite scheduler that owns a home; the kernel releases it when the
// process ends, however it ends.
type homeLock struct{ f *os.File }

// lockFileName is the lock in WINDSOCK_HOME; a SQLite database file has a
// second lock next to it.
const lockFileName = "windsock.lock"

// envLock is one lock file and what it guards, for messages.
type envLock struct{ path, what string }

// envLocks are the locks a process that owns the environment of cfg
// takes: one in the home, and one next to its SQLite database file, which
// every home naming that file takes too (two homes may share one
// database, wherever it lies). An in-memory database is nobody else's.
func envLocks(cfg *config.Config) []envLock {
	locks := []envLock{{filepath.Join(cfg.Home, lockFileName), "windsock home " + cfg.Home}}
	if db, ok := cfg.SQLitePath(); ok && db != ":memory:" {
		locks = append(locks, envLock{db + ".lock", "SQLite database " + db})
	}
	return locks
}

// acquireHomeLocks takes every lock of cfg's environment, or fails naming
// what is in use and by which process; hint ends that message with what
// the user can do instead.
func acquireHomeLocks(cfg *config.Config, hint string) (release func(), err error) {
	var held []*homeLock
	release = func() {
		for _, l := range held {
			l.f.Close()
		}
	}
	for _, l := range envLocks(cfg) {
		h, err := tryLock(l, hint)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, h)
	}
	return release, nil
}

// tryLock takes an exclusive flock on l.path and writes our pid into it;
// hint ends the message when another process holds it.
func tryLock(l envLock, hint string) (*homeLock, error) {
	path := l.path
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		owner := ""
		if pid := strings.TrimSpace(string(b)); pid != "" {
			owner = " (pid " + pid + ")"
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, windsock.Errorf(windsock.ECONFLICT, "%s is already in use by another windsock standalone or scheduler%s%s", l.what, owner, hint)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &homeLock{f: f}, nil
}

// listenError turns a failure to listen on a port into the message a user
// can act on.
func listenError(addr string, port int, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return windsock.Errorf(windsock.ECONFLICT, "port %d is in use: choose another with --port", port)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}
