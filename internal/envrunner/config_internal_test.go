package envrunner

import (
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envspec"
)

// TestWebserverAccessMode: PRIVATE_ONLY (and MWAA's default, none given)
// binds the web servers to the loopback address, PUBLIC_ONLY and
// PUBLIC_AND_PRIVATE to every address.
func TestWebserverAccessMode(t *testing.T) {
	for mode, want := range map[string]string{"": "127.0.0.1", "PRIVATE_ONLY": "127.0.0.1", "PUBLIC_ONLY": "0.0.0.0", "PUBLIC_AND_PRIVATE": "0.0.0.0"} {
		h := home(t.TempDir())
		if err := renderConfig(h, envspec.Spec{Name: "web", WebserverAccessMode: mode}, "", true); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(string(h), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Webserver.WebServerHost != want {
			t.Errorf("WebserverAccessMode %q: web_server_host %q, want %q", mode, cfg.Webserver.WebServerHost, want)
		}
	}
}
