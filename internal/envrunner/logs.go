package envrunner

import (
	"bufio"
	"bytes"
	"container/heap"
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

// One answer of Logs is bounded as CloudWatch Logs' FilterLogEvents
// bounds one page: at most PageEvents events and PageBytes bytes of
// messages; a longer group is read on with the page's next token.
const (
	PageEvents = 10000
	PageBytes  = 1 << 20
	// MaxMessage is the longest message sent (CloudWatch's largest
	// event); the rest of a longer line is dropped.
	MaxMessage = 256 << 10
)

// maxOpenStreams bounds the files one read holds open (a task group has
// one stream per try): a stream beyond it is reopened at its offset.
const maxOpenStreams = 64

// LogsOptions choose what Logs prints.
type LogsOptions struct {
	// Group is a component ("scheduler", "DAGProcessing", "dag-processing",
	// "webserver", "worker", "task") or the group's MWAA name
	// (airflow-NAME-Scheduler).
	Group string
	// Since keeps the lines written at or after it; zero keeps all.
	Since time.Time
	// Follow prints the whole group, then new lines until ctx ends.
	Follow bool
	// PollInterval is how often Follow looks for new lines. Default 500 ms.
	PollInterval time.Duration
	// JSON writes one JSON event a line instead of "stream text" lines.
	JSON bool
	// Token reads on from where the page that returned it stopped.
	Token string
	// TokenKey signs the tokens; a token signed with another key is
	// refused. Required.
	TokenKey []byte
}

// Logs reads one of its environments' log groups (the control plane's
// route behind `windsock env logs`): one page, and the token that reads
// the next ("" at the end of the group).
func (r *Runner) Logs(ctx context.Context, name string, q envspec.LogQuery, w io.Writer) (string, error) {
	return Logs(ctx, r.cfg.Home, name, LogsOptions{Group: q.Group, Since: q.Since, Follow: q.Follow, JSON: q.JSON,
		Token: q.Token, TokenKey: r.tokenKey}, w)
}

// Logs prints an environment's log group to w, for `windsock env logs`:
// each line prefixed with its stream (the process, or the task log file,
// it comes from), streams merged in time order. Without Follow it prints
// one page (PageEvents, PageBytes) in one Write and returns the token of
// the next, "" when the group is read to its end; with Follow it prints
// every page, then new lines until ctx ends. cpHome is the control
// plane's home.
func Logs(ctx context.Context, cpHome, name string, opts LogsOptions, w io.Writer) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	group, err := groupOf(name, opts.Group)
	if err != nil {
		return "", err
	}
	if len(opts.TokenKey) == 0 {
		return "", fmt.Errorf("read logs of %s: no token key", name)
	}
	dir := home(EnvironmentHome(cpHome, name)).groupDir(name, group)
	if _, err := os.Stat(EnvironmentHome(cpHome, name)); err != nil {
		return "", windsock.Errorf(windsock.ENOTFOUND, "environment %s has no home under %s", name, cpHome)
	}
	g := &groupReader{dir: dir, since: opts.Since, pos: map[string]streamPos{}}
	if opts.Token != "" {
		c, err := openToken(opts.TokenKey, opts.Token, name, group)
		if err != nil {
			return "", err
		}
		g.resume(c)
	}
	if !opts.Follow {
		lines, more := g.page(PageEvents, PageBytes)
		if err := printLines(w, lines, opts.JSON); err != nil {
			return "", err
		}
		if !more {
			return "", nil
		}
		return g.token(opts.TokenKey, name, group, lines[len(lines)-1]), nil
	}
	// The backlog page by page, then what is written after.
	for more := true; more; {
		var lines []logLine
		lines, more = g.page(PageEvents, PageBytes)
		if err := printLines(w, lines, opts.JSON); err != nil {
			return "", err
		}
	}
	if f, ok := w.(interface{ Flush() }); ok {
		f.Flush() // a follower learns the stream is open before new lines
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
			return "", nil
		case <-t.C:
		}
		for more := true; more && ctx.Err() == nil; {
			var lines []logLine
			lines, more = g.page(PageEvents, PageBytes)
			if err := printLines(w, lines, opts.JSON); err != nil {
				return "", err
			}
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

// streams lists a group's log files, relative to dir, in name order (task
// logs sit in subfolders).
func streams(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
			if rel, err := filepath.Rel(dir, p); err == nil {
				out = append(out, rel)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

type logLine struct {
	at     time.Time
	stream string // the file, relative to the group's folder
	start  int64  // where the line starts in it
	end    int64  // where the next line starts
	text   string
}

// streamPos is where a stream's unread lines start, and the time of the
// last line before (lines without a time of their own take it).
type streamPos struct {
	offset int64
	last   time.Time
}

// groupReader reads a log group page by page, streams merged in time
// order (ties in stream name order, then in file order).
type groupReader struct {
	dir   string
	since time.Time
	pos   map[string]streamPos
	// mtime is each stream's modification time when the last page began.
	mtime map[string]time.Time
	open  int // files open
}

// page reads the next lines, at most maxEvents of them and maxBytes of
// messages (and at least one); more reports that lines are left.
func (g *groupReader) page(maxEvents, maxBytes int) (lines []logLine, more bool) {
	g.mtime = map[string]time.Time{}
	var q streamHeap
	defer q.close()
	for _, name := range streams(g.dir) {
		st, err := os.Stat(filepath.Join(g.dir, name))
		if err != nil {
			continue
		}
		g.mtime[name] = st.ModTime()
		p := g.pos[name]
		if st.Size() < p.offset {
			p = streamPos{} // truncated or replaced
		}
		if st.Size() == p.offset {
			continue
		}
		if !g.since.IsZero() && st.ModTime().Before(g.since) {
			g.pos[name] = streamPos{offset: st.Size()}
			continue
		}
		h := &stream{name: name, path: filepath.Join(g.dir, name), pos: p, open: &g.open}
		if h.next(g.since) {
			q.push(h)
		}
	}
	size := 0
	for q.Len() > 0 {
		h := q.s[0]
		if len(lines) == maxEvents || len(lines) > 0 && size+len(h.line.text) > maxBytes {
			return lines, true
		}
		lines = append(lines, h.line)
		size += len(h.line.text)
		g.pos[h.name] = streamPos{offset: h.line.end, last: h.line.at}
		if h.next(g.since) {
			heap.Fix(&q, 0)
		} else {
			heap.Pop(&q)
			h.close()
		}
	}
	return lines, false
}

// stream is one log file being read, with its next line.
type stream struct {
	name string
	path string
	f    *os.File
	rd   *bufio.Reader
	open *int      // the files open by this read
	pos  streamPos // where the next read starts
	line logLine   // the stream's next line
}

// next reads the stream's next complete line at or after since into
// s.line; false when there is none (yet: an incomplete last line waits
// for the next read).
func (s *stream) next(since time.Time) bool {
	if s.rd == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return false
		}
		if _, err := f.Seek(s.pos.offset, io.SeekStart); err != nil {
			f.Close()
			return false
		}
		s.f, s.rd = f, bufio.NewReader(f)
		*s.open++
	}
	for {
		text, n, ok := readLine(s.rd)
		if !ok {
			return false
		}
		start := s.pos.offset
		s.pos.offset += n
		if at, ok := lineTime(text); ok {
			s.pos.last = at
		}
		if !since.IsZero() && s.pos.last.Before(since) {
			continue
		}
		s.line = logLine{at: s.pos.last, stream: s.name, start: start, end: s.pos.offset, text: text}
		if *s.open > maxOpenStreams {
			s.close() // reopened at its offset when its line is sent
		}
		return true
	}
}

func (s *stream) close() {
	if s.f != nil {
		s.f.Close()
		s.f, s.rd = nil, nil
		*s.open--
	}
}

// readLine reads one complete line (its newline dropped, cut to
// MaxMessage bytes) and the bytes it took; false at the end of the file
// or before an incomplete last line.
func readLine(rd *bufio.Reader) (string, int64, bool) {
	var line []byte
	var n int64
	for {
		chunk, err := rd.ReadSlice('\n')
		n += int64(len(chunk))
		if room := MaxMessage - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		switch err {
		case nil:
			return strings.TrimSuffix(string(line), "\n"), n, true
		case bufio.ErrBufferFull:
			continue // a long line: the rest is read and dropped
		default:
			return "", n, false
		}
	}
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

// before orders lines: by time, then stream name, then offset.
func (l logLine) before(o logLine) bool {
	if !l.at.Equal(o.at) {
		return l.at.Before(o.at)
	}
	if l.stream != o.stream {
		return l.stream < o.stream
	}
	return l.start < o.start
}

// streamHeap holds the streams with a line to send, the earliest first.
type streamHeap struct{ s []*stream }

func (q streamHeap) Len() int           { return len(q.s) }
func (q streamHeap) Less(i, j int) bool { return q.s[i].line.before(q.s[j].line) }
func (q streamHeap) Swap(i, j int)      { q.s[i], q.s[j] = q.s[j], q.s[i] }
func (q *streamHeap) Push(x any)        { q.s = append(q.s, x.(*stream)) }
func (q *streamHeap) Pop() any {
	last := q.s[len(q.s)-1]
	q.s = q.s[:len(q.s)-1]
	return last
}
func (q *streamHeap) push(s *stream) { heap.Push(q, s) }
func (q *streamHeap) close() {
	for _, s := range q.s {
		s.close()
	}
}

// printLines writes a batch in one Write, so that a follower over HTTP
// gets whole batches.
func printLines(w io.Writer, lines []logLine, asJSON bool) error {
	if len(lines) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		stream := strings.TrimSuffix(l.stream, ".log")
		if !asJSON {
			fmt.Fprintf(&buf, "%s %s\n", stream, l.text)
			continue
		}
		// CloudWatch's FilteredLogEvent names, so that scripts written
		// for `aws logs filter-log-events` read it.
		ev := struct {
			Stream    string `json:"logStreamName"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}{stream, l.at.UnixMilli(), l.text}
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
