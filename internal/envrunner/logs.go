package envrunner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/windsock"
)

// LogsOptions choose what Logs prints.
type LogsOptions struct {
	// Group is a component ("scheduler", "DAGProcessing", "dag-processing",
	// "webserver", "worker", "task") or the group's MWAA name
	// (airflow-NAME-Scheduler).
	Group string
	// Since keeps the lines written at or after it; zero keeps all.
	Since time.Time
	// Follow keeps printing new lines until ctx ends.
	Follow bool
	// PollInterval is how often Follow looks for new lines. Default 500 ms.
	PollInterval time.Duration
	// JSON writes one JSON event a line instead of "stream text" lines.
	JSON bool
}

// Logs reads one of its environments' log groups (the control plane's
// route behind `windsock env logs`).
func (r *Runner) Logs(ctx context.Context, name string, q envspec.LogQuery, w io.Writer) error {
	return Logs(ctx, r.cfg.Home, name, LogsOptions{Group: q.Group, Since: q.Since, Follow: q.Follow, JSON: q.JSON}, w)
}

// Logs prints an environment's log group to w, for `windsock env logs`:
// each line prefixed with its stream (the process, or the task log file,
// it comes from), streams merged in time order. cpHome is the control
// plane's home.
func Logs(ctx context.Context, cpHome, name string, opts LogsOptions, w io.Writer) error {
	if err := checkName(name); err != nil {
		return err
	}
	group, err := groupOf(name, opts.Group)
	if err != nil {
		return err
	}
	dir := home(EnvironmentHome(cpHome, name)).groupDir(name, group)
	if _, err := os.Stat(EnvironmentHome(cpHome, name)); err != nil {
		return windsock.Errorf(windsock.ENOTFOUND, "environment %s has no home under %s", name, cpHome)
	}
	offsets := map[string]int64{}
	var entries []logLine
	for _, f := range streams(dir) {
		lines, end := readLines(f, dir, 0, opts.Since)
		entries = append(entries, lines...)
		offsets[f] = end
	}
	if err := printLines(w, entries, opts.JSON); err != nil || !opts.Follow {
		return err
	}
	poll := opts.PollInterval
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		entries = entries[:0]
		for _, f := range streams(dir) {
			lines, end := readLines(f, dir, offsets[f], time.Time{})
			entries = append(entries, lines...)
			offsets[f] = end
		}
		if err := printLines(w, entries, opts.JSON); err != nil {
			return err
		}
	}
}

// groupOf resolves a user's group name.
func groupOf(env, g string) (string, error) {
	if c, ok := envspec.ComponentOf(env, g); ok {
		return c, nil
	}
	return "", windsock.Errorf(windsock.EINVALID, "log group %q: want one of scheduler, dag-processing, webserver, worker, task", g)
}

// streams lists a group's log files (task logs sit in subfolders).
func streams(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

type logLine struct {
	at     time.Time
	stream string
	text   string
}

// readLines reads the complete lines of path from offset, keeping those
// at or after since; it returns where it stopped.
func readLines(path, dir string, offset int64, since time.Time) ([]logLine, int64) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() < offset {
		offset = 0 // truncated or replaced
	} else if !since.IsZero() && st.ModTime().Before(since) {
		return nil, st.Size()
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset
	}
	stream, _ := filepath.Rel(dir, path)
	stream = strings.TrimSuffix(stream, ".log")
	var out []logLine
	var last time.Time
	rd := bufio.NewReader(f)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break // an incomplete last line waits for the next read
		}
		offset += int64(len(line))
		if at, ok := lineTime(line); ok {
			last = at
		}
		if !since.IsZero() && last.Before(since) {
			continue
		}
		out = append(out, logLine{at: last, stream: stream, text: strings.TrimRight(line, "\n")})
	}
	return out, offset
}

// lineTime reads the time a line starts with: Windsock's process logs
// (time=RFC3339) and task logs ([2006-01-02T15:04:05.000-0700]).
func lineTime(line string) (time.Time, bool) {
	if rest, ok := strings.CutPrefix(line, "time="); ok {
		v, _, _ := strings.Cut(rest, " ")
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	if rest, ok := strings.CutPrefix(line, "["); ok {
		v, _, _ := strings.Cut(rest, "]")
		t, err := time.Parse("2006-01-02T15:04:05.000-0700", v)
		return t, err == nil
	}
	return time.Time{}, false
}

// printLines writes a batch in time order in one Write, so that a
// follower over HTTP gets whole batches.
func printLines(w io.Writer, lines []logLine, asJSON bool) error {
	if len(lines) == 0 {
		return nil
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		if !asJSON {
			fmt.Fprintf(&buf, "%s %s\n", l.stream, l.text)
			continue
		}
		// CloudWatch's FilteredLogEvent names, so that scripts written
		// for `aws logs filter-log-events` read it.
		ev := struct {
			Stream    string `json:"logStreamName"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}{l.stream, l.at.UnixMilli(), l.text}
		if l.at.IsZero() {
			ev.Timestamp = 0
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}
