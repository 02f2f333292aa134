package envrunner_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/windsock"
)

// logEvent is one line a test writes, as Logs should print it.
type logEvent struct {
	at      time.Time
	stream  string // file, relative to the group's folder
	message string
}

// writeStream appends events to a stream of the group's folder, each
// prefixed by its time as Windsock's process logs write it, or by none
// when it has no time of its own (it then takes the previous line's).
func writeStream(t *testing.T, dir string, events []logEvent, timed func(i int) bool) []logEvent {
	t.Helper()
	var b strings.Builder
	var last time.Time
	out := make([]logEvent, 0, len(events))
	for i, ev := range events {
		msg := ev.message
		if timed(i) {
			msg = "time=" + ev.at.UTC().Format(time.RFC3339Nano) + " " + msg
			last = ev.at
		}
		b.WriteString(msg + "\n")
		out = append(out, logEvent{at: last, stream: ev.stream, message: msg})
	}
	path := filepath.Join(dir, events[0].stream)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLogsPaged: a log group larger than one page is read in several
// pages, none over CloudWatch's bounds (10,000 events, 1 MB of
// messages); following the tokens, their concatenation is the whole
// group in time order (streams merged, lines without a time of their own
// kept after the line before them, a line written between two pages read
// in its place). A token changed by the caller, or passed for another
// group, is refused with a precise message.
func TestLogsPaged(t *testing.T) {
	t.Parallel()
	cpHome := t.TempDir()
	dir := filepath.Join(envrunner.EnvironmentHome(cpHome, "paged"), "loggroups", "airflow-paged-Scheduler")
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	gen := func(stream string, n int, step time.Duration, offset time.Duration, size int) []logEvent {
		out := make([]logEvent, n)
		for i := range out {
			msg := fmt.Sprintf("%s-%05d ", strings.TrimSuffix(filepath.Base(stream), ".log"), i)
			out[i] = logEvent{at: base.Add(offset + time.Duration(i)*step), stream: stream, message: msg + strings.Repeat("x", max(size-len(msg), 0))}
		}
		return out
	}
	var whole []logEvent
	// Many short lines (the event bound), a stream of long ones (the byte
	// bound) interleaved with it, and a task log in a subfolder whose
	// every third line has no time; one line is longer than CloudWatch's
	// largest event.
	whole = append(whole, writeStream(t, dir, gen("scheduler-1.log", 14000, time.Millisecond, 0, 40), func(int) bool { return true })...)
	whole = append(whole, writeStream(t, dir, gen("worker-1.log", 2500, 5*time.Millisecond, 500*time.Microsecond, 900), func(int) bool { return true })...)
	task := gen("dag_id=d/run_id=r/task_id=t/attempt=1.log", 3000, 3*time.Millisecond, 250*time.Microsecond, 60)
	task[1500].message += strings.Repeat("y", envrunner.MaxMessage)
	whole = append(whole, writeStream(t, dir, task, func(i int) bool { return i%3 != 1 })...)
	for i := range whole {
		if len(whole[i].message) > envrunner.MaxMessage {
			whole[i].message = whole[i].message[:envrunner.MaxMessage]
		}
	}

	key := []byte("paged test key")
	read := func(token string) (pageEvents []logEvent, next string, err error) {
		var out bytes.Buffer
		next, err = envrunner.Logs(context.Background(), cpHome, "paged", envrunner.LogsOptions{Group: "scheduler", JSON: true, Token: token, TokenKey: key}, &out)
		for _, line := range strings.SplitAfter(out.String(), "\n") {
			if line == "" {
				continue
			}
			var ev struct {
				Stream    string `json:"logStreamName"`
				Timestamp int64  `json:"timestamp"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("page line %q: %v", line, err)
			}
			pageEvents = append(pageEvents, logEvent{at: time.UnixMilli(ev.Timestamp).UTC(), stream: ev.Stream + ".log", message: ev.Message})
		}
		return pageEvents, next, err
	}

	var got []logEvent
	var tokens []string
	token := ""
	for pages := 1; ; pages++ {
		evs, next, err := read(token)
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for _, ev := range evs {
			size += len(ev.message)
		}
		if len(evs) == 0 || len(evs) > envrunner.PageEvents || size > envrunner.PageBytes {
			t.Fatalf("page %d: %d events, %d bytes of messages; want 1 to %d events and at most %d bytes", pages, len(evs), size, envrunner.PageEvents, envrunner.PageBytes)
		}
		got = append(got, evs...)
		if next == "" {
			if pages < 4 {
				t.Fatalf("the group came in %d pages, want at least 4", pages)
			}
			break
		}
		if pages == 1 {
			// Written between two pages, later than every line: read last.
			late := logEvent{at: base.Add(time.Hour), stream: "scheduler-1.log", message: "late"}
			whole = append(whole, writeStream(t, dir, []logEvent{late}, func(int) bool { return true })...)
		}
		tokens = append(tokens, next)
		token = next
	}

	sort.SliceStable(whole, func(i, j int) bool {
		if !whole[i].at.Equal(whole[j].at) {
			return whole[i].at.Before(whole[j].at)
		}
		return whole[i].stream < whole[j].stream
	})
	if len(got) != len(whole) {
		t.Fatalf("the pages hold %d events, the group %d", len(got), len(whole))
	}
	for i := range whole {
		want := whole[i]
		want.at = want.at.Truncate(time.Millisecond)
		if got[i] != want {
			t.Fatalf("event %d: got %s %s %.60q, want %s %s %.60q", i, got[i].at, got[i].stream, got[i].message, want.at, want.stream, want.message)
		}
	}

	// Tokens the caller changed, or passed for another group.
	payload, mac, _ := strings.Cut(tokens[0], ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["s"] = "../../../windsock.cfg"
	forged, _ := json.Marshal(c)
	for _, tt := range []struct{ token, group, want string }{
		{base64.RawURLEncoding.EncodeToString(forged) + "." + mac, "scheduler", "nextToken: not issued by this control plane"},
		{"not-a-token", "scheduler", "nextToken: malformed"},
		{tokens[0], "worker", "nextToken: issued for log group airflow-paged-Scheduler, not airflow-paged-Worker"},
	} {
		var out bytes.Buffer
		_, err := envrunner.Logs(context.Background(), cpHome, "paged", envrunner.LogsOptions{Group: tt.group, Token: tt.token, TokenKey: key}, &out)
		if windsock.ErrorCode(err) != windsock.EINVALID || !strings.HasPrefix(windsock.ErrorMessage(err), tt.want) || out.Len() != 0 {
			t.Errorf("token %.40q for %s: %v (wrote %d bytes), want EINVALID %q", tt.token, tt.group, err, out.Len(), tt.want)
		}
	}
}
