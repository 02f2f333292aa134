package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// connectionItem is Airflow's ConnectionCollectionItem: no password, no
// extra.
type connectionItem struct {
	ConnectionID string  `json:"connection_id"`
	ConnType     string  `json:"conn_type"`
	Description  *string `json:"description"`
	Host         *string `json:"host"`
	Login        *string `json:"login"`
	Schema       *string `json:"schema"`
	Port         *int    `json:"port"`
}

// connectionJSON is Airflow's Connection as read: the extra, never the
// password (write-only in Airflow's schema).
type connectionJSON struct {
	connectionItem
	Extra *string `json:"extra"`
}

// connectionInput is a Connection in a request body; nil fields were
// absent or null.
type connectionInput struct {
	ConnectionID *string `json:"connection_id"`
	ConnType     *string `json:"conn_type"`
	Description  *string `json:"description"`
	Host         *string `json:"host"`
	Login        *string `json:"login"`
	Schema       *string `json:"schema"`
	Port         *int    `json:"port"`
	Password     *string `json:"password"`
	Extra        *string `json:"extra"`
}

func connectionItemOut(id, connType, description, host, login, schema string, port int) connectionItem {
	out := connectionItem{ConnectionID: id, ConnType: connType, Description: metaNullable(description),
		Host: metaNullable(host), Login: metaNullable(login), Schema: metaNullable(schema)}
	if port != 0 {
		out.Port = &port
	}
	return out
}

func connectionOut(c *secrets.Connection) connectionJSON {
	return connectionJSON{
		connectionItem: connectionItemOut(c.ConnID, c.ConnType, c.Description, c.Host, c.Login, c.Schema, c.Port),
		Extra:          metaNullable(c.Extra),
	}
}

var connectionOrder = metaOrder[*windsock.Connection]{
	"id":            func(a, b *windsock.Connection) int { return cmp.Compare(a.ID, b.ID) },
	"connection_id": func(a, b *windsock.Connection) int { return cmp.Compare(a.ConnID, b.ConnID) },
	"conn_type":     func(a, b *windsock.Connection) int { return cmp.Compare(a.ConnType, b.ConnType) },
	"description":   func(a, b *windsock.Connection) int { return cmp.Compare(a.Description, b.Description) },
	"host":          func(a, b *windsock.Connection) int { return cmp.Compare(a.Host, b.Host) },
	"port":          func(a, b *windsock.Connection) int { return cmp.Compare(a.Port, b.Port) },
}

func connectionNotFound(id string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "The Connection with connection_id: `%s` was not found", id)
}

// connections returns the connection service; a server built without one
// (tests, tools) reads and writes the store without encryption.
func (s *Server) connections() *secrets.Connections {
	if s.Connections != nil {
		return s.Connections
	}
	return &secrets.Connections{Store: s.Store}
}

// getConnections is Airflow's get_connections: the stored connections
// without their secrets (those set only in the environment are not
// listed, as in Airflow).
func (s *Server) getConnections(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, connectionOrder.fields())
	if err != nil {
		return err
	}
	rows, err := s.Store.ConnectionList(r.Context())
	if err != nil {
		return err
	}
	total := len(rows)
	out := []connectionItem{}
	for _, c := range metaPage(rows, p, connectionOrder, "id") {
		out = append(out, connectionItemOut(c.ConnID, c.ConnType, c.Description, c.Host, c.Login, c.Schema, c.Port))
	}
	return writeJSON(w, http.StatusOK, collection("connections", out, total))
}

// getConnection is Airflow's get_connection.
func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("connection_id")
	c, err := s.connections().Stored(r.Context(), id)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return connectionNotFound(id)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, connectionOut(c))
}

