package operator

import (
	"fmt"
	"io"
	"strings"
)

// InfoLogger is implemented by task logs that format their own lines
// (tasklog.File); Logf prefers it so operator messages look like the
// engine's own.
type InfoLogger interface {
	Infof(format string, args ...any)
}

// Logf writes one informational line to a try's log: through Infof when w
// has it, otherwise as a plain line. A nil w discards the line.
func Logf(w io.Writer, format string, args ...any) {
	if w == nil {
		return
	}
	if l, ok := w.(InfoLogger); ok {
		l.Infof(format, args...)
		return
	}
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	io.WriteString(w, msg)
}
