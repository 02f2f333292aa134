package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var tok newTokenJSON
	e.ok(e.do("POST", "/api/v1/users/viewer/tokens", "viewer", map[string]any{"name": "laptop"}), http.StatusOK, &tok)
	if !strings.HasPrefix(tok.Token, "wsk_") || tok.Name != "laptop" || tok.ID == 0 || tok.ExpiresAt != nil {
		t.Fatalf("created token = %+v", tok)
	}
	bearer := func(token string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	}
	// The token acts as its user, with the user's rights.
	e.ok(e.doWith("GET", "/api/v1/roles", nil, bearer(tok.Token)), http.StatusForbidden, nil)
	e.ok(e.doWith("GET", "/api/v1/users/viewer/tokens", nil, bearer(tok.Token)), http.StatusOK, nil)

	r := e.do("GET", "/api/v1/users/viewer/tokens", "viewer", nil)
	var list struct {
		Tokens []tokenJSON `json:"tokens"`
		Total  int         `json:"total_entries"`
	}
	e.ok(r, http.StatusOK, &list)
	if list.Total != 1 || list.Tokens[0].Name != "laptop" || list.Tokens[0].LastUsedAt == nil {
		t.Fatalf("tokens = %+v", list)
	}
	if strings.Contains(string(r.body), tok.Token) || strings.Contains(string(r.body), "token_hash") {
		t.Fatalf("token list leaks the secret: %s", r.body)
	}

	// Only the owner, or an admin, manages a user's tokens.
	e.problem(e.do("GET", "/api/v1/users/admin/tokens", "viewer", nil), http.StatusForbidden, "")
	e.problem(e.do("POST", "/api/v1/users/admin/tokens", "op", map[string]any{"name": "x"}), http.StatusForbidden, "")
	e.ok(e.do("GET", "/api/v1/users/viewer/tokens", "admin", nil), http.StatusOK, nil)
	e.problem(e.do("GET", "/api/v1/users/ghost/tokens", "admin", nil), http.StatusNotFound, "not found")

	e.problem(e.do("POST", "/api/v1/users/viewer/tokens", "viewer", map[string]any{"name": "laptop"}), http.StatusConflict, "already has a token")
	e.problem(e.do("POST", "/api/v1/users/viewer/tokens", "viewer", map[string]any{}), http.StatusBadRequest, "name")
	e.problem(e.do("POST", "/api/v1/users/viewer/tokens", "viewer", map[string]any{"name": "x", "expires_at": "tomorrow"}), http.StatusBadRequest, `"expires_at"`)
	e.problem(e.do("POST", "/api/v1/users/viewer/tokens", "viewer", map[string]any{"name": "x", "expires_at": "2000-01-01T00:00:00Z"}), http.StatusBadRequest, "future")
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var short newTokenJSON
	e.ok(e.do("POST", "/api/v1/users/viewer/tokens", "admin", map[string]any{"name": "ci", "expires_at": exp}), http.StatusOK, &short)
	if short.ExpiresAt == nil || short.ExpiresAt.UTC().Format(time.RFC3339) != exp {
		t.Errorf("expires_at = %v, want %s", short.ExpiresAt, exp)
	}

	// Revoked tokens stop working at once.
	path := "/api/v1/users/viewer/tokens/" + strconv.FormatInt(tok.ID, 10)
	e.problem(e.do("DELETE", "/api/v1/users/admin/tokens/"+strconv.FormatInt(tok.ID, 10), "admin", nil), http.StatusNotFound, "not found")
	e.ok(e.doWith("DELETE", path, nil, bearer(tok.Token)), http.StatusNoContent, nil)
	e.problem(e.doWith("GET", "/api/v1/version", nil, bearer(tok.Token)), http.StatusUnauthorized, "invalid or revoked token")
	e.problem(e.do("DELETE", path, "viewer", nil), http.StatusNotFound, "not found")
	e.problem(e.do("DELETE", "/api/v1/users/viewer/tokens/abc", "viewer", nil), http.StatusBadRequest, "token_id")

	// Deleting the user takes its tokens.
	e.ok(e.do("DELETE", "/api/v1/users/viewer", "admin", nil), http.StatusNoContent, nil)
	e.problem(e.doWith("GET", "/api/v1/version", nil, bearer(short.Token)), http.StatusUnauthorized, "")
}
