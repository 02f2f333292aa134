package metaport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A CloudWatch Logs export writes each log stream as numbered gzip chunks
// (000000.gz, 000001.gz, ...), one event per line: the event's time in
// RFC 3339 with milliseconds and a 'Z', a space, the message. A message
// holding newlines continues on lines without a time. The chunks are not
// sorted by time, so the events are put back in order before they become
// the log file Airflow wrote (MWAA sends each log line as one event, so
// the messages alone are the file's lines).
var (
	exportChunk = regexp.MustCompile(`^[0-9]{6}\.gz$`)
	eventStamp  = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z) `)
)

// maxStreamBytes bounds one log stream's text: events are sorted in
// memory, and a chunk that inflates without end must not take it all.
const maxStreamBytes = 256 << 20

type streamEvent struct {
	at  time.Time
	msg string
}

// copyStream writes the log stream exported in folder dir as dest; false
// when dir holds no export chunk (it is some other folder).
func copyStream(src fs.FS, dir, dest string) (bool, error) {
	entries, err := fs.ReadDir(src, dir)
	if err != nil {
		return false, err
	}
	var events []streamEvent
	var total int64
	found := false
	for _, e := range entries {
		if e.IsDir() || !exportChunk.MatchString(e.Name()) {
			continue
		}
		found = true
		if events, err = readChunk(src, path.Join(dir, e.Name()), events, &total); err != nil {
			return false, err
		}
	}
	if !found {
		return false, nil
	}
	slices.SortStableFunc(events, func(a, b streamEvent) int { return a.at.Compare(b.at) })
	var buf bytes.Buffer
	for _, ev := range events {
		buf.WriteString(ev.msg)
		buf.WriteByte('\n')
	}
	return true, writeNew(dest, &buf)
}

func readChunk(src fs.FS, p string, events []streamEvent, total *int64) ([]streamEvent, error) {
	f, err := src.Open(p)
	if err != nil {
		return events, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return events, err
	}
	sc := bufio.NewScanner(io.LimitReader(zr, maxStreamBytes-*total+1))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		*total += int64(len(line)) + 1
		if *total > maxStreamBytes {
			return events, errStreamTooLarge
		}
		if m := eventStamp.FindStringSubmatch(line); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				events = append(events, streamEvent{at: at, msg: strings.TrimSuffix(line[len(m[0]):], "\r")})
				continue
			}
		}
		if len(events) == 0 {
			// Text before any event: kept, first.
			events = append(events, streamEvent{msg: line})
			continue
		}
		events[len(events)-1].msg += "\n" + line
	}
	return events, sc.Err()
}

var errStreamTooLarge = errors.New("log stream is larger than 256 MiB")
