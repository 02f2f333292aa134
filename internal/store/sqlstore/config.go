package sqlstore

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/windsock"
)

// This file holds what DAGs are configured with: variables, connections and
// pools.

// VariableGet returns the variable with key.
func (q *queries) VariableGet(ctx context.Context, key string) (*windsock.Variable, error) {
	var v windsock.Variable
	err := q.queryRow(ctx, `SELECT id, "key", val, description, is_encrypted
		FROM variable WHERE "key" = ?`, key).Scan(&v.ID, nullString{&v.Key}, nullString{&v.Val},
		nullString{&v.Description}, nullBool{&v.IsEncrypted})
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "variable %q not found", key)
	case err != nil:
		return nil, fmt.Errorf("get variable: %w", err)
	}
	return &v, nil
}

// VariableSet inserts or replaces the variable with v.Key and sets v.ID.
func (q *queries) VariableSet(ctx context.Context, v *windsock.Variable) error {
	if err := q.queryRow(ctx, `INSERT INTO variable ("key", val, description, is_encrypted)
		VALUES (?, ?, ?, ?)
		ON CONFLICT ("key") DO UPDATE SET
			val = excluded.val,
			description = excluded.description,
			is_encrypted = excluded.is_encrypted
		RETURNING id`,
		v.Key, v.Val, str(v.Description), v.IsEncrypted).Scan(&v.ID); err != nil {
		return fmt.Errorf("set variable %q: %w", v.Key, err)
	}
	return nil
}

// VariableDelete removes the variable with key.
func (q *queries) VariableDelete(ctx context.Context, key string) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "variable %q not found", key),
		`DELETE FROM variable WHERE "key" = ?`, key); err != nil {
		return fmt.Errorf("delete variable: %w", err)
	}
	return nil
}

// VariableList returns every variable, ordered by key.
func (q *queries) VariableList(ctx context.Context) ([]*windsock.Variable, error) {
	rows, err := q.query(ctx, `SELECT id, "key", val, description, is_encrypted
		FROM variable ORDER BY "key"`)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	defer rows.Close()
	var out []*windsock.Variable
	for rows.Next() {
		var v windsock.Variable
		if err := rows.Scan(&v.ID, nullString{&v.Key}, nullString{&v.Val},
			nullString{&v.Description}, nullBool{&v.IsEncrypted}); err != nil {
			return nil, fmt.Errorf("list variables: %w", err)
		}
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	return out, nil
}

const connectionColumns = `id, conn_id, conn_type, description, host, "schema", login, password,
	port, extra, is_encrypted, is_extra_encrypted`

type rowScanner interface {
	Scan(dest ...any) error
}

func scanConnection(r rowScanner) (*windsock.Connection, error) {
	var c windsock.Connection
	err := r.Scan(&c.ID, &c.ConnID, nullString{&c.ConnType}, nullString{&c.Description},
		nullString{&c.Host}, nullString{&c.Schema}, nullString{&c.Login}, nullString{&c.Password},
		nullInt{&c.Port}, nullString{&c.Extra}, nullBool{&c.IsEncrypted}, nullBool{&c.IsExtraEncrypted})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// connectionArgs returns c's column values after conn_id, in
// connectionColumns' order.
func connectionArgs(c *windsock.Connection) []any {
	var port any
	if c.Port != 0 {
		port = c.Port
	}
	return []any{c.ConnType, str(c.Description), str(c.Host), str(c.Schema), str(c.Login),
		str(c.Password), port, str(c.Extra), c.IsEncrypted, c.IsExtraEncrypted}
}

// ConnectionGet returns the connection with connID.
func (q *queries) ConnectionGet(ctx context.Context, connID string) (*windsock.Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+`
		FROM connection WHERE conn_id = ?`, connID))
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %q not found", connID)
	case err != nil:
		return nil, fmt.Errorf("get connection: %w", err)
	}
	return c, nil
}

