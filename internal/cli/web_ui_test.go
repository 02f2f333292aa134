package cli_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// checkUILogin checks the UI a running server serves at base: "/" sends
// an anonymous visitor to the login page, and the admin password logs in
// and opens the DAGs list.
func checkUILogin(t *testing.T, base, password string) {
	t.Helper()
	uiLogin(t, base, password)
}

// uiLogin logs admin in to the UI at base, checking each step, and
// returns a client holding the session.
func uiLogin(t *testing.T, base, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("GET / without a session: %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(base + "/login?next=%2F")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("login page has no CSRF token: %s", page)
	}
	resp, err = client.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {password},
		"csrf_token": {string(m[1])}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login as admin: %d to %q, want a redirect to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="dags-table"`) {
		t.Fatalf("GET / after login: %d, want the DAGs list", resp.StatusCode)
	}
	return client
}
