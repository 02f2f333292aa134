package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/config"
)

func TestConfigHiddenByDefault(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.problem(e.doChecked("GET", "/api/v1/config", "admin", nil), http.StatusForbidden, "chose not to expose the configuration")
	e.problem(e.doChecked("GET", "/api/v1/config/section/core/option/dags_folder", "admin", nil), http.StatusForbidden, "chose not to expose")
	// The permission is checked first: a Viewer lacks can_read on Configurations.
	e.problem(e.doChecked("GET", "/api/v1/config", "viewer", nil), http.StatusForbidden, "permission")
}

func TestConfigExposed(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Webserver.ExposeConfig = true })

	var body configBody
	e.ok(e.doChecked("GET", "/api/v1/config", "op", nil), http.StatusOK, &body)
	found := map[string]string{}
	for _, s := range body.Sections {
		for _, o := range s.Options {
			found[s.Name+"."+o.Key] = o.Value
		}
	}
	if found["webserver.secret_key"] != "< hidden >" || found["core.fernet_key"] != "< hidden >" {
		t.Errorf("secrets not masked: secret_key=%q fernet_key=%q", found["webserver.secret_key"], found["core.fernet_key"])
	}
	if found["api.maximum_page_limit"] != "100" {
		t.Errorf("api.maximum_page_limit = %q", found["api.maximum_page_limit"])
	}

	e.ok(e.doChecked("GET", "/api/v1/config?section=api", "admin", nil), http.StatusOK, &body)
	if len(body.Sections) != 1 || body.Sections[0].Name != "api" {
		t.Errorf("section=api gave %+v", body.Sections)
	}
	e.problem(e.doChecked("GET", "/api/v1/config?section=nope", "admin", nil), http.StatusNotFound, "section=nope not found")

	r := e.doWith("GET", "/api/v1/config?section=api", nil, func(r *http.Request) {
		r.SetBasicAuth("admin", password)
		r.Header.Set("Accept", "text/plain")
	})
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), "[api]\n") || !strings.Contains(string(r.body), "maximum_page_limit = 100\n") {
		t.Errorf("text/plain config: %d %q", r.status, r.body)
	}
	e.problem(e.doWith("GET", "/api/v1/config", nil, func(r *http.Request) {
		r.SetBasicAuth("admin", password)
		r.Header.Set("Accept", "image/png")
	}), http.StatusNotAcceptable, "")

	e.ok(e.doChecked("GET", "/api/v1/config/section/webserver/option/secret_key", "admin", nil), http.StatusOK, &body)
	if len(body.Sections) != 1 || body.Sections[0].Options[0].Value != "< hidden >" {
		t.Errorf("get_value(secret_key) = %+v", body)
	}
	e.ok(e.doChecked("GET", "/api/v1/config/section/API/option/fallback_page_limit", "admin", nil), http.StatusOK, &body)
	if body.Sections[0].Options[0] != (configOption{Key: "fallback_page_limit", Value: "100"}) {
		t.Errorf("get_value(fallback_page_limit) = %+v", body)
	}
	e.problem(e.doChecked("GET", "/api/v1/config/section/core/option/nope", "admin", nil), http.StatusNotFound, "[core/nope] is not found")
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ accept, want string }{
		{"", "application/json"},
		{"*/*", "text/plain"},
		{"application/json", "application/json"},
		{"text/plain;q=0.5, application/json", "application/json"},
		{"text/*", "text/plain"},
		{"application/json;q=0, */*;q=0.1", "text/plain"},
		{"image/png", ""},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		got, err := negotiate(r, "text/plain", "application/json")
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("negotiate(%q) = %q, %v; want %q", tc.accept, got, err, tc.want)
		}
	}
}
