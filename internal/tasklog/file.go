package tasklog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Line prefixes. Airflow names the Python module that logged a line
// ("{subprocess.py:93}"); Windsock names the two sources a line can have:
// its own messages and the task's output.
const (
	sourceWindsock = "{windsock}"
	sourceOutput   = "{output}"
)

// timeLayout is Airflow's log timestamp: "2024-01-01T00:00:00.000+0000".
const timeLayout = "2006-01-02T15:04:05.000-0700"

// maxPartial bounds how much of a line without newline File holds back;
// past it the line is written in pieces.
const maxPartial = 64 << 10

// maxRead is the most Read returns at once.
const maxRead = 1 << 20

// File is the log of one task try. Every line written to it gets a
// timestamp and a source, and has its secrets masked:
//
//	[2024-01-01T00:00:00.000+0000] {windsock} INFO - Starting attempt 1 of 1
//	[2024-01-01T00:00:00.002+0000] {output} INFO - hello
//
// Write takes the task's output: each complete line is written (one write
// call, no buffering) as soon as its newline arrives, so the log can be
// followed while the task runs. It is safe for concurrent use.
type File struct {
	mu      sync.Mutex
	f       *os.File
	masker  *Masker
	now     func() time.Time
	partial []byte
	line    []byte // scratch for one formatted line
	masked  []byte // scratch for masking
	err     error  // first write error, returned by later calls
}

// Open opens (creating it and its directories if needed) the log of try
// tryNumber of the task instance key, for appending: a try that runs again
// after a crash of its worker continues its log. m may be nil.
func Open(baseFolder string, key windsock.TaskInstanceKey, tryNumber int, m *Masker) (*File, error) {
	path := Path(baseFolder, key, tryNumber)
	// A task start can spare few syscalls. The task's folder exists for
	// every try after the first, so those open straight away; a first try
	// makes the folder first (the run's folder usually exists already).
	var f *os.File
	err := os.ErrNotExist
	if tryNumber > 1 {
		f, err = openAppend(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if err := os.Mkdir(dir, dirMode); errors.Is(err, fs.ErrNotExist) {
			err = os.MkdirAll(dir, dirMode)
			if err != nil {
				return nil, fmt.Errorf("open task log: %w", err)
			}
		} else if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("open task log: %w", err)
		}
		f, err = openAppend(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open task log: %w", err)
	}
	return &File{f: f, masker: m, now: time.Now}, nil
}

// Task logs can hold whatever a task prints (connection strings the masker
// did not know, data): only Windsock's user reads them. A umask can only
// remove bits, so these modes hold whatever the umask, and whatever the
// mode of a base folder that already existed.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
}

// Name returns the file's path.
func (f *File) Name() string { return f.f.Name() }

// Write logs p as task output. It buffers only an incomplete last line.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.partial = append(f.partial, p...)
			if len(f.partial) > maxPartial {
				f.flushPartial(false)
			}
			break
		}
		if len(f.partial) > 0 {
			f.partial = append(f.partial, p[:i]...)
			f.writeLine(sourceOutput, f.partial)
			f.partial = f.partial[:0]
		} else {
			f.writeLine(sourceOutput, p[:i])
		}
		p = p[i+1:]
	}
	if f.err != nil {
		return 0, f.err
	}
	return n, nil
}

// Infof logs a message of Windsock's own; each line of a multi-line
// message (a traceback) gets the prefix.
func (f *File) Infof(format string, args ...any) { f.logf("INFO", format, args...) }

// Warnf logs a warning of Windsock's own.
func (f *File) Warnf(format string, args ...any) { f.logf("WARNING", format, args...) }

// Errorf logs an error of Windsock's own.
func (f *File) Errorf(format string, args ...any) { f.logf("ERROR", format, args...) }

func (f *File) logf(level, format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, line := range strings.Split(msg, "\n") {
		f.writeLevelLine(sourceWindsock, level, []byte(line))
	}
}

// Close writes any incomplete last line and closes the file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.partial) > 0 {
		f.flushPartial(true)
	}
	err := f.f.Close()
	if f.err != nil {
		return f.err
	}
	if err != nil {
		return fmt.Errorf("close task log: %w", err)
	}
	return nil
}

// flushPartial writes the held-back line, keeping (unless final) a tail
// that might be the start of a secret.
func (f *File) flushPartial(final bool) {
	var n int
	f.masked, n = f.masker.mask(f.masked[:0], f.partial, final)
	f.writeRaw(sourceOutput, "INFO", f.masked)
	f.partial = append(f.partial[:0], f.partial[n:]...)
}

func (f *File) writeLine(source string, line []byte) {
	f.writeLevelLine(source, "INFO", line)
}

func (f *File) writeLevelLine(source, level string, line []byte) {
	f.masked, _ = f.masker.mask(f.masked[:0], line, true)
	f.writeRaw(source, level, f.masked)
}

// writeRaw writes one already masked line in a single write call.
func (f *File) writeRaw(source, level string, line []byte) {
	if f.err != nil {
		return
	}
	b := append(f.line[:0], '[')
	b = f.now().UTC().AppendFormat(b, timeLayout)
	b = append(b, "] "...)
	b = append(b, source...)
	b = append(b, ' ')
	b = append(b, level...)
	b = append(b, " - "...)
	b = append(b, line...)
	b = append(b, '\n')
	f.line = b
	if _, err := f.f.Write(b); err != nil {
		f.err = fmt.Errorf("write task log: %w", err)
	}
}

// Read returns up to 1 MiB of the log of try tryNumber from byte offset on,
// and the offset to continue from: calling it again with next follows a
// log that is still being written. A log that does not exist (yet) is an
// error with code windsock.ENOTFOUND.
func Read(baseFolder string, key windsock.TaskInstanceKey, tryNumber int, offset int64) (data []byte, next int64, err error) {
	if offset < 0 {
		return nil, 0, windsock.Errorf(windsock.EINVALID, "log offset %d is negative", offset)
	}
	f, err := os.Open(Path(baseFolder, key, tryNumber))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, offset, windsock.Errorf(windsock.ENOTFOUND, "no log for task %s of run %s of DAG %s, try %d", key.TaskID, key.RunID, key.DagID, tryNumber)
	}
	if err != nil {
		return nil, offset, fmt.Errorf("read task log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, offset, fmt.Errorf("read task log: %w", err)
	}
	if offset >= st.Size() {
		return nil, offset, nil
	}
	buf := make([]byte, min(st.Size()-offset, maxRead))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, offset, fmt.Errorf("read task log: %w", err)
	}
	return buf[:n], offset + int64(n), nil
}
