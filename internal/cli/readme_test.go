package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/storetest"
)

// readmeBlock returns the code block of README.md between <!-- name -->
// and <!-- /name -->, without its ```lang fence.
func readmeBlock(t *testing.T, name, lang string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- "+name+" -->")
	block, _, ok2 := strings.Cut(rest, "<!-- /"+name+" -->")
	if !ok || !ok2 {
		t.Fatalf("README.md has no %s block", name)
	}
	block = strings.TrimSpace(block)
	if !strings.HasPrefix(block, "```"+lang+"\n") || !strings.HasSuffix(block, "```") {
		t.Fatalf("README.md's %s block is not one ```%s code block", name, lang)
	}
	return strings.TrimSuffix(strings.TrimPrefix(block, "```"+lang+"\n"), "```")
}

// TestReadmeDAGExample saves the README's DAG example in a DAG folder, as
// the README says, and runs it with the README's `dags test` command.
func TestReadmeDAGExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const test = "windsock dags test daily_etl 2024-01-01"
	if !strings.Contains(string(readme), test) {
		t.Fatalf("README.md no longer says %q", test)
	}
	h := newHome(t)
	h.writeDAG(t, "daily_etl.yaml", readmeBlock(t, "dag-example", "yaml"))
	if r := h.run(t, "", "dags", "list-import-errors"); r.code != 0 || r.stdout != "No data found\n" {
		t.Fatalf("the README's DAG does not load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := h.ok(t, strings.Fields(test)[1:]...)
	for _, want := range []string{"extracting the orders of 2024-01-01", "transforming the run manual__2024-01-01T00:00:00+00:00", ": success"} {
		if !strings.Contains(out, want) {
			t.Errorf("dags test output lacks %q:\n%s", want, out)
		}
	}
}

// TestReadmePostgresSetup runs the README's PostgreSQL setup twice, as
// root without sudo, against the machine's PostgreSQL 15 cluster "main":
// the second run must find the server, role and database in place. The
// role and database get a name of their own, dropped at the end, so that
// the test leaves the machine as it found it. (The sudo branch, for a
// normal user, is not run: CI runs as root.)
func TestReadmePostgresSetup(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t) // only where the PostgreSQL tests run
	if os.Geteuid() != 0 {
		t.Skip("the setup is tested as root")
	}
	if err := exec.Command("pg_ctlcluster", "15", "main", "status").Run(); err != nil {
		t.Skipf("no running PostgreSQL 15 cluster \"main\" to run the README's setup against: %v", err)
	}
	if out, _ := exec.Command("pg_conftool", "-s", "15", "main", "show", "port").Output(); strings.TrimSpace(string(out)) != "5432" {
		t.Skipf("PostgreSQL 15/main listens on port %q, not the README's 5432", strings.TrimSpace(string(out)))
	}
	var b [6]byte
	rand.Read(b[:])
	name := "readme_" + hex.EncodeToString(b[:])
	block := strings.ReplaceAll(readmeBlock(t, "postgres-setup", "sh"), "windsock", name)
	if strings.Contains(block, "sudo") && !strings.Contains(block, `as_root=sudo`) {
		t.Fatal("the setup calls sudo outside the branch for normal users")
	}
	t.Cleanup(func() {
		for _, sql := range []string{"DROP DATABASE IF EXISTS " + name, "DROP ROLE IF EXISTS " + name} {
			if out, err := exec.Command("runuser", "-u", "postgres", "--", "psql", "-q", "-c", sql).CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", sql, err, out)
			}
		}
	})
	// PATH without sudo: root must not need it.
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir()}
	for run := 1; run <= 2; run++ {
		cmd := exec.Command("bash", "-e", "-c", block+"\necho \"$WINDSOCK__DATABASE__SQL_ALCHEMY_CONN\"\n")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d of the README's PostgreSQL setup: %v\n%s", run, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		url := lines[len(lines)-1]
		if want := "postgresql://" + name + ":" + name + "@127.0.0.1:5432/" + name; url != want {
			t.Fatalf("run %d exported %q, want %q; output:\n%s", run, url, want, out)
		}
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("run %d: the role cannot reach its database: %v", run, err)
		}
		var owner string
		err = st.DB().QueryRowContext(context.Background(),
			"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()").Scan(&owner)
		st.Close()
		if err != nil || owner != name {
			t.Fatalf("run %d: database owner %q (%v), want %s", run, owner, err, name)
		}
	}
}

// TestReadmePythonDAGExample saves the README's Python DAG example in a DAG
// folder and runs it with `dags test`: TaskFlow tasks in Python, XCom
// between them and a templated bash task run in Go.
func TestReadmePythonDAGExample(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3")
	h.writeDAG(t, "orders.py", readmeBlock(t, "python-dag-example", "python"))
	if r := h.run(t, "", "dags", "list-import-errors"); r.code != 0 || r.stdout != "No data found\n" {
		t.Fatalf("the README's Python DAG does not load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := h.ok(t, "dags", "test", "orders", "2024-01-01")
	for _, want := range []string{"total for 2024-01-01: 16", ": success"} {
		if !strings.Contains(out, want) {
			t.Errorf("dags test output lacks %q:\n%s", want, out)
		}
	}
}
