package secrets

import (
	"context"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Connections reads and writes connections. Environ is the environment to
// look secrets up in (os.Environ() in production), injected so that tests
// and services never depend on the process environment.
type Connections struct {
	Store   store.Queries
	Keys    *fernet.Keys
	Environ []string
}

// Get returns a connection: from WINDSOCK_CONN_<ID>, else
// AIRFLOW_CONN_<ID> (id upper-cased; the value a URI, or JSON when it
// starts with '{'), else the store, decrypted. A connection found nowhere
// is an ENOTFOUND error.
func (c *Connections) Get(ctx context.Context, connID string) (*Connection, error) {
	if value, envName, ok := lookupSecretEnv(c.Environ, windsockConnPrefix, airflowConnPrefix, connID); ok {
		conn, err := parseConnValue(connID, value)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", envName, err)
		}
		return conn, nil
	}
	return c.Stored(ctx, connID)
}

// parseConnValue reads a connection given as a URI or as JSON, as Airflow
// deserializes secrets-backend values.
func parseConnValue(connID, value string) (*Connection, error) {
	if strings.HasPrefix(strings.TrimSpace(value), "{") {
		return ParseJSON(connID, []byte(value))
	}
	return ParseURI(connID, value)
}

// Stored returns a connection from the store only, decrypted: what the
// REST API and UI show and edit.
func (c *Connections) Stored(ctx context.Context, connID string) (*Connection, error) {
	row, err := c.Store.ConnectionGet(ctx, connID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %q does not exist", connID)
	}
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	return c.decrypt(row)
}

// Add stores a new connection, encrypting its password and extra when a
// Fernet key is configured; ECONFLICT if the conn_id exists.
func (c *Connections) Add(ctx context.Context, conn *Connection) error {
	row, err := c.encrypt(conn)
	if err != nil {
		return err
	}
	if err := c.Store.ConnectionInsert(ctx, row); err != nil {
		if windsock.ErrorCode(err) == windsock.ECONFLICT {
			return windsock.Errorf(windsock.ECONFLICT, "connection %q already exists", conn.ConnID)
		}
		return fmt.Errorf("add connection: %w", err)
	}
	return nil
}

// Update replaces every field of the stored connection with conn.ConnID;
// ENOTFOUND if there is none.
func (c *Connections) Update(ctx context.Context, conn *Connection) error {
	row, err := c.encrypt(conn)
	if err != nil {
		return err
	}
	if err := c.Store.ConnectionUpdate(ctx, row); err != nil {
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return windsock.Errorf(windsock.ENOTFOUND, "connection %q does not exist", conn.ConnID)
		}
		return fmt.Errorf("update connection: %w", err)
	}
	return nil
}

// Delete removes a connection from the store; ENOTFOUND if it is not
// there.
func (c *Connections) Delete(ctx context.Context, connID string) error {
	err := c.Store.ConnectionDelete(ctx, connID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "connection %q does not exist", connID)
	}
	if err != nil {
		return fmt.Errorf("delete connection: %w", err)
	}
	return nil
}

// List returns every connection of the store, decrypted, ordered by
// conn_id. Connections defined only in the environment are not listed, as
// in Airflow.
func (c *Connections) List(ctx context.Context) ([]*Connection, error) {
	rows, err := c.Store.ConnectionList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out := make([]*Connection, 0, len(rows))
	for _, row := range rows {
		conn, err := c.decrypt(row)
		if err != nil {
			return nil, err
		}
		out = append(out, conn)
	}
	return out, nil
}

// ValidateConnID applies Airflow's rule for conn_id (helpers.validate_key):
// letters, digits, '_', '.' and '-' only, at most 250 characters.
func ValidateConnID(connID string) error {
	if err := validateKey("conn_id", connID); err != nil {
		return err
	}
	for _, r := range connID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return windsock.Errorf(windsock.EINVALID, "conn_id %q must be made of letters, digits, dashes, dots and underscores only", connID)
		}
	}
	return nil
}

// encrypt validates conn and turns it into a store row, encrypting the
// password and extra when they are set and a key is configured (Airflow
// leaves empty ones unencrypted).
func (c *Connections) encrypt(conn *Connection) (*windsock.Connection, error) {
	if err := ValidateConnID(conn.ConnID); err != nil {
		return nil, err
	}
	if conn.ConnType == "" {
		return nil, windsock.Errorf(windsock.EINVALID, "connection %q: conn_type must not be empty", conn.ConnID)
	}
	if conn.Port < 0 || conn.Port > 65535 {
		return nil, windsock.Errorf(windsock.EINVALID, "connection %q: port must be between 0 and 65535, got %d", conn.ConnID, conn.Port)
	}
	row := &windsock.Connection{
		ConnID: conn.ConnID, ConnType: conn.ConnType, Description: conn.Description,
		Host: conn.Host, Schema: conn.Schema, Login: conn.Login, Password: conn.Password,
		Port: conn.Port, Extra: conn.Extra,
	}
	if !c.Keys.Enabled() {
		return row, nil
	}
	if row.Password != "" {
		enc, err := c.Keys.Encrypt([]byte(row.Password))
		if err != nil {
			return nil, fmt.Errorf("encrypt password of connection %q: %w", conn.ConnID, err)
		}
		row.Password, row.IsEncrypted = enc, true
	}
	if row.Extra != "" {
		enc, err := c.Keys.Encrypt([]byte(row.Extra))
		if err != nil {
			return nil, fmt.Errorf("encrypt extra of connection %q: %w", conn.ConnID, err)
		}
		row.Extra, row.IsExtraEncrypted = enc, true
	}
	return row, nil
}

func (c *Connections) decrypt(row *windsock.Connection) (*Connection, error) {
	conn := &Connection{
		ConnID: row.ConnID, ConnType: row.ConnType, Description: row.Description,
		Host: row.Host, Schema: row.Schema, Login: row.Login, Password: row.Password,
		Port: row.Port, Extra: row.Extra,
	}
	if row.IsEncrypted && row.Password != "" {
		plain, err := c.Keys.Decrypt(row.Password)
		if err != nil {
			return nil, fmt.Errorf("decrypt password of connection %q: %w", row.ConnID, err)
		}
		conn.Password = string(plain)
	}
	if row.IsExtraEncrypted && row.Extra != "" {
		plain, err := c.Keys.Decrypt(row.Extra)
		if err != nil {
			return nil, fmt.Errorf("decrypt extra of connection %q: %w", row.ConnID, err)
		}
		conn.Extra = string(plain)
	}
	return conn, nil
}
