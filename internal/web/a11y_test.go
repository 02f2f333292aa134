package web

import (
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/windsock/windsock/internal/windsock"
)

// TestAccessibilityBasics renders every page of this package as Admin,
// with data so that rows and forms show, and checks what a screen reader
// and a keyboard need: labelled form controls, images with alt text,
// buttons with names, a page language.
func TestAccessibilityBasics(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("etl", false, "finance")
	e.addRun("etl", 1, windsock.DagRunFailed, windsock.TaskStateFailed, windsock.TaskStateSuccess)
	if err := e.webVariables().Set(e.ctx, "region", "eu", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.webConnections().Add(e.ctx, e.conn("pg", "pw", "")); err != nil {
		t.Fatal(err)
	}
	if err := e.st.PoolUpsert(e.ctx, &windsock.Pool{Pool: "small", Slots: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.ImportErrorSet(e.ctx, &windsock.ImportError{Filename: "/dags/x.yaml", Stacktrace: "bad", Timestamp: e.now}); err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"/login": "", "/": "admin", "/dagrun/list": "admin", "/taskinstance/list": "admin", "/log/list": "admin",
		"/slamiss/list?dag_id=etl": "admin", "/variable/list": "admin", "/connection/list": "admin",
		"/pool/list": "admin", "/users/list": "admin", "/roles/list": "admin", "/roles/edit/Viewer": "admin", "/nope": "admin",
	}
	for path, user := range pages {
		r := e.get(path, user)
		if r.status >= 500 || r.status == http.StatusSeeOther {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		for _, problem := range a11yProblems(t, r.body) {
			t.Errorf("%s: %s", path, problem)
		}
	}
}

// a11yProblems returns what a page lacks for assistive technology.
func a11yProblems(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	labelFor := map[string]bool{}
	var controls []*html.Node
	var problems []string
	var walk func(n *html.Node, inLabel bool)
	walk = func(n *html.Node, inLabel bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				if attr(n, "lang") == "" {
					problems = append(problems, "<html> has no lang")
				}
			case "label":
				if f := attr(n, "for"); f != "" {
					labelFor[f] = true
				}
				inLabel = true
			case "input", "select", "textarea":
				if attr(n, "type") != "hidden" && !inLabel {
					controls = append(controls, n)
				}
			case "img":
				if _, ok := attrOK(n, "alt"); !ok {
					problems = append(problems, "img without alt: "+attr(n, "src"))
				}
			case "button":
				if strings.TrimSpace(textOf(n)) == "" && attr(n, "aria-label") == "" && attr(n, "title") == "" {
					problems = append(problems, "button without a name: "+render(n))
				}
			case "a":
				if strings.TrimSpace(textOf(n)) == "" && attr(n, "aria-label") == "" {
					problems = append(problems, "link without text: "+attr(n, "href"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inLabel)
		}
	}
	walk(doc, false)
	for _, c := range controls {
		id := attr(c, "id")
		if (id == "" || !labelFor[id]) && attr(c, "aria-label") == "" && attr(c, "aria-labelledby") == "" {
			problems = append(problems, "unlabelled form control: "+render(c))
		}
	}
	return problems
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func render(n *html.Node) string {
	var b strings.Builder
	_ = html.Render(&b, n)
	return b.String()
}

var stateRuleRe = regexp.MustCompile(`\.state-([a-z_]+)\s*\{([^}]*)\}`)

// TestStateColourContrast reads the state colours of app.css and checks
// WCAG 2 contrast: the count or name written on a mark against its
// background at least 4.5:1, and the mark's border against the white page
// at least 3:1, so that even a light state (running, none) stands out.
func TestStateColourContrast(t *testing.T) {
	t.Parallel()
	css, err := files.ReadFile("assets/app.css")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range stateRuleRe.FindAllStringSubmatch(string(css), -1) {
		state, decls := m[1], cssDecls(m[2])
		seen[state] = true
		bg, fg, border := decls["background"], decls["color"], decls["border-color"]
		if bg == "" || fg == "" || border == "" {
			t.Errorf("state %s: background, color and border-color must all be set, got %v", state, decls)
			continue
		}
		if c := contrast(t, fg, bg); c < 4.5 {
			t.Errorf("state %s: text %s on %s has contrast %.2f, want >= 4.5", state, fg, bg, c)
		}
		if c := contrast(t, border, "#ffffff"); c < 3 {
			t.Errorf("state %s: border %s on the white page has contrast %.2f, want >= 3", state, border, c)
		}
	}
	for _, s := range taskStates {
		if !seen[s] {
			t.Errorf("app.css has no colours for state %s", s)
		}
	}
	// The table has the right answers for known pairs.
	if c := contrast(t, "#000000", "#ffffff"); math.Abs(c-21) > 0.01 {
		t.Errorf("contrast(black, white) = %.2f, want 21", c)
	}
	if c := contrast(t, "#777777", "#ffffff"); math.Abs(c-4.48) > 0.01 {
		t.Errorf("contrast(#777, white) = %.2f, want 4.48", c)
	}
}

func cssDecls(body string) map[string]string {
	out := map[string]string{}
	for _, d := range strings.Split(body, ";") {
		k, v, ok := strings.Cut(d, ":")
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q: want #rrggbb", hex)
	}
	var ch [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			ch[i] = c / 12.92
		} else {
			ch[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
}

// TestA11yProblemsFinds checks the checker itself on a page with faults.
func TestA11yProblemsFinds(t *testing.T) {
	t.Parallel()
	bad := `<html><body><input id="x"><select name="s"></select><button type="button"></button><img src="a.png">
		<label for="y">Y</label><input id="y"><label>Z <input name="z"></label><input type="hidden" name="h"></body></html>`
	got := a11yProblems(t, bad)
	if len(got) != 5 { // lang, x, s, button, img
		t.Errorf("a11yProblems found %d problems, want 5: %q", len(got), got)
	}
}
