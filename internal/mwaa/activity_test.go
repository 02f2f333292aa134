package mwaa_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/windsock/windsock/internal/envspec"
)

// uiSession returns a client logged in to the control plane's UI with a
// key.
func uiSession(t *testing.T, p *plane, id, secret string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.PostForm(p.srv.URL+"/ui/login", url.Values{"access_key_id": {id}, "secret_access_key": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return client
}

func getPage(t *testing.T, client *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestEnvironmentsPageShowsClusterActivity: per running environment, its
// processes with their last heartbeats, health and metrics address, its
// workers over the last hour drawn larger, and a link to its own Cluster
// Activity page; an environment whose processes cannot be read says so,
// one that failed to start has no activity; a key that may not list
// environments sees none of it.
func TestEnvironmentsPageShowsClusterActivity(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.create(createInput("etl"))
	p.create(createInput("quiet"))
	broken := createInput("broken")
	broken.AirflowConfigurationOptions = map[string]string{"core.default_timezone": "Mars/Base"}
	p.create(broken)
	now := time.Now()
	p.runner.setActivity("etl", []envspec.Component{
		{Kind: "Scheduler", Hostname: "host-a", State: "running", LatestHeartbeat: now.Add(-2 * time.Second), Healthy: true, MetricsAddr: "127.0.0.1:8794"},
		{Kind: "DAG processor", Hostname: "host-a", State: "running", LatestHeartbeat: now.Add(-3 * time.Second), Healthy: true, MetricsAddr: "127.0.0.1:40001"},
		{Kind: "Worker", Hostname: "host-b", State: "failed", LatestHeartbeat: now.Add(-5 * time.Minute), MetricsAddr: "127.0.0.1:40002"},
	})
	client := uiSession(t, p, p.keyID, p.secret)
	code, page := getPage(t, client, p.srv.URL+"/ui/")
	if code != http.StatusOK {
		t.Fatalf("/ui/: %d", code)
	}
	etl := section(t, page, "etl")
	for _, want := range []string{"etl: cluster activity", "1 unhealthy</span> of 3 processes",
		"<td>Scheduler</td><td>host-a</td>", "<td>DAG processor</td>", "<td>Worker</td><td>host-b</td>",
		`<span class="unhealthy">unhealthy (failed)</span>`, "<code>127.0.0.1:40002</code>", "5m ago",
		`<svg class="workers"`, `<circle cx="240.0" cy=`, "Workers of etl over the last hour", `<line class="bound"`,
		`<a class="cluster-link" href="/ui/open/etl?next=%2Fcluster_activity">Cluster activity in etl's Airflow UI</a>`} {
		if !strings.Contains(etl, want) {
			t.Errorf("etl's activity lacks %q:\n%s", want, etl)
		}
	}
	if n := strings.Count(etl, `<tr class="component">`); n != 3 {
		t.Errorf("etl shows %d processes, want 3", n)
	}
	if quiet := section(t, page, "quiet"); !strings.Contains(quiet, "All 0 processes healthy") {
		t.Errorf("an environment without processes yet:\n%s", quiet)
	}
	if strings.Contains(page, `id="activity-broken"`) {
		t.Error("an environment that failed to start has no cluster activity")
	}
	// The link logs into the environment with a web login token and lands
	// on its own Cluster Activity page.
	noFollow := &http.Client{Jar: client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(p.srv.URL + "/ui/open/etl?next=%2Fcluster_activity")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	st, _ := p.runner.Status("etl")
	if resp.StatusCode != http.StatusSeeOther || loc.Host != st.WebserverHostname || loc.Path != "/aws_mwaa/aws-console-sso" ||
		loc.Query().Get("next") != "/cluster_activity" || loc.Fragment == "" {
		t.Fatalf("the cluster activity link: %s %s", resp.Status, loc)
	}
	_, sso := getPage(t, http.DefaultClient, "http://"+loc.Host+loc.Path+"?"+loc.RawQuery)
	if !strings.Contains(sso, `<input type="hidden" name="next" value="/cluster_activity">`) {
		t.Fatalf("the SSO page does not carry next:\n%s", sso)
	}
	form := url.Values{"token": {loc.Fragment}, "next": {"/cluster_activity"}}
	resp, err = noFollow.PostForm("http://"+loc.Host+"/aws_mwaa/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/cluster_activity" {
		t.Fatalf("the login with next: %s, to %q", resp.Status, resp.Header.Get("Location"))
	}

	// A key whose policy does not allow ListEnvironments sees nothing.
	id, secret, err := p.svc.Keys().Create("viewer", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"airflow:GetEnvironment","Resource":"*"}]}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, page = getPage(t, uiSession(t, p, id, secret), p.srv.URL+"/ui/")
	if code != http.StatusForbidden || strings.Contains(page, "cluster activity") {
		t.Fatalf("a key without ListEnvironments: %d\n%s", code, page)
	}
}

// section returns an environment's activity section of the page.
func section(t *testing.T, page, name string) string {
	t.Helper()
	start := strings.Index(page, `<section class="activity" id="activity-`+name+`"`)
	if start < 0 {
		t.Fatalf("no activity section for %s:\n%s", name, page)
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end]
}

// TestControlPlaneMetrics: the control plane's /metrics counts the
// environments by status (every MWAA status, 0 when none has it) and
// each running environment's workers now, min and max; a scraper on this
// host needs no key, any other must sign or send a key allowed to list
// environments.
func TestControlPlaneMetrics(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.create(createInput("etl"))
	broken := createInput("broken")
	broken.AirflowConfigurationOptions = map[string]string{"core.default_timezone": "Mars/Base"}
	p.create(broken)
	code, body := getPage(t, http.DefaultClient, p.srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics from the loopback address: %d\n%s", code, body)
	}
	for _, want := range []string{
		`windsock_controlplane_environments{status="AVAILABLE"} 1`,
		`windsock_controlplane_environments{status="CREATE_FAILED"} 1`,
		`windsock_controlplane_environments{status="UPDATING"} 0`,
		`windsock_controlplane_environment_workers{environment="etl"} 1`,
		`windsock_controlplane_environment_min_workers{environment="etl"} 1`,
		`windsock_controlplane_environment_max_workers{environment="etl"} 4`,
		`windsock_controlplane_environment_healthy{environment="etl"} 1`,
		"\ngo_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `environment_workers{environment="broken"}`) {
		t.Error("an environment that does not run has no workers")
	}
	if t.Failed() {
		t.Logf("%s", body)
	}

	// From another host: refused without a key, served with one allowed
	// to list environments, refused with one that is not.
	remote := func(id, secret string, signed, overTLS bool) int {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = "192.0.2.7:51000"
		if overTLS {
			req.TLS = &tls.ConnectionState{}
		}
		switch {
		case signed:
			sum := sha256.Sum256(nil)
			creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "airflow", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		case id != "":
			req.SetBasicAuth(id, secret)
		}
		rec := httptest.NewRecorder()
		p.svc.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	denied, deniedSecret, err := p.svc.Keys().Create("getter", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"airflow:GetEnvironment","Resource":"*"}]}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, id, secret string
		signed, overTLS  bool
		want             int
	}{
		{"no key", "", "", false, true, http.StatusUnauthorized},
		{"a wrong secret", p.keyID, "wrong", false, true, http.StatusUnauthorized},
		{"a key without ListEnvironments", denied, deniedSecret, false, true, http.StatusForbidden},
		{"a key with full access", p.keyID, p.secret, false, true, http.StatusOK},
		{"a key with full access in clear", p.keyID, p.secret, false, false, http.StatusUnauthorized},
		{"a signature with full access", p.keyID, p.secret, true, false, http.StatusOK},
		{"a signature with a wrong secret", p.keyID, "wrong", true, false, http.StatusUnauthorized},
		{"a signature without ListEnvironments", denied, deniedSecret, true, false, http.StatusForbidden},
	} {
		if got := remote(c.id, c.secret, c.signed, c.overTLS); got != c.want {
			t.Errorf("a remote scrape with %s: %d, want %d", c.what, got, c.want)
		}
	}
}

// silentDatabase is a TCP listener that accepts connections and never
// answers, as a database server that hangs; it signals once want of them
// are open at the same time.
type silentDatabase struct {
	addr    string
	allOpen chan struct{}
}

func newSilentDatabase(t *testing.T, want int) *silentDatabase {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &silentDatabase{addr: ln.Addr().String(), allOpen: make(chan struct{})}
	var mu sync.Mutex
	var conns []net.Conn
	open, signalled := 0, false
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			if open++; open == want && !signalled {
				signalled = true
				close(d.allOpen)
			}
			mu.Unlock()
			go func() {
				_, _ = io.Copy(io.Discard, c) // until the client hangs up
				mu.Lock()
				open--
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return d
}

// TestEnvironmentsPageReadsActivityAtOnce: the environments' processes
// are read concurrently, each for at most the per-environment timeout:
// with three environments whose metadata database accepts connections
// and never answers, the three are read at the same time (one after
// another, a page would take three timeouts), shown with an unknown
// health, and the others are shown as usual.
func TestEnvironmentsPageReadsActivityAtOnce(t *testing.T) {
	t.Parallel()
	p := setup(t)
	hung := []string{"hung1", "hung2", "hung3"}
	db := newSilentDatabase(t, len(hung))
	for _, name := range hung {
		p.create(createInput(name))
		p.runner.setStore(name, "postgres://windsock:windsock@"+db.addr+"/windsock?sslmode=disable")
	}
	p.create(createInput("fine"))
	p.runner.setActivity("fine", []envspec.Component{
		{Kind: "Scheduler", Hostname: "host-a", State: "running", LatestHeartbeat: time.Now(), Healthy: true},
	})
	client := uiSession(t, p, p.keyID, p.secret)
	type answer struct {
		code int
		page string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Get(p.srv.URL + "/ui/")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(body), err}
	}()
	select {
	case <-db.allOpen:
	case a := <-answered:
		t.Fatalf("the page answered before the hung databases were read at once: %d %v", a.code, a.err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the hung environments' databases were never read at the same time")
	}
	a := <-answered
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("/ui/: %d %v", a.code, a.err)
	}
	for _, name := range hung {
		if sec := section(t, a.page, name); !strings.Contains(sec, "Health unknown: the environment&#39;s metadata database did not answer within 3s.") {
			t.Errorf("%s, whose database does not answer:\n%s", name, sec)
		}
	}
	if fine := section(t, a.page, "fine"); !strings.Contains(fine, "All 1 processes healthy") || !strings.Contains(fine, "<td>Scheduler</td><td>host-a</td>") {
		t.Errorf("the environment that answers:\n%s", fine)
	}
}
