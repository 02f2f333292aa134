package metaport_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store"
)

// facts lists what an environment holds, in a form two environments can
// be compared by: ids Windsock assigns itself and secrets' ciphertexts
// left out (secrets compared decrypted).
func facts(t *testing.T, ctx context.Context, st store.Store, keys *fernet.Keys, tables ...string) []string {
	t.Helper()
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	ts := func(p any) string {
		switch v := p.(type) {
		case *time.Time:
			if v != nil {
				return v.UTC().String()
			}
		case *float64:
			if v != nil {
				return fmt.Sprint(*v)
			}
		case *int:
			if v != nil {
				return fmt.Sprint(*v)
			}
		default:
			return fmt.Sprint(p)
		}
		return "<nil>"
	}
	for _, table := range tables {
		switch table {
		case "dag_run":
			runs, err := st.DagRunList(ctx, &store.DagRunListParams{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				add("run %s/%s %s %s %s ext=%v conf=%v start=%v end=%v queued=%v di=%v-%v", r.DagID, r.RunID, r.LogicalDate.UTC(), r.State, r.RunType,
					r.ExternalTrigger, r.Conf, ts(r.StartDate), ts(r.EndDate), ts(r.QueuedAt), ts(r.DataIntervalStart), ts(r.DataIntervalEnd))
			}
		case "task_instance":
			tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range tis {
				add("ti %s/%s/%s/%d %s try=%d/%d %v-%v dur=%v host=%s op=%s pool=%s/%d q=%s prio=%d pid=%v", ti.DagID, ti.RunID, ti.TaskID, ti.MapIndex,
					ti.State, ti.TryNumber, ti.MaxTries, ts(ti.StartDate), ts(ti.EndDate), ts(ti.Duration), ti.Hostname, ti.Operator,
					ti.Pool, ti.PoolSlots, ti.Queue, ti.PriorityWeight, ts(ti.PID))
				fails, _ := st.TaskFailList(ctx, ti.TaskInstanceKey)
				for _, f := range fails {
					add("fail %s/%s/%s %v-%v %v", f.DagID, f.RunID, f.TaskID, ts(f.StartDate), ts(f.EndDate), ts(f.Duration))
				}
			}
		case "xcom":
			tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range tis {
				xs, _ := st.XComList(ctx, ti.DagID, ti.RunID, ti.TaskID)
				for _, x := range xs {
					add("xcom %s/%s/%s %s=%s at %v", x.DagID, x.RunID, x.TaskID, x.Key, strings.ReplaceAll(string(x.Value), " ", ""), x.Timestamp.UTC())
				}
			}
		case "variable":
			vs, _ := st.VariableList(ctx)
			for _, v := range vs {
				val := v.Val
				if v.IsEncrypted {
					b, _ := keys.Decrypt(v.Val)
					val = string(b)
				}
				add("var %s=%s", v.Key, val)
			}
		case "connection":
			cs, _ := st.ConnectionList(ctx)
			for _, c := range cs {
				pw, _ := keys.Decrypt(c.Password)
				ex, _ := keys.Decrypt(c.Extra)
				add("conn %s %s %s:%d/%s %s pw=%s extra=%s", c.ConnID, c.ConnType, c.Host, c.Port, c.Schema, c.Login, pw, ex)
			}
		case "slot_pool":
			ps, _ := st.PoolList(ctx)
			for _, p := range ps {
				add("pool %s %d %q", p.Pool, p.Slots, p.Description)
			}
		case "log":
			ls, _ := st.EventLogList(ctx, &store.EventLogListParams{})
			for _, l := range ls {
				add("log %v %s %s %s %s", l.Dttm.UTC(), l.DagID, l.TaskID, l.Event, l.Owner)
			}
		case "job":
			js, _ := st.JobList(ctx, &store.JobListParams{})
			for _, j := range js {
				add("job %s %s %s %v %v", j.JobType, j.State, j.Hostname, j.StartDate.UTC(), j.LatestHeartbeat.UTC())
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	for format, tables := range map[string][]string{
		"mwaa-dr":         {"dag_run", "task_instance", "xcom", "variable", "connection", "slot_pool", "log", "job"},
		"export_data-2.x": {"dag_run", "task_instance", "variable", "slot_pool", "log", "job"},
	} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			path, _ := airflowDB(t, "2.10")
			ctx := t.Context()
			tk := keys(t, targetKey)
			a := newStoreWithDataset(t)
			if _, err := metaport.Import(ctx, a, openSource(t, path), metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: tk}); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "export")
			rep, err := metaport.Export(ctx, a, dir, metaport.Layouts[format], tk)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Files["dag_run.csv"] != 3 || rep.Files["task_instance.csv"] != 5 {
				t.Errorf("export report %+v", rep)
			}
			src, err := metaport.OpenCSVSource(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := metaport.Layouts[format].Name; src.Layout().Name != want {
				t.Errorf("detected %s, want %s", src.Layout().Name, want)
			}
			b := newStore(t)
			other := keys(t, "bm90IHRoZSBrZXkgYnV0IDMyIGJ5dGVzIGxvbmchISE=")
			if _, err := metaport.Import(ctx, b, src, metaport.Options{TargetKeys: other}); err != nil {
				t.Fatal(err)
			}
			fa, fb := facts(t, ctx, a, tk, tables...), facts(t, ctx, b, other, tables...)
			if strings.Join(fa, "\n") != strings.Join(fb, "\n") {
				t.Errorf("facts differ after the round trip\nbefore:\n%s\n\nafter:\n%s", strings.Join(fa, "\n"), strings.Join(fb, "\n"))
			}
			if format == "mwaa-dr" {
				// Its own trigger file and Windsock's extra files carry the
				// rest.
				la, lb := laterFacts(t, ctx, a, tk), laterFacts(t, ctx, b, other)
				if len(la) != 10 || strings.Join(la, "\n") != strings.Join(lb, "\n") {
					t.Errorf("later tables differ after the round trip\nbefore:\n%s\n\nafter:\n%s", strings.Join(la, "\n"), strings.Join(lb, "\n"))
				}
			}
			if d, err := b.DAGGet(ctx, "etl"); err != nil || d.IsPaused {
				t.Errorf("etl after the round trip = %+v, %v (want unpaused: it was active)", d, err)
			}
			// And again from the same folder: nothing changes.
			rep2, err := metaport.Import(ctx, b, src, metaport.Options{TargetKeys: other})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range rep2.Tables {
				if tr.Imported != 0 {
					t.Errorf("second import of the folder wrote %d rows of %s", tr.Imported, tr.Table)
				}
			}
		})
	}
}

