package envrunner_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/envrunner"
)

// TestNewRemovesAnInterruptedMoveExport: a metadata move killed midway
// leaves its export (decrypted variables and connections) in the home; the
// next runner over that home removes it, and nothing else.
func TestNewRemovesAnInterruptedMoveExport(t *testing.T) {
	home := t.TempDir()
	left := filepath.Join(home, ".migrate-123")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "connection.csv"), []byte("conn_id,password\ndb,secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(home, "environments")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := envrunner.New(envrunner.Config{Home: home, Executable: "/bin/true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the interrupted move's export is still there (%v)", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the home's other folders: %v", err)
	}
}
