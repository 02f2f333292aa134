package dagfile

import (
	"slices"
	"testing"
	"testing/fstest"
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
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "other/team/z.yaml",
				"team/sub/skip_me.yaml", "team/sub/y.yaml", "team/tmp_x.yaml", "team/x.yaml", "vendor/lib.yaml"},
		},
		{
			name:   "regexp searched in the relative path",
			syntax: "regexp",
			ignores: map[string]string{
				".airflowignore":      "# comment line\nvendor\n^b\\.yml$  # trailing comment\n[unclosed\ntmp_\n",
				"team/.airflowignore": "^sub/skip",
			},
			want: []string{"UPPER.YAML", "a.yaml", "other/deep/keep_q.yaml", "other/team/z.yaml", "team/sub/y.yaml", "team/x.yaml"},
		},
		{
			// The nested file's patterns are relative to its own directory:
			// "^x" matches team/x.yaml but not other files starting with x.
			name:    "regexp default syntax and nested anchor",
			syntax:  "",
			ignores: map[string]string{"team/.airflowignore": "^x\\.yaml"},
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "other/team/z.yaml",
				"team/sub/skip_me.yaml", "team/sub/y.yaml", "team/tmp_x.yaml", "vendor/lib.yaml"},
		},
		{
			name:   "glob",
			syntax: "glob",
			ignores: map[string]string{
				".airflowignore":       "# comment\nvendor/\n*.yml\ntmp_*\n!other/deep/tmp_q.yaml\n/team/sub/skip_*.yaml\n",
				"other/.airflowignore": "team\n",
			},
			want: []string{"UPPER.YAML", "a.yaml", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml", "team/sub/y.yaml", "team/x.yaml"},
		},
		{
			name:    "glob double star",
			syntax:  "glob",
			ignores: map[string]string{".airflowignore": "**/sub/**\nother/**/z.yaml\n"},
			want: []string{"UPPER.YAML", "a.yaml", "b.yml", "other/deep/keep_q.yaml", "other/deep/tmp_q.yaml",
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
