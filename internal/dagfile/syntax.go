package dagfile

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxLocateSize bounds the files whose syntax errors are located exactly
// (syntaxError parses prefixes of the file some 30 times); a larger file
// gets the YAML library's own line.
const maxLocateSize = 1 << 20

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine splits a yaml.v3 error into its line and message. The line
// is only approximate: yaml.v3 reports where the enclosing construct
// starts (the "context" mark), 0-based for parser errors, rather than
// where the problem is; syntaxError finds the latter.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 1, strings.TrimPrefix(msg, "yaml: ")
}

// syntaxError returns the line and column (0 when unknown) of the YAML
// syntax error err found in src, and its message. The position is the
// first place where the text stops being the start of a valid document:
// the shortest prefix of src that fails with the same message ends at the
// mistake. A prefix cut at a line end parses exactly as the whole file
// does up to that point (the scanner never looks past a line break to
// read a token), so the failing prefixes form a range that two binary
// searches find, by lines then by bytes within the line.
func syntaxError(src []byte, err error) (line, column int, msg string) {
	line, msg = yamlErrorLine(err)
	if len(src) > maxLocateSize {
		return line, 0, msg
	}
	fails := func(n int) bool {
		var doc yaml.Node
		e := yaml.Unmarshal(src[:n], &doc)
		if e == nil {
			return false
		}
		_, m := yamlErrorLine(e)
		return m == msg
	}
	if !fails(len(src)) {
		return line, 0, msg
	}
	starts := []int{0} // byte offset of each line
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	lineEnd := func(k int) int { // end of 1-based line k, its newline included
		if k < len(starts) {
			return starts[k]
		}
		return len(src)
	}
	lo, hi := 0, len(starts) // fails(lineEnd(hi)), !fails(lineEnd(lo))
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(lineEnd(mid)) {
			hi = mid
		} else {
			lo = mid
		}
	}
	first, last := lineEnd(hi-1), lineEnd(hi) // the bytes of line hi
	a, b := first, last
	for b-a > 1 {
		mid := (a + b) / 2
		for mid > a+1 && !utf8.RuneStart(src[mid]) {
			mid-- // a prefix cut inside a character fails for that reason alone
		}
		if !utf8.RuneStart(src[mid]) {
			break
		}
		if fails(mid) {
			b = mid
		} else {
			a = mid
		}
	}
	// The character before b is the one whose reading made the prefix fail.
	bad := b - 1
	for bad > first && !utf8.RuneStart(src[bad]) {
		bad--
	}
	text := bytes.TrimRight(src[first:last], "\r\n")
	if bad-first < len(text) {
		column = utf8.RuneCount(src[first:bad]) + 1
	}
	return hi, column, msg
}

// nulScalars reports every scalar holding a NUL character (YAML's "\0"
// escape): no text column can store it, so such a file is refused whole.
func (p *fileParser) nulScalars(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && strings.IndexByte(n.Value, 0) >= 0 {
		p.add(n, "", "a NUL character (\\0) cannot be stored; remove it")
	}
	for _, c := range n.Content {
		p.nulScalars(c)
	}
}
