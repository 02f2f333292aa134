package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// ListenedScopes returns the scopes (schemas) the listening connection of
// rawURL's database LISTENs for now.
func ListenedScopes(rawURL string) ([]string, error) {
	cfg, err := connConfig(rawURL)
	if err != nil {
		return nil, err
	}
	l := sharedListener(cfg)
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.listened), nil
}

// Listener is a listener of its own (not the one its database's stores
// share), so that a test sees only what it does to it.
type Listener struct{ l *listener }

// NewListener returns a listener of rawURL's database, not shared.
func NewListener(rawURL string) (*Listener, error) {
	cfg, err := connConfig(rawURL)
	if err != nil {
		return nil, err
	}
	return &Listener{l: &listener{connConfig: cfg}}, nil
}

func connConfig(rawURL string) (*pgx.ConnConfig, error) {
	connString, err := ConnString(rawURL)
	if err != nil {
		return nil, err
	}
	return pgx.ParseConfig(connString)
}

// Listen is a store's Listen on scope.
func (l *Listener) Listen(ctx context.Context, scope, name string) (<-chan string, error) {
	return l.l.listen(ctx, scope, name)
}

// State returns the backend pid of the connection held (0: none), the
// scopes it LISTENs for and the scopes listeners want.
func (l *Listener) State() (pid uint32, listened, wanted []string) {
	l.l.mu.Lock()
	defer l.l.mu.Unlock()
	if l.l.conn != nil {
		pid = l.l.conn.PgConn().PID()
	}
	return pid, slices.Clone(l.l.listened), slices.Clone(l.l.scopes)
}
