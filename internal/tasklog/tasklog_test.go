package tasklog

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

func TestPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  windsock.TaskInstanceKey
		try  int
		want string
	}{
		{"unmapped", windsock.TaskInstanceKey{DagID: "d", RunID: "scheduled__2024-01-01T00:00:00+00:00", TaskID: "g.t", MapIndex: -1}, 1,
			"/logs/dag_id=d/run_id=scheduled__2024-01-01T00:00:00+00:00/task_id=g.t/attempt=1.log"},
		{"mapped", windsock.TaskInstanceKey{DagID: "d", RunID: "r", TaskID: "t", MapIndex: 3}, 2,
			"/logs/dag_id=d/run_id=r/task_id=t/map_index=3/attempt=2.log"},
		{"dot dot stays inside", windsock.TaskInstanceKey{DagID: "..", RunID: "..", TaskID: "..", MapIndex: -1}, 1,
			"/logs/dag_id=../run_id=../task_id=../attempt=1.log"},
		{"slash escaped", windsock.TaskInstanceKey{DagID: "a/../../b", RunID: "x%2Fy/z", TaskID: "t", MapIndex: -1}, 1,
			"/logs/dag_id=a%2F..%2F..%2Fb/run_id=x%252Fy%2Fz/task_id=t/attempt=1.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Path("/logs", tt.key, tt.try)
			if got != tt.want {
				t.Errorf("Path = %q, want %q", got, tt.want)
			}
			if !strings.HasPrefix(filepath.Clean(got), "/logs/") {
				t.Errorf("Path %q escapes the base folder", got)
			}
		})
	}
}

func TestMaskerMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none", nil, "password hunter2", "password hunter2"},
		{"empty and short ignored", []string{"", "abc"}, "abc abcd", "abc abcd"},
		{"every occurrence", []string{"hunter2"}, "hunter2 and hunter2hunter2", "*** and ******"},
		{"longest wins", []string{"secret", "secret-long"}, "x secret-long y secret", "x *** y ***"},
		{"url encoded form", []string{"p@ss w/rd"}, "postgres://u:p%40ss+w%2Frd@h/db or p@ss%20w%2Frd", "postgres://u:***@h/db or ***"},
		{"lines of a multi-line secret", []string{"-----BEGIN KEY-----\nMIIEvQIBADAN\n-----END KEY-----"}, "MIIEvQIBADAN", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := NewMasker(tt.secrets...).Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	var nilMasker *Masker
	nilMasker.Add("whatever")
	if got := nilMasker.Mask("whatever"); got != "whatever" {
		t.Errorf("nil Masker changed %q to %q", "whatever", got)
	}
}