// ConnectionInsert adds a connection and sets c.ID; ECONFLICT if conn_id
// exists.
func (q *queries) ConnectionInsert(ctx context.Context, c *windsock.Connection) error {
	err := q.queryRow(ctx, `INSERT INTO connection (conn_id, conn_type, description, host,
			"schema", login, password, port, extra, is_encrypted, is_extra_encrypted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append([]any{c.ConnID}, connectionArgs(c)...)...).Scan(&c.ID)
	switch {
	case err != nil && q.d.IsUniqueViolation(err):
		return windsock.Errorf(windsock.ECONFLICT, "connection %q already exists", c.ConnID)
	case err != nil:
		return fmt.Errorf("insert connection %q: %w", c.ConnID, err)
	}
	return nil
}

// ConnectionUpdate replaces every field of the connection with c.ConnID and
// sets c.ID.
func (q *queries) ConnectionUpdate(ctx context.Context, c *windsock.Connection) error {
	err := q.queryRow(ctx, `UPDATE connection SET conn_type = ?, description = ?, host = ?,
			"schema" = ?, login = ?, password = ?, port = ?, extra = ?, is_encrypted = ?,
			is_extra_encrypted = ?
		WHERE conn_id = ? RETURNING id`,
		append(connectionArgs(c), c.ConnID)...).Scan(&c.ID)
	switch {
	case isNoRows(err):
		return windsock.Errorf(windsock.ENOTFOUND, "connection %q not found", c.ConnID)
	case err != nil:
		return fmt.Errorf("update connection %q: %w", c.ConnID, err)
	}
	return nil
}

// ConnectionDelete removes the connection with connID.
func (q *queries) ConnectionDelete(ctx context.Context, connID string) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "connection %q not found", connID),
		`DELETE FROM connection WHERE conn_id = ?`, connID); err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	return nil
}

// ConnectionList returns every connection, ordered by conn_id.
func (q *queries) ConnectionList(ctx context.Context) ([]*windsock.Connection, error) {
	rows, err := q.query(ctx, `SELECT `+connectionColumns+` FROM connection ORDER BY conn_id`)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	defer rows.Close()
	var out []*windsock.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// PoolGet returns the pool called name.
func (q *queries) PoolGet(ctx context.Context, name string) (*windsock.Pool, error) {
	var p windsock.Pool
	err := q.queryRow(ctx, `SELECT id, pool, slots, description, include_deferred
		FROM slot_pool WHERE pool = ?`, name).Scan(&p.ID, nullString{&p.Pool}, nullInt{&p.Slots},
		nullString{&p.Description}, nullBool{&p.IncludeDeferred})
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "pool %q not found", name)
	case err != nil:
		return nil, fmt.Errorf("get pool: %w", err)
	}
	return &p, nil
}

// PoolUpsert inserts or replaces the pool with p.Pool and sets p.ID.
func (q *queries) PoolUpsert(ctx context.Context, p *windsock.Pool) error {
	if err := q.queryRow(ctx, `INSERT INTO slot_pool (pool, slots, description, include_deferred)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (pool) DO UPDATE SET
			slots = excluded.slots,
			description = excluded.description,
			include_deferred = excluded.include_deferred
		RETURNING id`,
		p.Pool, p.Slots, str(p.Description), p.IncludeDeferred).Scan(&p.ID); err != nil {
		return fmt.Errorf("upsert pool %q: %w", p.Pool, err)
	}
	return nil
}

// PoolDelete removes the pool called name.
func (q *queries) PoolDelete(ctx context.Context, name string) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "pool %q not found", name),
		`DELETE FROM slot_pool WHERE pool = ?`, name); err != nil {
		return fmt.Errorf("delete pool: %w", err)
	}
	return nil
}

// PoolList returns every pool, ordered by name.
func (q *queries) PoolList(ctx context.Context) ([]*windsock.Pool, error) {
	rows, err := q.query(ctx, `SELECT id, pool, slots, description, include_deferred
		FROM slot_pool ORDER BY pool`)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	defer rows.Close()
	var out []*windsock.Pool
	for rows.Next() {
		var p windsock.Pool
		if err := rows.Scan(&p.ID, nullString{&p.Pool}, nullInt{&p.Slots},
			nullString{&p.Description}, nullBool{&p.IncludeDeferred}); err != nil {
			return nil, fmt.Errorf("list pools: %w", err)
		}
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return out, nil
}
