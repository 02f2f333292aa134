package mwaa

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/iampolicy"
	"github.com/windsock/windsock/internal/mwaatoken"
)

// The control plane's own small UI at /ui/: after a login with an access
// key, the environments with their status, class, versions, workers now
// and over the last hour, and links into each environment's Airflow UI
// (through a web login token, with the key's Airflow role).

const (
	uiCookieName  = "windsock_controlplane"
	uiSessionTTL  = 12 * time.Hour
	workerSamples = 60 // one an interval: the last hour at one a minute
)

// DefaultSampleInterval is how often the workers of each environment are
// recorded for the UI's last-hour chart.
const DefaultSampleInterval = time.Minute

// workerHistory keeps the last workerSamples worker counts per
// environment.
type workerHistory struct {
	mu sync.Mutex
	m  map[string][]int
}

func (h *workerHistory) add(name string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string][]int{}
	}
	s := append(h.m[name], n)
	if len(s) > workerSamples {
		s = s[len(s)-workerSamples:]
	}
	h.m[name] = s
}

func (h *workerHistory) get(name string) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.m[name]...)
}

// sampleWorkers records the workers every environment runs now.
func (s *Service) sampleWorkers() {
	s.mu.Lock()
	names := s.namesLocked()
	s.mu.Unlock()
	for _, name := range names {
		n := 0
		if st, ok := s.cfg.Runner.Status(name); ok {
			n = st.Workers
		}
		s.history.add(name, n)
	}
}

// sampleLoop samples workers until the service stops.
func (s *Service) sampleLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sampleWorkers()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// uiKey signs UI session cookies; it is derived from the key that
// encrypts the access keys, so it needs no file of its own.
func (s *Service) uiKey() ([]byte, error) {
	master, err := s.keys.masterKey(true)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("windsock control plane UI session"))
	return m.Sum(nil), nil
}

func (s *Service) sessionValue(keyID string, expires time.Time) (string, error) {
	k, err := s.uiKey()
	if err != nil {
		return "", err
	}
	return mwaatoken.Mint(k, mwaatoken.Claims{Kind: mwaatoken.KindSession, User: keyID, Expires: expires.Unix()})
}

// uiCaller returns the key of a UI request's session cookie.
func (s *Service) uiCaller(r *http.Request) (Caller, bool) {
	c, err := r.Cookie(uiCookieName)
	if err != nil {
		return Caller{}, false
	}
	k, err := s.uiKey()
	if err != nil {
		return Caller{}, false
	}
	claims, err := mwaatoken.Verify(k, c.Value, mwaatoken.KindSession, "", s.now())
	if err != nil {
		return Caller{}, false
	}
	key, _, policy, found, err := s.keys.lookup(claims.User)
	if err != nil || !found {
		return Caller{}, false // a deleted key ends its sessions
	}
	return Caller{Key: key, Policy: policy, Account: s.cfg.Account}, true
}

func (s *Service) uiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /ui/{$}", s.uiEnvironments)
	mux.HandleFunc("GET /ui/login", func(w http.ResponseWriter, _ *http.Request) { s.uiRender(w, http.StatusOK, "login", "") })
	mux.HandleFunc("POST /ui/login", s.uiLogin)
	mux.HandleFunc("POST /ui/logout", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: uiCookieName, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/open/{Name}", s.uiOpen)
	mux.HandleFunc("GET /ui/style.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(uiCSS))
	})
}

