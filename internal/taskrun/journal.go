package taskrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// Journal keeps the outcomes of a worker's finished tries that the
// database did not take on disk, one file per try, until it has them. An
// entry is written and synced before the try counts as done and removed
// only after its outcome commits, so neither a database outage, however
// long, nor a crash of the worker during one loses an outcome: the worker
// records what it finds when it starts again (Entries), and RecordFinish's
// guard makes that harmless when the database has moved on.
type Journal struct {
	dir string
}

// journalFormat is the version of an entry's layout; entries of another
// version are left for the Windsock that wrote them.
const journalFormat = 1

// journalEntry is one file of the journal.
type journalEntry struct {
	Format int
	Finish *Finish
}

// OpenJournal opens (creating it, private to this user) the journal in dir.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open outcome journal: %w", err)
	}
	return &Journal{dir: dir}, nil
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// name is the file of f's entry: a digest of the try and its end, so that
// no part of the name comes from DAG, task or run ids.
func (j *Journal) name(f *Finish) string {
	h := sha256.New()
	k := f.TI.TaskInstanceKey
	for _, s := range []string{k.DagID, k.TaskID, k.RunID, strconv.Itoa(k.MapIndex), strconv.Itoa(f.TI.TryNumber), f.Now.UTC().Format("2006-01-02T15:04:05.999999999")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return filepath.Join(j.dir, hex.EncodeToString(h.Sum(nil)[:16])+".json")
}

// Write stores f durably: the entry is in place, and synced with its
// directory, when Write returns.
func (j *Journal) Write(f *Finish) error {
	b, err := json.Marshal(journalEntry{Format: journalFormat, Finish: f})
	if err != nil {
		return fmt.Errorf("journal an outcome: %w", err)
	}
	tmp, err := os.CreateTemp(j.dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("journal an outcome: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.name(f))
	}
	if err == nil {
		err = syncDir(j.dir)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("journal an outcome: %w", err)
	}
	return nil
}

// Remove deletes f's entry once its outcome is in the database (or can
// never be).
func (j *Journal) Remove(f *Finish) error {
	if err := os.Remove(j.name(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove a journaled outcome: %w", err)
	}
	return nil
}

// Entries returns the outcomes in the journal, oldest end first. Half
// written files (a crash during Write) are removed: their try had not
// counted as done. A file that is not an entry of this version is renamed
// aside (*.unreadable) and reported in the error, with the entries read.
func (j *Journal) Entries() ([]*Finish, error) {
	des, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("read outcome journal: %w", err)
	}
	var out []*Finish
	var errs []error
	for _, de := range des {
		path := filepath.Join(j.dir, de.Name())
		if strings.HasPrefix(de.Name(), ".entry-") {
			os.Remove(path)
			continue
		}
		if !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(path)
		var e journalEntry
		if err == nil {
			if err = json.Unmarshal(b, &e); err == nil && (e.Format != journalFormat || e.Finish == nil) {
				err = fmt.Errorf("format %d, want %d", e.Format, journalFormat)
			}
		}
		if err != nil {
			os.Rename(path, path+".unreadable")
			errs = append(errs, fmt.Errorf("read outcome journal entry %s (set aside): %w", path, err))
			continue
		}
		out = append(out, e.Finish)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Now.Before(out[b].Now) })
	return out, errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// firstRecordTimeout bounds a worker's first attempt to record a try's
// outcome: a database that drops packets instead of refusing them sends
// the outcome to the journal after this long rather than when TCP gives
// up.
const firstRecordTimeout = 5 * time.Second

// recordJournaled records a finished try for a worker: one attempt, and
// when the database does not answer, the outcome goes to the journal (out.
// Pending) before the try counts as done, to be recorded by RecordLate.
// The journal is written only then: a synced write per try costs more
// than a commit on a busy disk (see BenchmarkJournalWriteRemove), and the
// database already keeps the outcomes it takes. An outcome that cannot be
// journaled either is retried as without a journal.
func (r *Runner) recordJournaled(ctx context.Context, f *Finish, out *Outcome, record func(q store.Queries) error) error {
	actx, cancel := context.WithTimeout(ctx, firstRecordTimeout)
	err := r.Store.InTx(actx, record)
	cancel()
	if err == nil || windsock.ErrorCode(err) != windsock.EINTERNAL {
		return err
	}
	if handBack(f) {
		// Never journaled: a hand-back keeps the try number, so the guard
		// of a late write could not tell this run of the try from the
		// next one, which may already be running elsewhere. Unrecorded,
		// the try is left to the schedulers' zombie handling.
		return err
	}
	if jerr := r.Journal.Write(f); jerr != nil {
		r.logger().Error("could not journal a try's outcome; retrying to record it", "ti", f.TI.TaskInstanceKey, "try", f.TI.TryNumber, "error", jerr)
		return r.recordRetrying(ctx, record)
	}
	out.Recorded, out.TI, out.Pending = false, nil, f
	return nil
}

// RecordLate makes one attempt to record an outcome the journal holds (a
// try that ended while the database was away, or one a previous run of
// this worker left). An error of the database's (windsock.EINTERNAL) leaves
// the entry for another attempt; any other error, and success, remove it.
// try, when known (nil for an entry of a previous run), gets the task's
// callback for the recorded outcome, with a note in its log.
func (r *Runner) RecordLate(ctx context.Context, try *Try, f *Finish) (*Outcome, error) {
	out := f.Outcome()
	if handBack(f) {
		// Left by an older version: dropped, for the reason recordJournaled
		// never writes one.
		if rerr := r.Journal.Remove(f); rerr != nil {
			return out, fmt.Errorf("drop a journaled hand-back: %w", rerr)
		}
		return out, nil
	}
	err := r.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		out.Recorded, err = RecordFinish(ctx, q, f)
		return err
	})
	if err != nil && windsock.ErrorCode(err) == windsock.EINTERNAL {
		return out, err
	}
	if rerr := r.Journal.Remove(f); rerr != nil {
		r.logger().Warn("removing a recorded outcome from the journal failed; it is recorded again (harmlessly) at the next start", "error", rerr)
	}
	if err != nil {
		return out, fmt.Errorf("record outcome of %s.%s: %w", f.TI.DagID, f.TI.TaskID, err)
	}
	if out.Recorded {
		out.TI = &f.TI
	}
	if try != nil {
		note := "The metadata database was unreachable when this try ended; its outcome was recorded once it was back."
		if !out.Recorded {
			note = fmt.Sprintf("The metadata database was unreachable when this try ended; by the time it was back the task instance had moved on (presumed dead, cleared or marked), so this try's outcome (%s) was not recorded.", out.State)
		}
		r.appendToLog(ctx, try, out, func(logf *tasklog.File) { logf.Infof("%s", note) }, out.Recorded)
	}
	return out, nil
}

// handBack reports whether f hands its try back (scheduled again as the
// same try) rather than ending it.
func handBack(f *Finish) bool { return f.TI.State == windsock.TaskStateScheduled }
