package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain removes the windsock binary the tests built, once they are all
// done with it.
func TestMain(m *testing.M) {
	code := m.Run()
	if dir := binaryDir; dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// binaryDir holds the binary windsockBinary built; TestMain removes it.
var binaryDir string

// windsockBinary builds the windsock binary once per test binary: the
// tests that run it as a process share it, where each used to build its
// own (a full link of the binary each, at the same time, under -race CI).
var windsockBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "windsock-e2e-bin-")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	bin := filepath.Join(dir, "windsock")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/windsock").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return bin, nil
})

// buildWindsock returns the windsock binary, built on the first call.
func buildWindsock(t *testing.T) string {
	t.Helper()
	bin, err := windsockBinary()
	if err != nil {
		t.Fatalf("build windsock: %v", err)
	}
	return bin
}