// A secret split across Write calls at any point is still masked, and
// Close flushes what was held back.
func TestMaskerWriterSplitSecret(t *testing.T) {
	t.Parallel()
	m := NewMasker("topsecret", "other-secret-value")
	in := "a topsecret b other-secret-value c topsecre"
	want := "a *** b *** c topsecre"
	for cut1 := 0; cut1 <= len(in); cut1++ {
		for cut2 := cut1; cut2 <= len(in); cut2 += 3 {
			var out bytes.Buffer
			w := m.Writer(&out)
			for _, part := range []string{in[:cut1], in[cut1:cut2], in[cut2:]} {
				if _, err := w.Write([]byte(part)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("cuts %d,%d: got %q, want %q", cut1, cut2, out.String(), want)
			}
		}
	}
}

// A secret added while a writer is in use applies to later writes.
func TestMaskerAddWhileWriting(t *testing.T) {
	t.Parallel()
	m := NewMasker()
	var out bytes.Buffer
	w := m.Writer(&out)
	w.Write([]byte("before s3cr3tvalue\n"))
	m.Add("s3cr3tvalue")
	w.Write([]byte("after s3cr3tvalue\n"))
	w.Close()
	if want := "before s3cr3tvalue\nafter ***\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func setup(t *testing.T) (string, windsock.TaskInstanceKey) {
	t.Helper()
	return t.TempDir(), windsock.TaskInstanceKey{DagID: "dag", RunID: "manual__2024-01-01T00:00:00+00:00", TaskID: "task", MapIndex: -1}
}

var lineRE = regexp.MustCompile(`^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000\] \{(windsock|output)\} (INFO|WARNING|ERROR) - (.*)$`)

func TestFile(t *testing.T) {
	t.Parallel()
	base, key := setup(t)
	f, err := Open(base, key, 2, NewMasker("hunter22"))
	if err != nil {
		t.Fatal(err)
	}
	f.Infof("Starting attempt %d", 2)
	f.Write([]byte("hello wor"))
	f.Write([]byte("ld\npassword is hunt"))
	f.Write([]byte("er22\nno newline"))

	// Complete lines are in the file before Close: the log can be followed.
	data, next, err := Read(base, key, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 3 {
		t.Fatalf("before Close the log has %d lines, want 3:\n%s", got, data)
	}
	f.Errorf("Traceback:\n  line one\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	more, _, err := Read(base, key, 2, next)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, more...)
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q does not look like an Airflow log line", line)
		}
		got = append(got, m[1]+" "+m[2]+" "+m[3])
	}
	want := []string{
		"windsock INFO Starting attempt 2",
		"output INFO hello world",
		"output INFO password is ***",
		"windsock ERROR Traceback:",
		"windsock ERROR   line one",
		"output INFO no newline",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	st, err := os.Stat(Path(base, key, 2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", st.Mode().Perm())
	}
	dir, err := os.Stat(filepath.Dir(Path(base, key, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if dir.Mode().Perm() != 0o700 {
		t.Errorf("log dir mode %v, want 0700", dir.Mode().Perm())
	}
}

// Opening the same try again appends.
func TestFileAppends(t *testing.T) {
	t.Parallel()
	base, key := setup(t)
	for i := 0; i < 2; i++ {
		f, err := Open(base, key, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.Infof("run %d", i)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, _, err := Read(base, key, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "run 0") || !strings.Contains(string(data), "run 1") {
		t.Errorf("log does not hold both opens:\n%s", data)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	base, key := setup(t)
	if _, _, err := Read(base, key, 1, 0); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Errorf("missing log: error %v, want code %s", err, windsock.ENOTFOUND)
	}
	if _, _, err := Read(base, key, 1, -1); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Errorf("negative offset: error %v, want code %s", err, windsock.EINVALID)
	}
	f, err := Open(base, key, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("one\n"))
	data, next, err := Read(base, key, 1, 0)
	if err != nil || !strings.HasSuffix(string(data), "one\n") || next != int64(len(data)) {
		t.Fatalf("Read = %q, %d, %v", data, next, err)
	}
	data, next2, err := Read(base, key, 1, next)
	if err != nil || len(data) != 0 || next2 != next {
		t.Fatalf("Read at end = %q, %d, %v; want nothing, %d", data, next2, err, next)
	}
	f.Write([]byte("two\n"))
	data, _, err = Read(base, key, 1, next)
	if err != nil || !strings.HasSuffix(string(data), "two\n") || strings.Contains(string(data), "one") {
		t.Fatalf("Read from %d = %q, %v; want only the new line", next, data, err)
	}
}

// Tries of one task share its folder, whichever makes it; a folder that
// cannot be made is an error, not a log written elsewhere.
func TestOpenTriesShareTheTaskFolder(t *testing.T) {
	t.Parallel()
	base, key := setup(t)
	for try := 1; try <= 3; try++ {
		f, err := Open(base, key, try, nil)
		if err != nil {
			t.Fatalf("try %d: %v", try, err)
		}
		f.Infof("try %d", try)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(Path(base, key, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "attempt=1.log attempt=2.log attempt=3.log" {
		t.Errorf("task folder holds %q", got)
	}

	blocked := filepath.Join(t.TempDir(), "logs")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, try := range []int{1, 2} {
		if f, err := Open(blocked, key, try, nil); err == nil {
			f.Close()
			t.Errorf("try %d: Open under a file succeeded", try)
		}
	}
}

func TestMaskerAddNamed(t *testing.T) {
	t.Parallel()
	// The test's own rule: names containing "token" or "password".
	sensitive := func(name string) bool {
		return strings.Contains(name, "token") || strings.Contains(name, "password")
	}
	tests := []struct {
		name   string
		value  any
		as     string
		in     string
		masked []string // what Mask(in) must no longer hold
		kept   []string // what it must still hold
	}{
		{name: "string under a sensitive name", value: "hunter22", as: "api_token", in: "x hunter22 y", masked: []string{"hunter22"}},
		{name: "string under a plain name", value: "visible1", as: "region", in: "visible1", kept: []string{"visible1"}},
		{name: "string without a name", value: "hunter22", as: "", in: "hunter22", masked: []string{"hunter22"}},
		{name: "object: only sensitive keys",
			value: map[string]any{"token": "tok-12345", "host": "db.example", "port": 5432.0},
			as:    "cfg", in: "tok-12345 db.example 5432", masked: []string{"tok-12345"}, kept: []string{"db.example", "5432"}},
		{name: "a sensitive name does not make every field secret",
			value: map[string]any{"user": "alice-admin", "password": "pw-123456"},
			as:    "db_password", in: "alice-admin pw-123456", masked: []string{"pw-123456"}, kept: []string{"alice-admin"}},
		{name: "nested objects at any depth",
			value: map[string]any{"a": map[string]any{"b": map[string]any{"refresh_token": "deep-secret", "x": "not-secret"}}},
			as:    "", in: "deep-secret not-secret", masked: []string{"deep-secret"}, kept: []string{"not-secret"}},
		{name: "array items keep the array's name",
			value: map[string]any{"tokens": []any{"first-tok", "second-tok", 7.0}, "hosts": []any{"host-one"}},
			as:    "", in: "first-tok second-tok host-one", masked: []string{"first-tok", "second-tok"}, kept: []string{"host-one"}},
		{name: "object in an array under a sensitive name uses its keys",
			value: []any{map[string]any{"password": "pw-654321", "login": "bob-login"}},
			as:    "password_list", in: "pw-654321 bob-login", masked: []string{"pw-654321"}, kept: []string{"bob-login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewMasker()
			m.AddNamed(tt.value, tt.as, sensitive)
			if m.Empty() != (len(tt.masked) == 0) {
				t.Errorf("Empty() = %v with %d secrets expected", m.Empty(), len(tt.masked))
			}
			got := m.Mask(tt.in)
			for _, s := range tt.masked {
				if strings.Contains(got, s) || !strings.Contains(got, Replacement) {
					t.Errorf("Mask(%q) = %q: %q not masked", tt.in, got, s)
				}
			}
			for _, s := range tt.kept {
				if !strings.Contains(got, s) {
					t.Errorf("Mask(%q) = %q: %q masked", tt.in, got, s)
				}
			}
		})
	}
	var nilMasker *Masker
	nilMasker.AddNamed(map[string]any{"token": "whatever"}, "", sensitive)
	if !nilMasker.Empty() {
		t.Error("a nil Masker is not empty")
	}
}
