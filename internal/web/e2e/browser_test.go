package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitTimeout bounds each wait for a DOM condition. Runs take well under
// a second; the pages poll every 2-3 s. It is generous because a host
// loaded with other -race test binaries once took over 30 s to sign in
// (one bcrypt check alone took 4.5 s); a wait that holds ends at once.
const waitTimeout = 90 * time.Second

// chromiumPath finds the browser, or skips the test (fails it under
// CI=true, so CI cannot silently skip).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("WINDSOCK_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	msg := fmt.Sprintf("no chromium at %q: install Debian's chromium (apt-get install chromium) or set WINDSOCK_TEST_CHROMIUM", path)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless chromium for a test.
type browser struct {
	ctx context.Context // the browser's first tab
}

// newBrowser starts chromium with a fresh profile (without a
// --user-data-dir flag chromedp makes a new temporary one per browser and
// removes it once the process has exited, which a t.TempDir could not do
// reliably while chromium's helpers still write to it); the network stays
// on this machine (no QUIC, no background or component updates, no sync).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so a broken install fails here clearly.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{ctx: ctx}
}

// tab is the browser's page, which accepts confirm() dialogs and fails
// the test on uncaught JavaScript exceptions. Each test has a browser of
// its own, so its cookies are its own.
type tab struct {
	t       *testing.T
	ctx     context.Context
	base    string
	mu      sync.Mutex
	dialogs []string
}

func (b *browser) tab(t *testing.T, base string) *tab {
	t.Helper()
	ctx := b.ctx
	tb := &tab{t: t, ctx: ctx, base: base}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			t.Errorf("JavaScript exception: %s", exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value))
				}
				t.Logf("console.error: %s", strings.Join(parts, " "))
			}
		case *page.EventJavascriptDialogOpening:
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, ev.Message)
			tb.mu.Unlock()
			// The listener must not block the event loop.
			go func() {
				if err := chromedp.Run(ctx, page.HandleJavaScriptDialog(true)); err != nil && ctx.Err() == nil {
					t.Errorf("accept dialog %q: %v", ev.Message, err)
				}
			}()
		}
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tb
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	msg := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		msg += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber, d.ColumnNumber)
}

// run runs actions with the wait timeout, failing the test with what.
func (tb *tab) run(what string, actions ...chromedp.Action) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v\npage: %s", what, err, tb.describe())
	}
}

// open navigates to path and waits until sel is visible.
func (tb *tab) open(path, sel string) {
	tb.t.Helper()
	tb.run("open "+path, chromedp.Navigate(tb.base+path), chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// eval returns the JSON value of a JavaScript expression (awaiting a
// promise).
func (tb *tab) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate(expr, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
}

// waitJS waits until a JavaScript expression is truthy. Unlike
// chromedp.Poll it survives the page reloading itself (the grid and the
// task instance page do when a run or try ends): each check is a fresh
// evaluation, and one that fails mid-navigation is tried again.
func (tb *tab) waitJS(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		var ok bool
		err := tb.eval("!!("+expr+")", &ok)
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out waiting for %s (last error: %v)\npage: %s", what, lastErr, tb.describe())
		}
		select {
		case <-tick.C:
		case <-tb.ctx.Done():
			tb.t.Fatalf("waiting for %s: %v", what, tb.ctx.Err())
		}
	}
}

// text returns the text of the first element matching a CSS selector,
// "" when there is none.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	if err := tb.eval(fmt.Sprintf("(function(){var e=document.querySelector(%s);return e?e.textContent:''})()", jsString(sel)), &s); err != nil {
		tb.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// exists reports whether a CSS selector matches.
func (tb *tab) exists(sel string) bool {
	tb.t.Helper()
	var ok bool
	if err := tb.eval(fmt.Sprintf("document.querySelector(%s) !== null", jsString(sel)), &ok); err != nil {
		tb.t.Fatalf("query %s: %v", sel, err)
	}
	return ok
}

// describe is the page's URL and a short text for failure messages.
func (tb *tab) describe() string {
	var s string
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Evaluate(`location.href + "\n" + (document.body ? document.body.innerText.slice(0, 1500) : "")`, &s)); err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// tabTo presses Tab until the focused element matches sel (keyboard
// only, as a user without a mouse would), failing after limit presses.
func (tb *tab) tabTo(sel string, limit int) {
	tb.t.Helper()
	for range limit {
		tb.run("press Tab", chromedp.KeyEvent(kb.Tab))
		var ok bool
		if err := tb.eval(fmt.Sprintf("document.activeElement !== null && document.activeElement.matches(%s)", jsString(sel)), &ok); err != nil {
			tb.t.Fatal(err)
		}
		if ok {
			return
		}
	}
	tb.t.Fatalf("%s not reached with %d Tab presses\npage: %s", sel, limit, tb.describe())
}

// login signs in through the login form.
func (tb *tab) login(user string) {
	tb.t.Helper()
	tb.open("/login", "#login-form")
	tb.run("sign in as "+user,
		chromedp.SendKeys("#username", user, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click("#login-submit", chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="current-user"]`, chromedp.ByQuery),
	)
	if got := strings.TrimSpace(tb.text(`[data-testid="current-user"]`)); got != user {
		tb.t.Fatalf("signed in as %q, want %q", got, user)
	}
}

// screenshot saves a full-page PNG of the current page as an artifact.
func (tb *tab) screenshot(dir, name string) {
	tb.t.Helper()
	var buf []byte
	tb.run("screenshot "+name, chromedp.FullScreenshot(&buf, 100))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", path)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(errors.New("marshal a string cannot fail"))
	}
	return string(b)
}