func (s *Service) uiLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.uiRender(w, http.StatusBadRequest, "login", "The form could not be read.")
		return
	}
	id := strings.TrimSpace(r.PostForm.Get("access_key_id"))
	_, secret, _, found, err := s.keys.lookup(id)
	if err != nil || !found || !hmac.Equal([]byte(secret), []byte(r.PostForm.Get("secret_access_key"))) {
		s.uiRender(w, http.StatusUnauthorized, "login", "Unknown access key or wrong secret.")
		return
	}
	expires := s.now().Add(uiSessionTTL)
	value, err := s.sessionValue(id, expires)
	if err != nil {
		s.cfg.Logger.Error("mwaa: ui session", "error", err)
		s.uiRender(w, http.StatusInternalServerError, "login", "Internal error.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: uiCookieName, Value: value, Path: "/ui/", Expires: expires, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// uiRow is one environment on the page.
type uiRow struct {
	Name, Status, Class, Version, Webserver, LastError string
	WorkersNow, MinWorkers, MaxWorkers                 int
	Chart                                              string // SVG polyline points
	// Now is the chart's newest point ("x,y"), marked: a fresh
	// environment's chart has one point, which a polyline does not draw.
	Now  point
	Peak int
	// Activity is the environment's cluster activity, for a running one.
	Activity *uiActivity
	// Hidden is set when the key may list the environment but not get it
	// (airflow:GetEnvironment): as in MWAA's API, it sees the name only.
	Hidden bool
}

// uiActivity is one environment's processes and its workers over the
// last hour, drawn larger than the table's sparkline.
type uiActivity struct {
	Components []uiComponent
	Unhealthy  int
	// Error says why the processes could not be read.
	Error string
	// Chart is the last hour's workers as polyline points in a
	// chartWidth x chartHeight box; MaxY is the y of the MaxWorkers line.
	Chart string
	Now   point
	MaxY  string
	// LastScaling is the autoscaler's last decision, in words.
	LastScaling string
}

// uiComponent is one process with how long ago it last heartbeat.
type uiComponent struct {
	envspec.Component
	Age string
}

// The activity chart's box.
const (
	chartWidth  = 240
	chartHeight = 48
)

// activityTimeout bounds reading one environment's processes;
// activityReaders bounds the environments read at once, so that a slow
// environment delays the page by activityTimeout, not by its place in
// the list.
const (
	activityTimeout = 3 * time.Second
	activityReaders = 8
)

func (s *Service) uiEnvironments(w http.ResponseWriter, r *http.Request) {
	c, ok := s.uiCaller(r)
	if !ok {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	if c.Policy.Evaluate("airflow:ListEnvironments", s.envArn("*")) != iampolicy.Allow {
		s.uiRender(w, http.StatusForbidden, "denied", "This key may not list environments (airflow:ListEnvironments).")
		return
	}
	s.mu.Lock()
	var rows []uiRow
	for _, name := range s.namesLocked() {
		if c.Policy.Evaluate("airflow:GetEnvironment", s.envArn(name)) != iampolicy.Allow {
			rows = append(rows, uiRow{Name: name, Hidden: true})
			continue
		}
		e := &s.envs[name].Env
		row := uiRow{Name: name, Status: e.Status, Class: e.EnvironmentClass, Version: e.AirflowVersion, Webserver: e.WebserverUrl,
			MinWorkers: deref(e.MinWorkers), MaxWorkers: deref(e.MaxWorkers)}
		if e.LastUpdate != nil && e.LastUpdate.Error != nil {
			row.LastError = e.LastUpdate.Error.ErrorMessage
		}
		rows = append(rows, row)
	}
	s.mu.Unlock()
	reader, _ := s.cfg.Runner.(envspec.ActivityReader)
	for i := range rows {
		row := &rows[i]
		if row.Hidden {
			continue
		}
		samples := s.history.get(row.Name)
		st, running := s.cfg.Runner.Status(row.Name)
		if running {
			// The charts end at now, whenever the last sample was taken.
			samples = append(samples, st.Workers)
		}
		row.Chart, row.Peak = chart(samples, row.MaxWorkers)
		row.Now = lastPoint(row.Chart)
		if !running {
			continue
		}
		row.WorkersNow = st.Workers
		act := &uiActivity{LastScaling: st.LastScaling}
		act.Chart, _ = plot(samples, row.MaxWorkers, chartWidth, chartHeight)
		act.Now = lastPoint(act.Chart)
		act.MaxY = fmt.Sprintf("%.1f", chartHeight-chartHeight*float64(row.MaxWorkers)/float64(max(row.MaxWorkers, row.Peak, 1)))
		row.Activity = act
	}
	if reader != nil {
		s.readActivities(r.Context(), reader, rows)
	}
	s.uiRenderData(w, http.StatusOK, "environments", map[string]any{"Key": c.Key.Name, "Rows": rows})
}

// chart turns worker samples into the points of a 120x24 polyline, scaled
// to max (the environment's MaxWorkers).
func chart(samples []int, maxWorkers int) (string, int) {
	return plot(samples, maxWorkers, 120, 24)
}

// plot turns worker samples, oldest first, into the points of a width x
// height polyline (the last hour from left to right, the newest sample at
// the right edge, one sample interval apart), scaled to the larger of
// maxWorkers and the peak; it returns the peak too.
func plot(samples []int, maxWorkers int, width, height float64) (string, int) {
	peak := 0
	for _, n := range samples {
		peak = max(peak, n)
	}
	top := max(maxWorkers, peak, 1)
	var b strings.Builder
	for i, n := range samples {
		x := width * (1 - float64(len(samples)-1-i)/workerSamples)
		y := height - height*float64(n)/float64(top)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	return strings.TrimSpace(b.String()), peak
}

// point is a point of a chart, as SVG attributes.
type point struct{ X, Y string }

// lastPoint is the last of a polyline's points; none when it has none.
func lastPoint(points string) point {
	last := points[strings.LastIndexByte(points, ' ')+1:]
	x, y, ok := strings.Cut(last, ",")
	if !ok {
		return point{}
	}
	return point{x, y}
}

// readActivities fills the activity of the rows that have one,
// activityReaders environments at a time.
func (s *Service) readActivities(ctx context.Context, reader envspec.ActivityReader, rows []uiRow) {
	slots := make(chan struct{}, activityReaders)
	var wg sync.WaitGroup
	for i := range rows {
		row := &rows[i]
		if row.Activity == nil {
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.readActivity(ctx, reader, row.Name, row.Activity)
		}()
	}
	wg.Wait()
}

// readActivity fills act with the environment's processes. It returns
// after activityTimeout even when the reader does not heed ctx (a
// database that accepts and never answers): the health is then unknown.
func (s *Service) readActivity(ctx context.Context, reader envspec.ActivityReader, name string, act *uiActivity) {
	ctx, cancel := context.WithTimeout(ctx, activityTimeout)
	defer cancel()
	type answer struct {
		comps []envspec.Component
		err   error
	}
	answered := make(chan answer, 1)
	go func() {
		comps, err := reader.Activity(ctx, name)
		answered <- answer{comps, err}
	}()
	var comps []envspec.Component
	var err error
	select {
	case a := <-answered:
		comps, err = a.comps, a.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		s.cfg.Logger.Warn("mwaa: an environment's processes did not answer in time", "environment", name, "timeout", activityTimeout)
		act.Error = fmt.Sprintf("Health unknown: the environment's metadata database did not answer within %s.", activityTimeout)
		return
	}
	if err != nil {
		s.cfg.Logger.Warn("mwaa: reading an environment's processes failed", "environment", name, "error", err)
		act.Error = "The environment's processes could not be read."
		return
	}
	now := s.now()
	for _, c := range comps {
		if !c.Healthy {
			act.Unhealthy++
		}
		act.Components = append(act.Components, uiComponent{Component: c, Age: age(now.Sub(c.LatestHeartbeat))})
	}
}

// age says how long ago, in whole seconds, minutes or hours.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh ago", int(d.Hours()))
}

// uiOpen opens an environment's Airflow UI with a web login token of the
// session's key (its Airflow role from its policy); ?next=/path lands on
// that page of the environment (which checks that it is one of its own).
func (s *Service) uiOpen(w http.ResponseWriter, r *http.Request) {
	c, ok := s.uiCaller(r)
	if !ok {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	token, host, _, err := s.WebLoginToken(r.Context(), r.PathValue("Name"), c)
	if err != nil {
		e, _ := asError(err)
		s.uiRender(w, e.Status, "denied", e.Message)
		return
	}
	q := url.Values{"login": {"true"}}
	if next := r.URL.Query().Get("next"); strings.HasPrefix(next, "/") {
		q.Set("next", next)
	}
	target := url.URL{Scheme: "http", Host: host, Path: "/aws_mwaa/aws-console-sso", RawQuery: q.Encode(), Fragment: token}
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

func (s *Service) uiRender(w http.ResponseWriter, status int, page, message string) {
	s.uiRenderData(w, status, page, map[string]any{"Message": message})
}

func (s *Service) uiRenderData(w http.ResponseWriter, status int, page string, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := uiTemplates.ExecuteTemplate(w, page, data); err != nil {
		s.cfg.Logger.Error("mwaa: render ui", "page", page, "error", err)
	}
}

var uiTemplates = template.Must(template.New("ui").Funcs(template.FuncMap{
	"chartWidth":  func() int { return chartWidth },
	"chartHeight": func() int { return chartHeight },
	"plus":        func(n, v int) int { return v + n },
}).Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Windsock control plane</title>
<link rel="stylesheet" href="/ui/style.css"></head><body>{{end}}
{{define "login"}}{{template "head"}}<main class="login"><h1>Windsock control plane</h1>
{{with .Message}}<p class="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="/ui/login">
<label>Access key ID <input name="access_key_id" autocomplete="username" required></label>
<label>Secret access key <input name="secret_access_key" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></main></body></html>{{end}}
{{define "denied"}}{{template "head"}}<main><h1>Not allowed</h1><p class="error">{{.Message}}</p><p><a href="/ui/">Environments</a></p></main></body></html>{{end}}
{{define "activity"}}<section class="activity" id="activity-{{.Name}}" aria-labelledby="activity-title-{{.Name}}">
<h2 id="activity-title-{{.Name}}">{{.Name}}: cluster activity</h2>
{{with .Activity}}<p class="summary">{{if .Error}}<span class="error">{{.Error}}</span>{{else if .Unhealthy}}<span class="unhealthy">{{.Unhealthy}} unhealthy</span> of {{len .Components}} processes{{else}}<span class="healthy">All {{len .Components}} processes healthy</span>{{end}}
{{with .LastScaling}}· last scaling: {{.}}{{end}}</p>{{end}}
<figure><svg class="workers" width="{{chartWidth}}" height="{{chartHeight | plus 14}}" viewBox="0 0 {{chartWidth}} {{chartHeight | plus 14}}" role="img" aria-labelledby="workers-title-{{.Name}}">
<title id="workers-title-{{.Name}}">Workers of {{.Name}} over the last hour: {{.WorkersNow}} now, peak {{.Peak}}, between {{.MinWorkers}} and {{.MaxWorkers}}</title>
<line class="bound" x1="0" x2="{{chartWidth}}" y1="{{.Activity.MaxY}}" y2="{{.Activity.MaxY}}"/>
<polyline points="{{.Activity.Chart}}"/>{{with .Activity.Now}}{{if .X}}<circle cx="{{.X}}" cy="{{.Y}}" r="3"/>{{end}}{{end}}
<text x="0" y="{{chartHeight | plus 12}}">1 h ago</text><text x="{{chartWidth}}" y="{{chartHeight | plus 12}}" text-anchor="end">now</text></svg>
<figcaption>Workers: {{.WorkersNow}} now, peak {{.Peak}} in the last hour (min {{.MinWorkers}}, max {{.MaxWorkers}}, dashed)</figcaption></figure>
{{with .Activity.Components}}<table class="components"><caption>Processes of {{$.Name}}</caption><thead><tr><th scope="col">Component</th><th scope="col">Host</th><th scope="col">Last heartbeat</th><th scope="col">Health</th><th scope="col">Metrics</th></tr></thead><tbody>
{{range .}}<tr class="component"><td>{{.Kind}}</td><td>{{.Hostname}}</td><td><time datetime="{{.LatestHeartbeat.UTC.Format "2006-01-02T15:04:05Z07:00"}}">{{.Age}}</time></td>
<td>{{if .Healthy}}<span class="healthy">healthy</span>{{else}}<span class="unhealthy">unhealthy{{if ne .State "running"}} ({{.State}}){{end}}</span>{{end}}</td>
<td>{{with .MetricsAddr}}<code>{{.}}</code>{{else}}web server{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Webserver}}<p><a class="cluster-link" href="/ui/open/{{.Name}}?next=%2Fcluster_activity">Cluster activity in {{.Name}}'s Airflow UI</a> <small>({{.Webserver}}/cluster_activity)</small></p>{{end}}
</section>{{end}}
{{define "environments"}}{{template "head"}}<header><h1>Environments</h1>
<form method="post" action="/ui/logout"><span>{{.Key}}</span> <button type="submit">Log out</button></form></header>
<main><table><thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Class</th><th scope="col">Airflow</th>
<th scope="col">Workers now</th><th scope="col">Workers, last hour</th><th scope="col">Airflow UI</th></tr></thead><tbody>
{{range .Rows}}{{if .Hidden}}<tr data-hidden="true"><td>{{.Name}}</td><td colspan="6"><small>Details need airflow:GetEnvironment.</small></td></tr>
{{else}}<tr><td>{{.Name}}</td><td><span class="status {{.Status}}">{{.Status}}</span>{{with .LastError}}<div class="error">{{.}}</div>{{end}}</td>
<td>{{.Class}}</td><td>{{.Version}}</td><td>{{.WorkersNow}} <small>({{.MinWorkers}}–{{.MaxWorkers}})</small></td>
<td><svg width="120" height="24" role="img" aria-label="workers over the last hour, peak {{.Peak}}"><polyline points="{{.Chart}}"/>{{with .Now}}{{if .X}}<circle cx="{{.X}}" cy="{{.Y}}" r="2"/>{{end}}{{end}}</svg></td>
<td>{{if .Webserver}}<a href="/ui/open/{{.Name}}">Open</a> <small>{{.Webserver}}</small>{{end}}</td></tr>{{end}}
{{else}}<tr><td colspan="7">No environments. Create one with <code>windsock env create NAME</code>.</td></tr>{{end}}
</tbody></table>
{{range .Rows}}{{if .Activity}}{{template "activity" .}}{{end}}{{end}}
</main></body></html>{{end}}
`))

const uiCSS = `body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24}
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;background:#0b3d5c;color:#fff}
header h1{font-size:1.2rem;margin:0}main{padding:1rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.status{font-weight:600}.AVAILABLE{color:#116329}.CREATE_FAILED,.UPDATE_FAILED,.UNAVAILABLE{color:#a40e26}
.error{color:#a40e26}polyline{fill:none;stroke:#0b3d5c;stroke-width:1.5}circle{fill:#0b3d5c}
.activity{margin-top:1.5rem}.activity h2{font-size:1.05rem}.healthy{color:#116329;font-weight:600}.unhealthy{color:#a40e26;font-weight:600}
.workers .bound{stroke:#8c959f;stroke-dasharray:4 3}.workers text{font-size:10px;fill:#57606a}figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#57606a}
caption{text-align:left;font-weight:600;padding:.3rem 0}
.login{max-width:22rem;margin:4rem auto}.login label{display:block;margin:.6rem 0}.login input{display:block;width:100%}
`
