package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// tokenJSON is an API token as listed: never the token or its hash.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// newTokenJSON is the answer to creating a token: the only time the token
// is shown.
type newTokenJSON struct {
	tokenJSON
	Token string `json:"token"`
}

type tokenInput struct {
	Name *string `json:"name"`
	// ExpiresAt is an ISO 8601 date-time; absent or null: never expires.
	ExpiresAt *string `json:"expires_at"`
}

func tokenOut(t *windsock.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
}

// tokenOwner returns the user named in the path when the request's user
// may manage its tokens: their own, or anyone's with can_edit on Users.
func (s *Server) tokenOwner(r *http.Request) (*windsock.User, error) {
	me, username := userFrom(r), r.PathValue("username")
	if me == nil || (me.Username != username && !s.authz.Can(r.Context(), me, auth.ActionEdit, auth.ResourceUser)) {
		return nil, forbidden()
	}
	u, err := s.Store.UserGet(r.Context(), username)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, userNotFound(username)
	}
	return u, err
}

// getTokens lists a user's API tokens.
func (s *Server) getTokens(w http.ResponseWriter, r *http.Request) error {
	u, err := s.tokenOwner(r)
	if err != nil {
		return err
	}
	tokens, err := s.Store.APITokenList(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(tokens))
	for i, t := range tokens {
		out[i] = tokenOut(t)
	}
	return writeJSON(w, http.StatusOK, collection("tokens", out, len(out)))
}

// postToken creates an API token and returns it, once.
func (s *Server) postToken(w http.ResponseWriter, r *http.Request) error {
	u, err := s.tokenOwner(r)
	if err != nil {
		return err
	}
	var in tokenInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return windsock.Errorf(windsock.EINVALID, "missing required field: name")
	}
	var expires *time.Time
	if in.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.ExpiresAt)
		if err != nil {
			return windsock.Errorf(windsock.EINVALID, "field \"expires_at\": expected an ISO 8601 date-time with a time zone, got %q", *in.ExpiresAt)
		}
		expires = &t
	}
	token, t, err := auth.CreateAPIToken(r.Context(), s.Store, u.Username, *in.Name, expires, s.Clock())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newTokenJSON{tokenJSON: tokenOut(t), Token: token})
}

// deleteToken revokes an API token.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	u, err := s.tokenOwner(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("token_id"), 10, 64)
	if err != nil {
		return windsock.Errorf(windsock.EINVALID, "token_id: expected an integer, got %q", r.PathValue("token_id"))
	}
	if err := s.Store.APITokenDelete(r.Context(), u.ID, id); err != nil {
		return err
	}
	return noContent(w)
}
