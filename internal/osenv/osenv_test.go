package osenv

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestGet(t *testing.T) {
	t.Parallel()
	env := []string{"A=1", "B=", "A=2", "C"}
	for _, tt := range []struct {
		key  string
		want string
		ok   bool
	}{
		{"A", "2", true}, // the last one, as programs read it
		{"B", "", true},
		{"C", "", false}, // no '=': not a variable
		{"D", "", false},
	} {
		if got, ok := Get(env, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Get(%s) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLookPath(t *testing.T) {
	t.Parallel()
	first, second := t.TempDir(), t.TempDir()
	write := func(dir, name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(first, "tool", 0o644) // not executable: passed over
	want := write(second, "tool", 0o755)
	env := []string{"PATH=relative:" + first + ":" + second}
	if got, err := LookPath("tool", env); err != nil || got != want {
		t.Errorf("LookPath(tool) = %q, %v; want %q", got, err, want)
	}
	if _, err := LookPath("tool", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookPath without PATH = %v, want ErrNotFound", err)
	}
	if got, err := LookPath(want, nil); err != nil || got != want {
		t.Errorf("LookPath(%s) = %q, %v; a path is used as it is", want, got, err)
	}
	if _, err := LookPath(filepath.Join(first, "tool"), nil); err == nil {
		t.Error("a path to a file that is not executable was accepted")
	}
}
