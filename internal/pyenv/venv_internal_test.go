package pyenv

import (
	"strings"
	"testing"
)

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Looking in indexes: https://deploy:s3cr3t@pypi.example.com/simple": "Looking in indexes: https://deploy:****@pypi.example.com/simple",
		"git+https://user:tok@github.com/x/y.git and http://a:b@c/":         "git+https://user:****@github.com/x/y.git and http://a:****@c/",
		"https://pypi.org/simple (no credentials)":                          "https://pypi.org/simple (no credentials)",
		"user@example.com is not a URL":                                     "user@example.com is not a URL",
		"--extra-index-url https://ghp_abc123@pkgs.example.com/simple":      "--extra-index-url https://****@pkgs.example.com/simple",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 100 {
		b.WriteString(strings.Repeat("x", i) + "\n")
	}
	got := tail([]byte(b.String()+"ERROR: last line\n"), 5, 1000)
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || lines[4] != "ERROR: last line" {
		t.Errorf("tail = %q", got)
	}
	if got := tail([]byte(strings.Repeat("y", 50)+"\n"+strings.Repeat("z", 30)), 10, 40); got != strings.Repeat("z", 30) {
		t.Errorf("byte-bounded tail = %q, want the last whole line", got)
	}
}
