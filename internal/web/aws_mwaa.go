package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/mwaacli"
	"github.com/windsock/windsock/internal/mwaatoken"
	"github.com/windsock/windsock/internal/windsock"
)

// MWAA's environment-side routes, for environments a Windsock control
// plane runs: POST /aws_mwaa/cli (an Airflow CLI command with a CLI
// token), POST /aws_mwaa/login (a web login token turned into a UI
// session with the token's Airflow role) and GET /aws_mwaa/aws-console-sso
// (the browser form of the same, the token in the URL fragment). They are
// registered only when aws_mwaa.token_secret is set, which the control
// plane does for the environments it starts.

// cliTimeout bounds one /aws_mwaa/cli command.
const cliTimeout = 5 * time.Minute

// maxCLIOutput bounds each of stdout and stderr of a CLI command.
const maxCLIOutput = 8 << 20

// AirflowCLIFunc runs an Airflow CLI command (the words after "airflow")
// in this environment and returns what it printed.
type AirflowCLIFunc func(ctx context.Context, args []string) (stdout, stderr []byte, err error)

// mwaaTokenSecret is aws_mwaa.token_secret, "" when the control plane did
// not start this environment.
func (s *Server) mwaaTokenSecret() string {
	o, err := s.cfg.Get(mwaatoken.ConfigSection, mwaatoken.ConfigOption)
	if err != nil {
		return ""
	}
	return o.Value
}

// mwaaRoutes registers the /aws_mwaa routes when the environment has a
// token secret.
func (s *Server) mwaaRoutes(mux *http.ServeMux) {
	secret := s.mwaaTokenSecret()
	if secret == "" {
		return
	}
	key := []byte(secret)
	mux.HandleFunc("POST /aws_mwaa/cli", func(w http.ResponseWriter, r *http.Request) { s.mwaaCLI(w, r, key) })
	mux.HandleFunc("POST /aws_mwaa/login", func(w http.ResponseWriter, r *http.Request) { s.mwaaLogin(w, r, key) })
	mux.HandleFunc("GET /aws_mwaa/aws-console-sso", s.mwaaConsoleSSO)
	mux.HandleFunc("GET /aws_mwaa/sso.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, ssoScript)
	})
}

func writeMWAAJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// mwaaCLI runs the command line in the body as MWAA does and answers
// {"stdout": base64, "stderr": base64}.
func (s *Server) mwaaCLI(w http.ResponseWriter, r *http.Request, secret []byte) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		writeMWAAJSON(w, http.StatusUnauthorized, map[string]string{"error": "a CLI token is required (Authorization: Bearer TOKEN)"})
		return
	}
	if _, err := mwaatoken.Verify(secret, token, mwaatoken.KindCLI, "", s.now()); err != nil {
		writeMWAAJSON(w, http.StatusForbidden, map[string]string{"error": "the CLI token is invalid or has expired"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeMWAAJSON(w, http.StatusBadRequest, map[string]string{"error": "the command could not be read"})
		return
	}
	args, err := mwaacli.Split(strings.TrimSpace(string(body)))
	if err == nil && len(args) > 0 && args[0] == "airflow" {
		args = args[1:]
	}
	refuse := func(msg string) {
		writeMWAAJSON(w, http.StatusBadRequest, map[string]string{"stdout": "",
			"stderr": base64.StdEncoding.EncodeToString([]byte(msg + "\n"))})
	}
	switch {
	case err != nil:
		refuse("airflow: " + err.Error())
		return
	case len(args) == 0:
		refuse("airflow: a command is required")
		return
	case !mwaacli.Allowed(args):
		refuse(fmt.Sprintf("airflow: the command %q is not supported by the MWAA CLI endpoint", strings.Join(mwaacli.Words(args), " ")))
		return
	}
	run := s.AirflowCLI
	if run == nil {
		run = execSelf
	}
	ctx, cancel := context.WithTimeout(r.Context(), cliTimeout)
	defer cancel()
	stdout, stderr, err := run(ctx, args)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		// The command did not run at all: say so on stderr, as a shell would.
		stderr = append(stderr, []byte("airflow: "+err.Error()+"\n")...)
	}
	writeMWAAJSON(w, http.StatusOK, map[string]string{
		"stdout": base64.StdEncoding.EncodeToString(stdout),
		"stderr": base64.StdEncoding.EncodeToString(stderr),
	})
}

