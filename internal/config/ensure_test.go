package config_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/fernet"
)

func readCfg(t *testing.T, home string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnsureFileCreates(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "nested", "home")
	environ := []string{"HOME=/nowhere", "WINDSOCK_HOME=" + home}

	created, err := config.EnsureFile("", environ)
	if err != nil || !created {
		t.Fatalf("EnsureFile = %v, %v; want created", created, err)
	}
	info, err := os.Stat(filepath.Join(home, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("windsock.cfg mode = %v, want 0600", perm)
	}

	c := load(t, home, environ)
	keys, err := fernet.Parse(c.Core.FernetKey)
	if err != nil || !keys.Enabled() {
		t.Fatalf("generated fernet_key %q does not parse: %v", c.Core.FernetKey, err)
	}
	if raw, err := base64.URLEncoding.DecodeString(c.Core.FernetKey); err != nil || len(raw) != 32 {
		t.Errorf("fernet_key is not url-safe base64 of 32 bytes: %v", err)
	}
	if raw, err := base64.StdEncoding.DecodeString(c.Webserver.SecretKey); err != nil || len(raw) != 16 {
		t.Errorf("secret_key %q is not base64 of 16 bytes: %v", c.Webserver.SecretKey, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate after EnsureFile: %v", err)
	}

	// A second call changes nothing.
	before := readCfg(t, home)
	created, err = config.EnsureFile(home, environ)
	if err != nil || created {
		t.Fatalf("second EnsureFile = %v, %v", created, err)
	}
	if after := readCfg(t, home); after != before {
		t.Errorf("second EnsureFile rewrote the file:\n%s\n---\n%s", before, after)
	}
}

func TestEnsureFileKeepsUserContent(t *testing.T) {
	t.Parallel()
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	file := "# my settings\r\n[core]\r\n; keep this\r\nfernet_key   =  " + key + "\r\nparallelism=4   \r\n\r\n[scheduler]\r\ncatchup_by_default = False\r\n"
	home, environ := setup(t, file)

	created, err := config.EnsureFile(home, environ)
	if err != nil || created {
		t.Fatalf("EnsureFile = %v, %v", created, err)
	}
	got := readCfg(t, home)
	if !strings.HasPrefix(got, file) {
		t.Fatalf("user content changed:\n%q\nwant it to start with\n%q", got, file)
	}
	if !strings.HasSuffix(got, "\r\n\r\n[webserver]\r\nsecret_key = "+load(t, home, environ).Webserver.SecretKey+"\r\n") {
		t.Errorf("secret_key not appended in a new [webserver] section with the file's line endings:\n%q", got)
	}
	c := load(t, home, environ)
	if c.Core.FernetKey != key || c.Core.Parallelism != 4 || c.Scheduler.CatchupByDefault {
		t.Errorf("user values changed: fernet_key=%q parallelism=%d catchup=%v", c.Core.FernetKey, c.Core.Parallelism, c.Scheduler.CatchupByDefault)
	}
}

func TestEnsureFileFillsEmptyKeyAndSection(t *testing.T) {
	t.Parallel()
	file := "[webserver]\nweb_server_port = 9090\n\n[core]\n# generated elsewhere\nfernet_key =\nload_examples = False\n"
	home, environ := setup(t, file)
	if _, err := config.EnsureFile(home, environ); err != nil {
		t.Fatal(err)
	}
	got := readCfg(t, home)
	c := load(t, home, environ)
	if c.Core.FernetKey == "" || c.Webserver.SecretKey == "" {
		t.Fatalf("keys not generated:\n%s", got)
	}
	want := "[webserver]\nsecret_key = " + c.Webserver.SecretKey + "\nweb_server_port = 9090\n\n[core]\n# generated elsewhere\nfernet_key = " + c.Core.FernetKey + "\nload_examples = False\n"
	if got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	if strings.Count(got, "fernet_key") != 1 {
		t.Errorf("fernet_key written twice:\n%s", got)
	}
}

func TestEnsureFileRespectsEnvironment(t *testing.T) {
	t.Parallel()
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	home, environ := setup(t, "", "AIRFLOW__CORE__FERNET_KEY="+key, "WINDSOCK__WEBSERVER__SECRET_KEY=from-env")
	created, err := config.EnsureFile(home, environ)
	if err != nil || !created {
		t.Fatalf("EnsureFile = %v, %v", created, err)
	}
	got := readCfg(t, home)
	if strings.Contains(got, "fernet_key") || strings.Contains(got, "secret_key") {
		t.Errorf("keys set in the environment were written to the file:\n%s", got)
	}
	c := load(t, home, environ)
	if c.Core.FernetKey != key || c.Webserver.SecretKey != "from-env" {
		t.Errorf("effective keys = %q, %q", c.Core.FernetKey, c.Webserver.SecretKey)
	}
}
