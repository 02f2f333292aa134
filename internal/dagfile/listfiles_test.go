package dagfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

func dagFolder(ignores map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"a.yaml":                 {},
		"b.yml":                  {},
		"c.py":                   {},
		"README.md":              {},
		"UPPER.YAML":             {},
		".hidden.yaml":           {},
		".git/config.yaml":       {},
		"team/x.yaml":            {},
		"team/tmp_x.yaml":        {},
		"team/sub/y.yaml":        {},
		"team/sub/skip_me.yaml":  {},
		"vendor/lib.yaml":        {},
		"other/team/z.yaml":      {},
		"other/deep/tmp_q.yaml":  {},
		"other/deep/keep_q.yaml": {},
	}
	for p, content := range ignores {
		fsys[p] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

func TestListFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		syntax  string
		ignores map[string]string
		want    []string
	}{
		{
			name: "no ignore file",
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "c.py", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "other/team/z.yaml",
				"team/sub/skip_me.yaml", "team/sub/y.yaml", "team/tmp_x.yaml", "team/x.yaml", "vendor/lib.yaml"},
		},
		{
			name:   "regexp searched in the relative path",
			syntax: "regexp",
			ignores: map[string]string{
				".airflowignore":      "# comment line\nvendor\n^b\\.yml$  # trailing comment\n[unclosed\ntmp_\n",
				"team/.airflowignore": "^sub/skip",
			},
			want: []string{"UPPER.YAML", "a.yaml", "c.py", "other/deep/keep_q.yaml", "other/team/z.yaml", "team/sub/y.yaml", "team/x.yaml"},
		},
		{
			// The nested file's patterns are relative to its own directory:
			// "^x" matches team/x.yaml but not other files starting with x.
			name:    "regexp default syntax and nested anchor",
			syntax:  "",
			ignores: map[string]string{"team/.airflowignore": "^x\\.yaml"},
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "c.py", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "other/team/z.yaml",
				"team/sub/skip_me.yaml", "team/sub/y.yaml", "team/tmp_x.yaml", "vendor/lib.yaml"},
		},
		{
			name:   "glob",
			syntax: "glob",
			ignores: map[string]string{
				".airflowignore":       "# comment\nvendor/\n*.yml\ntmp_*\n!other/deep/tmp_q.yaml\n/team/sub/skip_*.yaml\n",
				"other/.airflowignore": "team\n",
			},
			want: []string{"UPPER.YAML", "a.yaml", "c.py", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "team/sub/y.yaml", "team/x.yaml"},
		},
		{
			name:    "glob double star",
			syntax:  "glob",
			ignores: map[string]string{".airflowignore": "**/sub/**\nother/**/z.yaml\n"},
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "c.py", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml",
				"team/tmp_x.yaml", "team/x.yaml", "vendor/lib.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ListFiles(dagFolder(tt.ignores), tt.syntax, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Files, tt.want) || len(l.Problems) != 0 {
				t.Errorf("ListFiles =\n%q (problems %v)\nwant\n%q", l.Files, l.Problems, tt.want)
			}
		})
	}
}

func TestListFilesBadSyntax(t *testing.T) {
	t.Parallel()
	if _, err := ListFiles(dagFolder(nil), "fnmatch", 0); err == nil {
		t.Fatal("ListFiles accepted an unknown syntax")
	}
}

func TestListFilesRealDir(t *testing.T) {
	t.Parallel()
	l, err := ListFiles(DirFS("testdata"), "regexp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(l.Files, "valid/multi.yaml") || !slices.Contains(l.Files, "invalid/syntax.yaml") {
		t.Errorf("ListFiles(testdata) = %q", l.Files)
	}
}

// readDirFailFS fails to read one directory, as a directory without read
// permission does (tests run as root, who may read anything).
type readDirFailFS struct {
	fstest.MapFS
	dir string
}

func (f readDirFailFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.dir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func TestListFilesReportsBadEntriesAndGoesOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "team/b.yaml", "other/c.yaml", "caf\xe9.yaml", "caf\xe9.txt"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An endless ignore file: read without a bound it would take all memory.
	symlink(t, "/dev/zero", filepath.Join(dir, "team", ".airflowignore"))
	if err := os.WriteFile(filepath.Join(dir, "other", ".airflowignore"), bytes.Repeat([]byte("x\n"), 600), 0o644); err != nil {
		t.Fatal(err)
	}
	var l *Listing
	var err error
	within(t, "ListFiles", func() { l, err = ListFiles(DirFS(dir), "regexp", 1000) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Files, []string{"a.yaml"}) {
		t.Errorf("Files = %q, want a.yaml only", l.Files)
	}
	var got []string
	for _, p := range l.Problems {
		if !utf8.ValidString(p.Path) {
			t.Errorf("problem path %q is not UTF-8", p.Path)
		}
		got = append(got, fmt.Sprintf("%s [%s]: %v", p.Path, p.Unlisted, p.Err))
	}
	want := []string{
		"caf\uFFFD.yaml []: the name is not valid UTF-8; rename it",
		"other/.airflowignore [other]: file too large: 1200 bytes is more than core.max_dag_file_size (1000 bytes)",
		"team/.airflowignore [team]: not a regular file: it is a character device; only regular files are read",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	l, err = ListFiles(readDirFailFS{MapFS: dagFolder(nil), dir: "team"}, "regexp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(l.Files, "team/x.yaml") || !slices.Contains(l.Files, "other/team/z.yaml") {
		t.Errorf("Files = %q", l.Files)
	}
	if len(l.Problems) != 1 || l.Problems[0].Path != "team" || l.Problems[0].Unlisted != "team" || !errors.Is(l.Problems[0].Err, fs.ErrPermission) {
		t.Errorf("Problems = %+v, want team unlisted", l.Problems)
	}

	// Only the root failing fails the listing.
	if _, err := ListFiles(readDirFailFS{MapFS: dagFolder(nil), dir: "."}, "regexp", 0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("unreadable root: err = %v", err)
	}
}

func TestMightContainDAG(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"from airflow import DAG":             true,
		"import AIRFLOW  # my Dag":            true,
		"from airflow.models import Variable": false,
		"dag = build()":                       false,
		"":                                    false,
		"# airflow\n# DaG\n":                  true,
	} {
		if got := MightContainDAG([]byte(src)); got != want {
			t.Errorf("MightContainDAG(%q) = %v, want %v", src, got, want)
		}
	}
	for name, want := range map[string]bool{"a.py": true, "b/C.PY": true, "a.pyc": false, "a.yaml": false} {
		if got := IsPython(name); got != want {
			t.Errorf("IsPython(%q) = %v", name, got)
		}
	}
}