// TestEveryLayout writes an environment in each layout AWS's tools have
// used and imports it back: the layout is detected from the files, and
// the runs, task instances (their run found by logical date where the
// layout has no run_id) and variables come back.
func TestEveryLayout(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.10")
	ctx := t.Context()
	tk := keys(t, targetKey)
	a := newStore(t)
	if _, err := metaport.Import(ctx, a, openSource(t, path), metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: tk}); err != nil {
		t.Fatal(err)
	}
	for _, name := range metaport.LayoutNames() {
		l := metaport.Layouts[name]
		if l.Name != name {
			continue // an alias
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if _, err := metaport.Export(ctx, a, dir, l, tk); err != nil {
				t.Fatal(err)
			}
			src, err := metaport.OpenCSVSource(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			// 2.5 and 2.6 (and 2.7/2.8 without task rows of their own
			// shape) write the same files: either name is right.
			if got := src.Layout(); got.Name != name && !sameFiles(got, l) {
				t.Errorf("detected %s", got.Name)
			}
			b := newStore(t)
			rep, err := metaport.Import(ctx, b, src, metaport.Options{TargetKeys: tk})
			if err != nil {
				t.Fatal(err)
			}
			for table, want := range map[string]int64{"dag_run": 3, "task_instance": 5, "variable": 2, "task_fail": 1, "job": 2, "log": 2} {
				if got := tableReport(t, rep, table).Imported; got != want {
					t.Errorf("%s: imported %d, want %d (%+v)", table, got, want, tableReport(t, rep, table))
				}
			}
			// The later tables, where the layout (or Windsock's extra
			// files) carries them.
			for table, want := range map[string]int64{"trigger": 1, "dataset": 1, "dataset_event": 2, "dag_run_note": 1,
				"task_instance_note": 1, "task_instance_history": 1, "task_map": 1} {
				if !slices.ContainsFunc(slices.Concat(l.Files, l.Extras), func(f metaport.LayoutFile) bool { return f.Table == table }) {
					want = 0
				}
				if got := tableReport(t, rep, table).Imported; got != want {
					t.Errorf("%s: imported %d, want %d (%+v)", table, got, want, tableReport(t, rep, table))
				}
			}
		})
	}
}

func sameFiles(a, b *metaport.Layout) bool {
	if len(a.Files) != len(b.Files) {
		return false
	}
	for i := range a.Files {
		if strings.Join(a.Files[i].Columns, ",") != strings.Join(b.Files[i].Columns, ",") {
			return false
		}
	}
	return true
}
