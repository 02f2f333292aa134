package postgres

import (
	"slices"

	"github.com/jackc/pgx/v5"
)

// ListenedScopes returns the scopes (schemas) the listening connection of
// rawURL's database LISTENs for now.
func ListenedScopes(rawURL string) ([]string, error) {
	connString, err := ConnString(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	l := sharedListener(cfg)
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.listened), nil
}