// postConnection is Airflow's post_connection.
func (s *Server) postConnection(w http.ResponseWriter, r *http.Request) error {
	var in connectionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := in.connection(true)
	if err != nil {
		return err
	}
	if err := s.connections().Add(r.Context(), c); err != nil {
		if windsock.ErrorCode(err) == windsock.ECONFLICT {
			return windsock.Errorf(windsock.ECONFLICT, "Connection already exist. ID: %s", c.ConnID)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, connectionOut(c))
}

// connection checks a Connection body as Airflow's schema does
// (connection_id and conn_type required) and returns it; withID false
// skips the connection_id (a connection to test needs none).
func (in *connectionInput) connection(withID bool) (*secrets.Connection, error) {
	var missing []string
	if withID && in.ConnectionID == nil {
		missing = append(missing, "connection_id")
	}
	if in.ConnType == nil {
		missing = append(missing, "conn_type")
	}
	if len(missing) > 0 {
		return nil, windsock.Errorf(windsock.EINVALID, "missing required field(s) %s", metaPythonList(missing))
	}
	c := &secrets.Connection{ConnType: *in.ConnType}
	if withID {
		if err := secrets.ValidateConnID(*in.ConnectionID); err != nil {
			return nil, err
		}
		c.ConnID = *in.ConnectionID
	}
	in.apply(c, nil)
	return c, in.check()
}

// check rejects values the store would refuse, with the field's name.
func (in *connectionInput) check() error {
	if in.ConnType != nil && strings.TrimSpace(*in.ConnType) == "" {
		return windsock.Errorf(windsock.EINVALID, "conn_type must not be empty")
	}
	if in.Port != nil && (*in.Port < 0 || *in.Port > 65535) {
		return windsock.Errorf(windsock.EINVALID, "port must be between 0 and 65535, got %d", *in.Port)
	}
	return nil
}

// apply copies the fields present in the body (all of them, or only those
// in mask when it is not nil) onto c.
func (in *connectionInput) apply(c *secrets.Connection, mask []string) {
	set := func(name string, src *string, dst *string) {
		if src != nil && (mask == nil || slices.Contains(mask, name)) {
			*dst = *src
		}
	}
	set("conn_type", in.ConnType, &c.ConnType)
	set("description", in.Description, &c.Description)
	set("host", in.Host, &c.Host)
	set("login", in.Login, &c.Login)
	set("schema", in.Schema, &c.Schema)
	set("password", in.Password, &c.Password)
	set("extra", in.Extra, &c.Extra)
	if in.Port != nil && (mask == nil || slices.Contains(mask, "port")) {
		c.Port = *in.Port
	}
}

// has reports whether the body has the named field, for update_mask.
func (in *connectionInput) has(name string) bool {
	switch name {
	case "connection_id":
		return in.ConnectionID != nil
	case "conn_type":
		return in.ConnType != nil
	case "description":
		return in.Description != nil
	case "host":
		return in.Host != nil
	case "login":
		return in.Login != nil
	case "schema":
		return in.Schema != nil
	case "port":
		return in.Port != nil
	case "password":
		return in.Password != nil
	case "extra":
		return in.Extra != nil
	}
	return false
}

// patchConnection is Airflow's patch_connection: the fields in the body
// (or only those named in update_mask) replace the stored ones; the
// connection_id cannot change.
func (s *Server) patchConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("connection_id")
	var in connectionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	mask, err := metaMaskedFields(r, in.has, "connection_id")
	if err != nil {
		return err
	}
	c, err := s.connections().Stored(r.Context(), id)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return connectionNotFound(id)
	}
	if err != nil {
		return err
	}
	if in.ConnectionID != nil && *in.ConnectionID != id {
		return windsock.Errorf(windsock.EINVALID, "The connection_id cannot be updated.")
	}
	in.apply(c, mask)
	if err := s.connections().Update(r.Context(), c); err != nil {
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return connectionNotFound(id)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, connectionOut(c))
}

// deleteConnection is Airflow's delete_connection.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("connection_id")
	err := s.connections().Delete(r.Context(), id)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return connectionNotFound(id)
	}
	if err != nil {
		return err
	}
	return noContent(w)
}
