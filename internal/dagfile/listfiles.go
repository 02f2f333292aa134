package dagfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// ignoreFile is the name of Airflow's per-directory ignore file.
const ignoreFile = ".airflowignore"

// Listing is what ListFiles found in a DAG folder.
type Listing struct {
	// Files are the slash-separated paths of the DAG files, sorted.
	Files []string
	// Problems are the entries that could not be listed, in walk order.
	Problems []Problem
}

// Problem is an entry of a DAG folder that ListFiles could not list. One
// bad entry never stops the listing of the others.
type Problem struct {
	// Path is the entry, slash-separated and valid UTF-8 (a byte that is
	// not is shown as U+FFFD), so it can be stored as an import error.
	Path string
	Err  error
	// Unlisted is the directory whose content is unknown because of the
	// problem, "" when none: files known to be under it should be kept as
	// they were rather than taken as removed.
	Unlisted string
}

// ListFiles walks fsys and returns the slash-separated paths of its .yaml,
// .yml and .py files, sorted (IsPython tells them apart; MightContainDAG
// is Airflow's safe-mode test of a Python file's text). Hidden files and directories (names starting
// with '.') are skipped. A .airflowignore file applies to its directory
// and everything below it, with Airflow's core.dag_ignore_file_syntax:
// "regexp" (the default, also for "") where each line is a regular
// expression searched for in the path relative to the ignore file's
// directory, or "glob" with .gitignore rules (including "!" negation).
// Lines that do not compile are skipped, as Airflow skips them. Ignore
// files are read as DAG files are (ReadFile, at most limit bytes).
//
// A subdirectory or ignore file that cannot be read, or a DAG file or
// directory whose name is not UTF-8, is reported in Listing.Problems and
// the walk goes on; only a root that cannot be read is an error.
func ListFiles(fsys fs.FS, syntax string, limit int64) (*Listing, error) {
	switch syntax {
	case "", "regexp", "glob":
	default:
		return nil, fmt.Errorf("list dag files: unknown dag_ignore_file_syntax %q: use regexp or glob", syntax)
	}
	w := &walker{fsys: fsys, glob: syntax == "glob", limit: limit, out: &Listing{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list dag files: %w", err)
	}
	w.dir(".", entries, nil)
	sort.Strings(w.out.Files)
	return w.out, nil
}

// ignoreRule is one line of a .airflowignore file.
type ignoreRule struct {
	base    string // directory holding the ignore file, "." for the root
	re      *regexp.Regexp
	glob    bool
	negate  bool
	dirOnly bool
}

func (r ignoreRule) matches(p string, isDir bool) bool {
	rel := p
	if r.base != "." {
		rel = strings.TrimPrefix(p, r.base+"/")
	}
	if r.glob && r.dirOnly && !isDir {
		return false
	}
	if r.glob {
		return r.re.MatchString(rel)
	}
	return r.re.FindStringIndex(rel) != nil
}

func ignored(rules []ignoreRule, p string, isDir bool) bool {
	out := false
	for _, r := range rules {
		if !r.glob {
			if r.matches(p, isDir) {
				return true
			}
			continue
		}
		// gitignore: the last matching rule decides.
		if r.matches(p, isDir) {
			out = !r.negate
		}
	}
	return out
}

// walker holds what one ListFiles call shares.
type walker struct {
	fsys  fs.FS
	glob  bool
	limit int64
	out   *Listing
}

func (w *walker) problem(p string, err error, unlisted string) {
	w.out.Problems = append(w.out.Problems, Problem{Path: strings.ToValidUTF8(p, "\uFFFD"), Err: err, Unlisted: unlisted})
}

// dir lists one directory whose entries are already read.
func (w *walker) dir(dir string, entries []fs.DirEntry, rules []ignoreRule) {
	own, err := readIgnore(w.fsys, dir, w.glob, w.limit)
	if err != nil {
		// Without its ignore file the directory's DAG files are unknown.
		w.problem(path.Join(dir, ignoreFile), err, dir)
		return
	}
	rules = append(rules[:len(rules):len(rules)], own...)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := path.Join(dir, name)
		isDir := e.IsDir()
		isDAG := false
		switch strings.ToLower(path.Ext(name)) {
		case ".yaml", ".yml", ".py":
			isDAG = true
		}
		if (isDir || isDAG) && !utf8.ValidString(name) {
			// Its path could be neither stored nor shown as a fileloc.
			w.problem(p, errors.New("the name is not valid UTF-8; rename it"), "")
			continue
		}
		if ignored(rules, p, isDir) {
			continue
		}
		if isDir {
			sub, err := fs.ReadDir(w.fsys, p)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while listing
			}
			if err != nil {
				w.problem(p, err, p)
				continue
			}
			w.dir(p, sub, rules)
			continue
		}
		if isDAG {
			w.out.Files = append(w.out.Files, p)
		}
	}
}

func readIgnore(fsys fs.FS, dir string, glob bool, limit int64) ([]ignoreRule, error) {
	b, err := ReadFile(fsys, path.Join(dir, ignoreFile), limit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rules []ignoreRule
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		var r ignoreRule
		var ok bool
		if glob {
			r, ok = globRule(line)
		} else {
			r, ok = regexpRule(line)
		}
		if ok {
			r.base = dir
			rules = append(rules, r)
		}
	}
	return rules, nil
}

var inlineComment = regexp.MustCompile(`\s*#.*`)

// regexpRule reads a line as Airflow's regexp syntax does: '#' starts a
// comment anywhere on the line.
func regexpRule(line string) (ignoreRule, bool) {
	line = strings.TrimSpace(inlineComment.ReplaceAllString(line, ""))
	if line == "" {
		return ignoreRule{}, false
	}
	re, err := regexp.Compile(line)
	if err != nil {
		return ignoreRule{}, false
	}
	return ignoreRule{re: re}, true
}

// globRule reads a line with .gitignore rules.
func globRule(line string) (ignoreRule, bool) {
	if strings.HasPrefix(line, "#") {
		return ignoreRule{}, false
	}
	line = strings.TrimRight(line, " \t")
	r := ignoreRule{glob: true}
	if strings.HasPrefix(line, "!") {
		r.negate, line = true, line[1:]
	} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly, line = true, strings.TrimRight(line, "/")
	}
	if line == "" {
		return ignoreRule{}, false
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	body := globToRegexp(line)
	if anchored {
		body = "^" + body + "$"
	} else {
		body = "(?:^|/)" + body + "$"
	}
	re, err := regexp.Compile(body)
	if err != nil {
		return ignoreRule{}, false
	}
	r.re = re
	return r, true
}

func globToRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(g[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case c == '\\' && i+1 < len(g):
			i++
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// IsPython reports whether a DAG folder entry is a Python DAG file.
func IsPython(name string) bool {
	return strings.EqualFold(path.Ext(name), ".py")
}

// MightContainDAG is Airflow's core.dag_discovery_safe_mode test: a Python
// file is parsed only when its text holds both "airflow" and "dag", in any
// case. A file that fails it is not a DAG file and gets no import error.
func MightContainDAG(src []byte) bool {
	return containsFold(src, "airflow") && containsFold(src, "dag")
}

// containsFold reports whether src holds word (lower-case ASCII) in any
// case, without copying src.
func containsFold(src []byte, word string) bool {
	for i := 0; i+len(word) <= len(src); i++ {
		j := 0
		for j < len(word) && src[i+j]|0x20 == word[j] {
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}
