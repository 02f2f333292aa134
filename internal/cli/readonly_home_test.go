package cli_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/fernet"
)

// TestReadOnlyHome runs `dags list` as an unprivileged user on a home it
// cannot write, every setting coming from the environment (the database
// elsewhere): the command only reads, so it must work and write nothing
// into the home. Root ignores file modes, so the binary runs as nobody
// through setpriv.
func TestReadOnlyHome(t *testing.T) {
	t.Parallel()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and setpriv to run the binary as an unprivileged user")
	}
	// A tree nobody can traverse: MkdirTemp makes private directories.
	root, err := os.MkdirTemp("", "windsock-readonly")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin := filepath.Join(root, "windsock")
	copyFile(t, binary, bin, 0o755)
	home := filepath.Join(root, "home")
	dags := filepath.Join(home, "dags")
	dbDir := filepath.Join(root, "db")
	for _, d := range []string{home, dags, dbDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dags, "daily.yaml"), []byte(dailyDAG), 0o644); err != nil {
		t.Fatal(err)
	}
	// nobody may write only the database directory.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dbDir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"WINDSOCK_HOME=" + home, "HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"WINDSOCK__CORE__LOAD_EXAMPLES=False",
		"WINDSOCK__CORE__DAGS_FOLDER=" + dags,
		"WINDSOCK__CORE__FERNET_KEY=" + key,
		"WINDSOCK__WEBSERVER__SECRET_KEY=test-secret",
		"WINDSOCK__LOGGING__BASE_LOG_FOLDER=" + filepath.Join(dbDir, "logs"),
		"WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=sqlite:///" + filepath.Join(dbDir, "windsock.db"),
	}
	asNobody := func(args ...string) (string, error) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
		cmd.Env = env
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The check that the home is read-only for nobody holds.
	if out, err := asNobody("version"); err != nil {
		t.Fatalf("nobody cannot run the binary: %v %s", err, out)
	}
	out, err := asNobody("dags", "list", "-o", "plain")
	if err != nil || !strings.Contains(out, "daily") {
		t.Fatalf("dags list on a read-only home: %v\n%s", err, out)
	}
	// Twice: the second run finds the database current and migrates nothing.
	if out, err := asNobody("dags", "list", "-o", "plain"); err != nil {
		t.Fatalf("second dags list: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 || entries[0].Name() != "dags" {
		t.Errorf("the read-only home gained files: %v", entries)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