// execSelf runs this binary with args, in this process's environment (so
// against the same home).
func execSelf(ctx context.Context, args []string) ([]byte, []byte, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return stdout.b, stderr.b, err
}

// limitedBuffer keeps the first maxCLIOutput bytes written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxCLIOutput - len(l.b); room > 0 {
		if len(p) > room {
			l.b = append(l.b, p[:room]...)
		} else {
			l.b = append(l.b, p...)
		}
	}
	return len(p), nil
}

// mwaaLogin turns a web login token (form field token) into a UI session
// of the token's user with the token's role, creating the user on first
// login and setting its role to the token's on every login, as MWAA does.
// The answer also carries the session's CSRF token in X-CSRF-Token, for
// programs that call the REST API with the session cookie.
func (s *Server) mwaaLogin(w http.ResponseWriter, r *http.Request, secret []byte) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	claims, err := mwaatoken.Verify(secret, r.PostForm.Get("token"), mwaatoken.KindWeb, "", s.now())
	if err != nil || claims.User == "" || claims.Role == "" {
		http.Error(w, "the web login token is invalid or has expired", http.StatusForbidden)
		return
	}
	user, err := s.mwaaUser(r.Context(), claims)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	cookie, err := s.authn.StartSession(r.Context(), user, r.TLS != nil)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, cookie)
	w.Header().Set("X-CSRF-Token", auth.CSRFToken(s.cfg.Webserver.SecretKey, cookie.Value))
	s.event(r, "login", user.Username)
	http.Redirect(w, r, localNext(r.PostForm.Get("next")), http.StatusFound)
}

// mwaaUser returns the user of a web token, created or given the token's
// role.
func (s *Server) mwaaUser(ctx context.Context, c mwaatoken.Claims) (*windsock.User, error) {
	u, err := s.Store.UserGet(ctx, c.User)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		now := s.now().UTC()
		u = &windsock.User{Username: c.User, FirstName: c.User, LastName: "(" + c.IamIdentity + ")", Active: true,
			Roles: []string{c.Role}, CreatedOn: now, ChangedOn: now}
		if err := s.Store.UserCreate(ctx, u); err != nil {
			return nil, err
		}
		return s.Store.UserGet(ctx, c.User)
	}
	if err != nil {
		return nil, err
	}
	has := false
	for _, role := range u.Roles {
		if role == c.Role {
			has = true
			continue
		}
		if err := s.Store.UserRemoveRole(ctx, u.Username, role); err != nil {
			return nil, err
		}
	}
	if !has {
		if err := s.Store.UserAddRole(ctx, u.Username, c.Role); err != nil {
			return nil, err
		}
	}
	if !u.Active {
		return nil, windsock.Errorf(windsock.EFORBIDDEN, "the user %s is deactivated", u.Username)
	}
	s.authn.Forget(u.Username)
	return s.Store.UserGet(ctx, c.User)
}

// mwaaConsoleSSO is the page the AWS console opens
// (/aws_mwaa/aws-console-sso?login=true#TOKEN): its script posts the
// token from the fragment to /aws_mwaa/login. A next parameter (a path
// of this site: the control plane's link to a page of the environment)
// is where the login lands instead of the home page.
func (s *Server) mwaaConsoleSSO(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	next := ""
	if n := r.URL.Query().Get("next"); n != "" {
		next = `<input type="hidden" name="next" value="` + html.EscapeString(localNext(n)) + `">`
	}
	_, _ = io.WriteString(w, `<!doctype html><html><head><meta charset="utf-8"><title>Signing in</title>`+
		`<script src="/aws_mwaa/sso.js" defer></script></head><body>`+
		`<form id="sso" method="post" action="/aws_mwaa/login"><input type="hidden" name="token" id="token">`+next+
		`<noscript><p>Signing in needs JavaScript.</p></noscript></form><p id="status">Signing in…</p></body></html>`)
}

// ssoScript moves the token from the URL fragment (never sent to a
// server, so it stays out of logs) into the form, and posts it.
const ssoScript = `(function () {
  var token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  if (!token) { document.getElementById("status").textContent = "No login token in the address."; return; }
  history.replaceState(null, "", window.location.pathname);
  document.getElementById("token").value = token;
  document.getElementById("sso").submit();
})();
`
