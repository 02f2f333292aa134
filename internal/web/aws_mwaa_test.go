package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/mwaatoken"
)

// mwaaServer is a UI server whose configuration has a token secret, with
// a CLI runner that echoes its arguments.
func mwaaServer(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	e := setup(t)
	home := t.TempDir()
	cfgText := "[webserver]\nsecret_key = k\n"
	if secret != "" {
		cfgText += "[aws_mwaa]\ntoken_secret = " + secret + "\n"
	}
	if err := os.WriteFile(filepath.Join(home, config.FileName), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: e.st, Config: cfg, Version: "test",
		AirflowCLI: func(_ context.Context, args []string) ([]byte, []byte, error) {
			return []byte(strings.Join(args, "|")), nil, nil
		}}).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func postCLI(t *testing.T, srv *httptest.Server, token, line string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/aws_mwaa/cli", strings.NewReader(line))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Stdout, Stderr string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	stdout, _ := base64.StdEncoding.DecodeString(out.Stdout)
	stderr, _ := base64.StdEncoding.DecodeString(out.Stderr)
	return resp.StatusCode, string(stdout), string(stderr)
}

func TestMWAARoutes(t *testing.T) {
	t.Parallel()
	secret := []byte("per-environment-secret")
	srv := mwaaServer(t, string(secret))
	mint := func(c mwaatoken.Claims) string {
		c.Expires = time.Now().Add(time.Minute).Unix()
		tok, err := mwaatoken.Mint(secret, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cliTok := mint(mwaatoken.Claims{Kind: mwaatoken.KindCLI, Environment: "e"})
	webTok := mint(mwaatoken.Claims{Kind: mwaatoken.KindWeb, Environment: "e", Role: "Op", User: "user/ops"})

	if code, stdout, _ := postCLI(t, srv, cliTok, `dags trigger -c '{"a": 1}' etl`); code != 200 || stdout != `dags|trigger|-c|{"a": 1}|etl` {
		t.Fatalf("allowed command: %d %q", code, stdout)
	}
	if code, _, stderr := postCLI(t, srv, cliTok, "db reset -y"); code != 400 || !strings.Contains(stderr, `the command "db reset" is not supported`) {
		t.Fatalf("db reset: %d %q", code, stderr)
	}
	if code, _, _ := postCLI(t, srv, webTok, "version"); code != 403 {
		t.Fatalf("a web token used as a CLI token: %d", code)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(srv.URL+"/aws_mwaa/login", url.Values{"token": {cliTok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("a CLI token used to log in: %s", resp.Status)
	}
	resp, err = noRedirect.PostForm(srv.URL+"/aws_mwaa/login", url.Values{"token": {webTok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) == 0 || resp.Header.Get("X-CSRF-Token") == "" {
		t.Fatalf("login: %s %v", resp.Status, resp.Header)
	}
	resp, err = http.Get(srv.URL + "/aws_mwaa/aws-console-sso?login=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("console SSO page: %s", resp.Status)
	}
	// A next page (the control plane's link to a page of the environment)
	// is carried through the login, and only when it is a page of this
	// site.
	for next, want := range map[string]string{"/cluster_activity": "/cluster_activity", "//evil.example/x": "/", "https://evil.example/": "/"} {
		resp, err = http.Get(srv.URL + "/aws_mwaa/aws-console-sso?login=true&next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `name="next" value="`+want+`"`) {
			t.Errorf("the SSO page for next=%s: %s", next, body)
		}
		resp, err = noRedirect.PostForm(srv.URL+"/aws_mwaa/login", url.Values{"token": {webTok}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != want {
			t.Errorf("login with next=%s: %s to %q, want %q", next, resp.Status, got, want)
		}
	}

	// Without a token secret (an environment not started by a control
	// plane) the routes do not exist.
	plain := mwaaServer(t, "")
	req, _ := http.NewRequest(http.MethodPost, plain.URL+"/aws_mwaa/cli", strings.NewReader("version"))
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("/aws_mwaa/cli answered without a token secret: %s", resp.Status)
	}
}
