package sqlstore

import (
	"testing"
	"testing/fstest"

	"github.com/windsock/windsock/internal/windsock"
)

func TestRebindDollar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{`UPDATE variable SET "key" = ? WHERE val = 'what?' AND x = ?`, `UPDATE variable SET "key" = $1 WHERE val = 'what?' AND x = $2`},
		{`SELECT 'it''s?', "odd?""name", ?`, `SELECT 'it''s?', "odd?""name", $1`},
	}
	for _, tt := range tests {
		if got := RebindDollar(tt.in); got != tt.want {
			t.Errorf("RebindDollar(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := loadMigrations(fstest.MapFS{
		"002_second.up.sql": {Data: []byte("B")},
		"001_first.up.sql":  {Data: []byte("A")},
		"010_tenth.up.sql":  {Data: []byte("C")},
		"README.md":         {Data: []byte("ignored")},
		"003_x.down.sql":    {Data: []byte("ignored")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range ms {
		got = append(got, m.version)
	}
	if len(ms) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 10 || ms[0].name != "first" || ms[0].sql != "A" {
		t.Fatalf("loadMigrations = %+v, want versions 1, 2, 10 in order", ms)
	}
	if latestVersion(ms) != 10 {
		t.Fatalf("latestVersion = %d, want 10", latestVersion(ms))
	}

	if _, err := loadMigrations(fstest.MapFS{
		"001_a.up.sql":  {Data: []byte("A")},
		"0001_b.up.sql": {Data: []byte("B")},
	}); err == nil {
		t.Fatal("two migrations with version 1 were accepted")
	}
}

func TestOrderBy(t *testing.T) {
	t.Parallel()
	allowed := map[string]sortColumn{
		"id":         {expr: "t.id"},
		"start_date": {expr: "t.start_date", nullable: true},
	}
	tests := []struct {
		key, want string
		invalid   bool
	}{
		{"", " ORDER BY t.x, t.id", false},
		{"id", " ORDER BY t.id ASC, t.id", false},
		{"-id", " ORDER BY t.id DESC, t.id", false},
		{"start_date", " ORDER BY (t.start_date IS NULL), t.start_date ASC, t.id", false},
		{"-start_date", " ORDER BY (t.start_date IS NULL), t.start_date DESC, t.id", false},
		{"-", "", true},
		{"--id", "", true},
		{"id; DROP TABLE t", "", true},
		{"t.id", "", true},
		{"ID", "", true},
	}
	for _, tt := range tests {
		got, err := orderBy(tt.key, allowed, "t.x", "t.id")
		if tt.invalid {
			if windsock.ErrorCode(err) != windsock.EINVALID {
				t.Errorf("orderBy(%q) error = %v, want EINVALID", tt.key, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("orderBy(%q) = %q, %v, want %q", tt.key, got, err, tt.want)
		}
	}
}

func TestChannelName(t *testing.T) {
	t.Parallel()
	if got := ChannelName("public", "windsock_queued"); got != "public:windsock_queued" {
		t.Errorf("short name = %q", got)
	}
	long := "cluster_environment_with_a_rather_long_schema_name"
	got := ChannelName(long, "windsock_try_done")
	if len(got) > 63 || got == long+":windsock_try_done" {
		t.Errorf("long name = %q (%d bytes): want a hash within PostgreSQL's 63", got, len(got))
	}
	if got != ChannelName(long, "windsock_try_done") || got == ChannelName(long, "windsock_queued") {
		t.Error("ChannelName must be stable and tell channels apart")
	}
}
