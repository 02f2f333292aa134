// Command testreport reads `go test -json` on stdin and prints what plain
// `go test` prints (each package's result line, the output of failed tests
// and of packages that failed or did not build), then lists the tests that
// were skipped, grouped by the reason they gave. `make test` pipes the test
// suite through it so that a run without PostgreSQL or a browser says
// which suites it left out and why.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is a skipped test and the reason its t.Skip gave.
type skip struct {
	pkg, test, reason string
}

func main() {
	skips, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	summarize(os.Stdout, skips)
}

// report copies the stream's meaningful output to w and returns the skips.
func report(r io.Reader, w io.Writer) ([]skip, error) {
	type key struct{ pkg, test string }
	output := map[key][]string{}
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text()) // not an event: pass it on
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "output":
			output[k] = append(output[k], e.Output)
		case "fail":
			// A failed test or package: all it printed, as go test does.
			for _, line := range output[k] {
				fmt.Fprint(w, line)
			}
			delete(output, k)
		case "pass", "skip":
			if e.Test != "" && e.Action == "skip" {
				skips = append(skips, skip{e.Package, e.Test, skipReason(output[k])})
			}
			if e.Test == "" { // a package: only its result line
				for _, line := range output[k] {
					if isResultLine(line) {
						fmt.Fprint(w, line)
					}
				}
			}
			delete(output, k)
		}
	}
	return skips, sc.Err()
}

// isResultLine tells a package's result line ("ok  \tpkg\t1.2s", "FAIL\tpkg",
// "?   \tpkg\t[no test files]") from the rest of its output.
func isResultLine(s string) bool {
	return strings.HasPrefix(s, "ok  \t") || strings.HasPrefix(s, "FAIL\t") || strings.HasPrefix(s, "?   \t")
}

// logPrefix is the "file_test.go:12: " that t.Skip puts before its message.
var logPrefix = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is the message a skipped test logged last.
func skipReason(lines []string) string {
	reason := "no reason given"
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		reason = logPrefix.ReplaceAllString(strings.TrimRight(l, "\n"), "")
	}
	return reason
}

// summarize lists the skipped tests by reason, with the packages they are in.
func summarize(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		fmt.Fprintln(w, "No test was skipped.")
		return
	}
	byReason := map[string][]skip{}
	for _, s := range skips {
		byReason[s.reason] = append(byReason[s.reason], s)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := len(byReason[reasons[i]]), len(byReason[reasons[j]]); a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	fmt.Fprintf(w, "Skipped %d test(s):\n", len(skips))
	for _, r := range reasons {
		pkgs := map[string]bool{}
		var names []string
		for _, s := range byReason[r] {
			if !pkgs[s.pkg] {
				pkgs[s.pkg] = true
				names = append(names, s.pkg)
			}
		}
		sort.Strings(names)
		fmt.Fprintf(w, "  %d: %s\n     in %s\n", len(byReason[r]), r, strings.Join(names, ", "))
	}
}
