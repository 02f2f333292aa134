package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// TestProvidersPageShowsTheRegisteredOperators ties Admin > Providers to
// the operators an environment runs: every operator the catalog lists is
// registered; the page shows as native each one that runs natively, and as
// a placeholder each one whose registered operator only fails saying what
// it needs; nothing is registered that the page does not list.
func TestProvidersPageShowsTheRegisteredOperators(t *testing.T) {
	t.Parallel()
	env := openWithRoles(t, nil, Roles{})
	ctx := t.Context()
	if err := auth.EnsureBuiltinRoles(ctx, env.Store); err != nil {
		t.Fatal(err)
	}
	admin := &windsock.User{Username: "admin", FirstName: "a", LastName: "b", Email: "a@example.com", Active: true, Roles: []string{auth.RoleAdmin}}
	if err := env.Store.UserCreate(ctx, admin); err != nil {
		t.Fatal(err)
	}
	authn := auth.NewAuthenticator(env.Store, env.Config, nil, nil)
	cookie, err := auth.CreateSession(ctx, env.Store, env.Config.Webserver.SecretKey, authn.SessionCookie(), admin.ID, time.Now(), time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(env.newHandler())
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/provider/list", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /provider/list: %d %v\n%.500s", resp.StatusCode, err, b)
	}
	body := string(b)

	registry := env.OperatorRegistry()
	listed := map[string]bool{}
	for _, spec := range operator.Builtins().Specs() {
		listed[spec.Name] = true
		row := regexp.MustCompile(`<tr data-operator="` + regexp.QuoteMeta(spec.Class) + `">(?s:.*?)</tr>`).FindString(body)
		if row == "" {
			t.Errorf("the page has no row for %s", spec.Class)
			continue
		}
		op, ok := registry.Get(spec.Name)
		if !ok {
			t.Errorf("the page lists %s (%s), which the environment does not register", spec.Class, spec.Name)
			continue
		}
		if spec.Missing == "" {
			if !strings.Contains(row, `class="tag native"`) {
				t.Errorf("%s runs natively, but its row says otherwise: %s", spec.Class, row)
			}
			continue
		}
		if !strings.Contains(row, "placeholder: needs "+spec.Missing) {
			t.Errorf("%s is a placeholder, but its row says otherwise: %s", spec.Class, row)
		}
		// A placeholder fails at once, naming what it needs.
		_, err := op.Execute(context.Background(), &operator.Context{})
		if !errors.Is(err, operator.ErrFail) || !strings.Contains(err.Error(), spec.Missing) {
			t.Errorf("%s: the registered placeholder returned %v, want a failure naming %s", spec.Class, err, spec.Missing)
		}
	}
	for _, name := range registry.Names() {
		if !listed[name] {
			t.Errorf("the environment registers %q, which the Providers page does not list", name)
		}
	}
}
