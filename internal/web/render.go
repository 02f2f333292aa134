package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/pyenv"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// pageSet is every page template, each parsed with the layout and the
// shared partials so that pages may all define "title" and "content".
type pageSet struct {
	byName map[string]*template.Template
}

// Page is what a page handler gives render: the title, the nav section
// to highlight ("dags", "browse", "admin" or ""), and the page's own data,
// reached in templates as .Data.
type Page struct {
	Title string
	Nav   string
	Data  any
}

// layoutData is what the layout template sees: the Page plus who is
// looking and what the header may offer them.
type layoutData struct {
	Page
	User      *windsock.User
	CSRFToken string
	// AuthOn is false when authentication is off (no logout to offer).
	AuthOn    bool
	CanBrowse bool
	// CanCluster offers the cluster activity page.
	CanCluster bool
	CanAdmin   bool
	Admin      adminMenu
	Version    string
	// PythonProblems are the failures of the latest pip install of
	// requirements.txt and unpack of plugins.zip, shown in a banner on
	// every page (pip's message, escaped like all text).
	PythonProblems []string
}

// adminMenu says which Admin pages the user may open.
type adminMenu struct {
	Variables, Connections, Pools, Users, Roles bool
	Config, Providers, Plugins                  bool
}

// parsePages parses templates/*.html: files starting with "_" (and
// layout.html) are shared by every page; each other file is a page named
// after the file without ".html".
func parsePages(fsys fs.FS, assets map[string]*asset) (*pageSet, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	var pages []string
	for _, n := range names {
		base := path.Base(n)
		switch {
		case base == "layout.html":
		case strings.HasPrefix(base, "_"):
			shared = append(shared, n)
		default:
			pages = append(pages, n)
		}
	}
	root, err := template.New("layout.html").Funcs(templateFuncs(assets)).ParseFS(fsys, shared...)
	if err != nil {
		return nil, err
	}
	set := &pageSet{byName: map[string]*template.Template{}}
	for _, p := range pages {
		t, err := template.Must(root.Clone()).ParseFS(fsys, p)
		if err != nil {
			return nil, err
		}
		set.byName[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return set, nil
}

// render writes the page template name inside the layout with status.
// The page is rendered to a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("render: no template %q", name)
	}
	data := s.layout(r, p)
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := t.ExecuteTemplate(buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// renderFragment writes a named template of a page without the layout:
// for page fragments that polling replaces in place.
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, data any) error {
	t, ok := s.pages.byName[page]
	if !ok {
		return fmt.Errorf("render: no template %q", page)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := t.ExecuteTemplate(buf, fragment, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, fragment, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) layout(r *http.Request, p Page) layoutData {
	d := layoutData{Page: p, User: currentUser(r), CSRFToken: s.csrfToken(r), AuthOn: !s.backends.Disabled,
		Version: s.Version}
	if d.User == nil {
		return d
	}
	d.Admin = s.adminMenu(r)
	d.CanAdmin = d.Admin.Variables || d.Admin.Connections || d.Admin.Pools || d.Admin.Users || d.Admin.Roles ||
		d.Admin.Config || d.Admin.Providers || d.Admin.Plugins
	d.CanBrowse = s.can(r, auth.ActionMenuAccess, auth.ResourceBrowseMenu)
	d.CanCluster = s.can(r, auth.ActionRead, auth.ResourceClusterActivity)
	d.PythonProblems = s.pythonProblems()
	return d
}

// pythonProblems reads what the environment's latest pyenv.Prepare
// recorded in the home: a small file, read per page so that every web
// server of the home shows an install made by another process.
func (s *Server) pythonProblems() []string {
	st, err := pyenv.ReadStatus(pyenv.FromConfig(s.cfg, nil))
	if err != nil {
		s.logger().Warn("web: read python environment status", "error", err)
		return []string{"The status of the Python environment cannot be read; the server log says why."}
	}
	return st.Problems()
}

// adminMenu returns the Admin pages the request's user may open: those
// need the Admin menu, as Airflow's UI does, and read access to the
// resource, as the API does.
func (s *Server) adminMenu(r *http.Request) adminMenu {
	if !s.can(r, auth.ActionMenuAccess, auth.ResourceAdminMenu) {
		return adminMenu{}
	}
	return adminMenu{
		Variables:   s.can(r, auth.ActionRead, auth.ResourceVariable),
		Connections: s.can(r, auth.ActionRead, auth.ResourceConnection),
		Pools:       s.can(r, auth.ActionRead, auth.ResourcePool),
		Users:       s.can(r, auth.ActionRead, auth.ResourceUser),
		Roles:       s.can(r, auth.ActionRead, auth.ResourceRole),
		Config:      s.can(r, auth.ActionRead, auth.ResourceConfig),
		Providers:   s.can(r, auth.ActionRead, auth.ResourceProvider),
		Plugins:     s.can(r, auth.ActionRead, auth.ResourcePlugin),
	}
}

// renderError answers with the error page for err's application code;
// errors without one are logged and shown as "internal error".
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Internal error: the server could not answer. The details are in its log."
	switch windsock.ErrorCode(err) {
	case windsock.ENOTFOUND:
		status, msg = http.StatusNotFound, windsock.ErrorMessage(err)
	case windsock.EFORBIDDEN:
		status, msg = http.StatusForbidden, windsock.ErrorMessage(err)
	case windsock.EINVALID:
		status, msg = http.StatusBadRequest, windsock.ErrorMessage(err)
	case windsock.EUNAUTH:
		status, msg = http.StatusUnauthorized, windsock.ErrorMessage(err)
	case windsock.ETHROTTLED:
		status, msg = http.StatusTooManyRequests, windsock.ErrorMessage(err)
	case windsock.EUNAVAILABLE:
		status, msg = http.StatusServiceUnavailable, windsock.ErrorMessage(err)
	default:
		s.logger().Error("web: page failed", "path", r.URL.Path, "error", err)
	}
	setRetryAfter(w, err)
	p := Page{Title: http.StatusText(status), Data: errorData{Status: status, Message: msg}}
	if rerr := s.render(w, r, status, "error", p); rerr != nil {
		s.logger().Error("web: render error page", "error", rerr)
		http.Error(w, msg, status)
	}
}

type errorData struct {
	Status  int
	Message string
}

// templateFuncs are the helpers every template may call.
func templateFuncs(assets map[string]*asset) template.FuncMap {
	return template.FuncMap{
		"asset":      func(name string) string { return assetURL(assets, name) },
		"stateClass": func(state any) string { return "state state-" + stateName(state) },
		"stateName":  stateName,
		"fmtTime":    fmtTime,
		"isoTime":    isoTime,
		"seconds":    fmtSeconds,
		"join":       strings.Join,
		"add":        func(a, b int) int { return a + b },
		"sub":        func(a, b int) int { return a - b },
	}
}

// stateName is a state as CSS class suffix and label: "none" for no state.
func stateName(state any) string {
	s := fmt.Sprint(state)
	if s == "" || s == "<nil>" {
		return "none"
	}
	return s
}

// fmtTime shows a time in UTC to the second, "" for nil or zero.
func fmtTime(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// isoTime is a time for a <time datetime> attribute.
func isoTime(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtSeconds shows a duration stored in seconds (task instances keep a
// float) as the rest of the UI does, HH:MM:SS; "" when there is none.
func fmtSeconds(v *float64) string {
	if v == nil {
		return ""
	}
	return dagview.FormatDuration(time.Duration(*v * float64(time.Second)))
}

func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil || t.IsZero() {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

// renderBuffers keeps the buffers pages are rendered into: a chart page
// is megabytes, which a fresh buffer would grow (and clear) step by step
// on every request.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer bounds what the pool keeps, so that one huge page does
// not pin its memory.
const maxPooledBuffer = 8 << 20

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}
