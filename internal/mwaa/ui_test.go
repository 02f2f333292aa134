package mwaa_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentsPage(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.create(createInput("etl"))
	broken := createInput("broken")
	broken.AirflowConfigurationOptions = map[string]string{"core.default_timezone": "Mars/Base"}
	p.create(broken)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(p.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if _, body := get("/ui/"); !strings.Contains(body, `name="secret_access_key"`) {
		t.Fatalf("without a session the page is the login form: %s", body)
	}
	resp, err := client.PostForm(p.srv.URL+"/ui/login", url.Values{"access_key_id": {p.keyID}, "secret_access_key": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %s", resp.Status)
	}
	resp, err = client.PostForm(p.srv.URL+"/ui/login", url.Values{"access_key_id": {p.keyID}, "secret_access_key": {p.secret}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, want := range []string{">etl<", "AVAILABLE", ">broken<", "CREATE_FAILED", errBadZone.Error(), "mw1.medium", "2.10.3",
		`href="/ui/open/etl"`, "<polyline"} {
		if !strings.Contains(page, want) {
			t.Errorf("the environments page lacks %q:\n%s", want, page)
		}
	}
	// A session cookie whose claims were changed is refused.
	u, _ := url.Parse(p.srv.URL + "/ui/")
	for _, c := range jar.Cookies(u) {
		claims, sig, _ := strings.Cut(c.Value, ".")
		forged, _ := cookiejar.New(nil)
		forged.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: claims + "x." + sig}})
		resp, err := (&http.Client{Jar: forged}).Get(p.srv.URL + "/ui/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `name="secret_access_key"`) {
			t.Fatal("a forged session cookie shows the page")
		}
	}
	// Open goes to the environment's console SSO page with a web login token.
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(p.srv.URL + "/ui/open/etl")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/aws_mwaa/aws-console-sso" || loc.Fragment == "" {
		t.Fatalf("open: %s %s", resp.Status, loc)
	}
	if got := loginRoles(t, loc.Host, loc.Fragment); got != "Admin" {
		t.Fatalf("the token of Open logs in as %s", got)
	}
	// A key that may list environments but get only etl sees the other's
	// name alone, as ListEnvironments gives names only.
	lister, listerSecret, err := p.svc.Keys().Create("lister", []byte(`{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Action":"airflow:ListEnvironments","Resource":"*"},`+
		`{"Effect":"Allow","Action":"airflow:GetEnvironment","Resource":"arn:aws:airflow:*:*:environment/etl"}]}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	listerJar, _ := cookiejar.New(nil)
	resp, err = (&http.Client{Jar: listerJar}).PostForm(p.srv.URL+"/ui/login", url.Values{"access_key_id": {lister}, "secret_access_key": {listerSecret}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	listed := string(body)
	if !strings.Contains(listed, ">broken<") || strings.Contains(listed, "CREATE_FAILED") || !strings.Contains(listed, `data-hidden="true"`) ||
		!strings.Contains(listed, "AVAILABLE") || strings.Contains(listed, `href="/ui/open/broken"`) {
		t.Errorf("a key without GetEnvironment on broken sees its details:\n%s", listed)
	}
	// Deleting the key ends its sessions.
	if err := p.svc.Keys().Delete(p.keyID); err != nil {
		t.Fatal(err)
	}
	if _, body := get("/ui/"); !strings.Contains(body, `name="secret_access_key"`) {
		t.Fatal("a deleted key's session still shows the page")
	}
}
