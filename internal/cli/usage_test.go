package cli_test

import (
	"strings"
	"testing"
)

// TestUsageErrorsExit2 runs the built binary with unknown subcommands,
// unknown flags and wrong arguments: each exits 2, prints nothing on
// stdout and, on stderr, a usage line and an argparse-style error line,
// as Airflow's argparse does.
func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	cases := []struct {
		args  []string
		usage string // first stderr line
		err   string // second stderr line
	}{
		{nil, "usage: windsock [-h] COMMAND ...", "windsock: error: the following arguments are required: GROUP_OR_COMMAND"},
		{[]string{"frobnicate"}, "usage: windsock [-h] COMMAND ...", "windsock: error: argument COMMAND: invalid choice: 'frobnicate' (choose from "},
		{[]string{"dags"}, "usage: windsock dags [-h] COMMAND ...", "windsock dags: error: the following arguments are required: COMMAND"},
		{[]string{"dags", "frobnicate", "x"}, "usage: windsock dags [-h] COMMAND ...", "windsock dags: error: argument COMMAND: invalid choice: 'frobnicate' (choose from "},
		{[]string{"connections", "frobnicate"}, "usage: windsock connections [-h] COMMAND ...", "windsock connections: error: argument COMMAND: invalid choice: 'frobnicate' (choose from "},
		{[]string{"users", "token", "frobnicate"}, "usage: windsock users token [-h] COMMAND ...", "windsock users token: error: argument COMMAND: invalid choice: 'frobnicate' (choose from 'create', 'list', 'revoke')"},
		{[]string{"pools", "list", "--bogus"}, "usage: windsock pools list [flags]", "windsock pools list: error: unrecognized arguments: --bogus"},
		{[]string{"variables", "list", "-z"}, "usage: windsock variables list [flags]", "windsock variables list: error: unrecognized arguments: -z"},
		{[]string{"variables", "list", "extra"}, "usage: windsock variables list [flags]", "windsock variables list: error: unrecognized arguments: extra"},
		{[]string{"connections", "get"}, "usage: windsock connections get CONN_ID [flags]", "windsock connections get: error: the following arguments are required: CONN_ID"},
		{[]string{"dags", "state", "etl"}, "usage: windsock dags state DAG_ID LOGICAL_DATE_OR_RUN_ID [flags]", "windsock dags state: error: the following arguments are required: LOGICAL_DATE_OR_RUN_ID"},
		{[]string{"dags", "list", "-o", "xml"}, "usage: windsock dags list [flags]", "windsock dags list: error: argument -o/--output: invalid choice: 'xml' (choose from 'table', 'json', 'yaml', 'plain')"},
	}
	for _, c := range cases {
		r := h.run(t, "", c.args...)
		name := strings.TrimSpace("windsock " + strings.Join(c.args, " "))
		if r.code != 2 {
			t.Errorf("%s: exit %d, want 2\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
			continue
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.stdout != "" || len(lines) != 2 || lines[0] != c.usage || !strings.HasPrefix(lines[1], c.err) {
			t.Errorf("%s:\nstdout: %q\nstderr:\n%s\nwant:\n%s\n%s...", name, r.stdout, r.stderr, c.usage, c.err)
		}
	}
	// The choices name every command of the group.
	r := h.run(t, "", "pools", "frobnicate")
	for _, sub := range []string{"'delete'", "'export'", "'get'", "'import'", "'list'", "'set'"} {
		if !strings.Contains(r.stderr, sub) {
			t.Errorf("pools frobnicate: choices lack %s: %s", sub, r.stderr)
		}
	}
}

// TestHelpAndErrorsKeepTheirExitCodes: help is not an error, and a command
// that fails for another reason than its usage exits 1 with one line.
func TestHelpAndErrorsKeepTheirExitCodes(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	for _, args := range [][]string{{"--help"}, {"dags", "--help"}, {"dags", "list", "-h"}, {"help", "pools"}, {"version"}} {
		if r := h.run(t, "", args...); r.code != 0 || r.stdout == "" {
			t.Errorf("windsock %s: exit %d, stdout %q", strings.Join(args, " "), r.code, r.stdout)
		}
	}
	h.fails(t, "missing", "variables", "get", "missing")
	if r := h.run(t, "", "variables", "get", "missing"); r.code != 1 {
		t.Errorf("variables get missing: exit %d, want 1", r.code)
	}
}
