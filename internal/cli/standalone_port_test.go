package cli_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// standaloneURL starts `windsock standalone` with args in h and returns
// its stderr lines up to the one saying it is ready, and that line's URL.
func standaloneURL(t *testing.T, h *home, args ...string) (lines []string, url string) {
	t.Helper()
	d := h.startDaemon(t, "windsock standalone is ready", append([]string{"standalone"}, args...)...)
	m := regexp.MustCompile(` url=(\S+)`).FindStringSubmatch(d.seen[len(d.seen)-1])
	if m == nil {
		t.Fatalf("no URL in %q", d.seen[len(d.seen)-1])
	}
	return d.seen, m[1]
}

// TestTwoStandalonesOnTheDefaultPort: two standalones started with no
// port on one host both serve; the one that finds the default port
// (8080) taken serves on a free port and says so in a warning and in the
// URL it prints. A port chosen with --port is not changed: taken, it is
// the clear error it was.
func TestTwoStandalonesOnTheDefaultPort(t *testing.T) {
	t.Parallel()
	a, b := newHome(t), newHome(t)
	_, urlA := standaloneURL(t, a)
	linesB, urlB := standaloneURL(t, b)
	if urlA == urlB {
		t.Fatalf("both standalones say they serve on %s", urlA)
	}
	if strings.HasSuffix(urlB, ":8080") {
		t.Fatalf("the second standalone says it serves on the default port, which the first has: %s", urlB)
	}
	warned := false
	for _, l := range linesB {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "port is in use") && strings.Contains(l, "url="+urlB) {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("the second standalone did not say it moved to %s:\n%s", urlB, strings.Join(linesB, "\n"))
	}
	client := http.Client{Timeout: 30 * time.Second}
	for _, url := range []string{urlA, urlB} {
		resp, err := client.Get(url + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s/health: %s", url, resp.Status)
		}
	}

	// An explicit port stays the user's choice.
	port := strings.TrimPrefix(urlB, "http://127.0.0.1:")
	newHome(t).fails(t, "port "+port+" is in use: choose another with --port", "standalone", "--port", port)
}
