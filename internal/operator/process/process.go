// Package process runs an operator's subprocess (bash, python) the way
// Airflow's SubprocessHook does: in its own process group, stdout and
// stderr merged into one stream read line by line as it comes, and on
// cancellation SIGTERM to the whole group, then SIGKILL after a grace
// period, so that a timed-out or killed task leaves no processes behind.
package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultKillGrace is Airflow's [core] killed_task_cleanup_time: how long a
// killed task's processes get between SIGTERM and SIGKILL.
const DefaultKillGrace = 60 * time.Second

// maxLine is the longest line handed to Command.Line in one piece; longer
// lines arrive in several pieces (see Command.Partial) so memory stays
// bounded.
const maxLine = 64 << 10

// Hurry wraps cause, the cause a command's context is cancelled with
// (context.WithCancelCause), so that its processes get grace rather than
// the runner's KillGrace between SIGTERM and SIGKILL: a worker that fences
// itself must have its tries dead before the schedulers run them again
// elsewhere, whatever a task does with SIGTERM. errors.Is and errors.As see
// cause through it.
func Hurry(cause error, grace time.Duration) error { return &hurried{cause: cause, grace: grace} }

type hurried struct {
	cause error
	grace time.Duration
}

func (h *hurried) Error() string { return h.cause.Error() }
func (h *hurried) Unwrap() error { return h.cause }

// killGrace is the grace a command cancelled with cause gets: the
// shorter of the Hurry in cause, if any, and grace.
func killGrace(cause error, grace time.Duration) time.Duration {
	var h *hurried
	if errors.As(cause, &h) && h.grace < grace {
		return max(h.grace, 0)
	}
	return grace
}

// Runner runs commands. The zero value is ready to use.
type Runner struct {
	// KillGrace is the time between SIGTERM and SIGKILL when the context
	// ends; zero means DefaultKillGrace.
	KillGrace time.Duration
}

// Command is one process to run.
type Command struct {
	// Path is the executable's absolute path (looked up once by the caller).
	Path string
	// Args is the full argv, including argv[0].
	Args []string
	// Env is the complete environment; nil inherits Windsock's.
	Env []string
	// Dir is the working directory; "" means Windsock's.
	Dir string
	// Line receives each line of the merged stdout and stderr, without its
	// newline, as soon as it is complete. The slice is only valid during
	// the call. A line longer than 64 KiB arrives in pieces: without
	// Partial, each piece is passed to Line as if it were a line.
	Line func(line []byte)
	// Partial, when set, receives the leading pieces of a line longer than
	// 64 KiB, and Line then receives only the piece that ends the line
	// (empty when the line ended right after a piece): a caller that needs
	// whole lines joins what Partial gave it with what Line gives it. The
	// slice is only valid during the call.
	Partial func(piece []byte)
}

// piece delivers a leading piece of a long line.
func (c *Command) piece(b []byte) {
	switch {
	case c.Partial != nil:
		c.Partial(b)
	case c.Line != nil:
		c.Line(b)
	}
}

// end delivers the end of a line; split tells that pieces of it went out
// already.
func (c *Command) end(b []byte, split bool) {
	if c.Line == nil || (split && len(b) == 0 && c.Partial == nil) {
		// Without Partial the pieces were lines of their own: an empty
		// remainder is no line.
		return
	}
	c.Line(b)
}

// Run starts c, feeds its output to c.Line until every process holding the
// output open has closed it, waits for it, and returns its exit code (the
// negated signal number when a signal ended it, like Python's returncode).
//
// When ctx ends first, the process group gets SIGTERM and, if any member is
// still there after KillGrace (or the Hurry grace of ctx's cause), SIGKILL;
// Run returns ctx.Err() once the group is gone. When the command ends on
// its own, processes it left in the background are not touched, as in
// Airflow. Should this process die while the command runs, its guard
// kills the whole group (see guard_linux.go).
func (r Runner) Run(ctx context.Context, c *Command) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", c.Path, err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		pr.Close()
		pw.Close()
		return 0, fmt.Errorf("start %s: %w", c.Path, err)
	}
	proc, err := startProcess(c.Path, c.Args, &os.ProcAttr{
		Dir:   c.Dir,
		Env:   c.Env,
		Files: []*os.File{devnull, pw, pw},
		Sys:   sysProcAttr(),
	})
	// The child has its own copies now; ours must go, or the read below
	// would never see EOF.
	pw.Close()
	devnull.Close()
	if err != nil {
		pr.Close()
		return 0, fmt.Errorf("start %s: %w", c.Path, err)
	}
	guard.watch(proc.Pid)
	defer guard.release(proc.Pid)
	g := &group{pid: proc.Pid, grace: r.KillGrace, forced: make(chan struct{})}
	if g.grace <= 0 {
		g.grace = DefaultKillGrace
	}
	stop := context.AfterFunc(ctx, func() { g.terminate(context.Cause(ctx)) })

	readErr := readLines(pr, c)
	pr.Close()
	state, waitErr := proc.Wait()
	if !stop() {
		// The context ended: make sure nothing of the group outlives Run.
		g.finish()
		return 0, ctx.Err()
	}
	if waitErr != nil {
		return 0, fmt.Errorf("wait for %s: %w", c.Path, waitErr)
	}
	if readErr != nil {
		return 0, fmt.Errorf("read output of %s: %w", c.Path, readErr)
	}
	return exitCode(state), nil
}

// readLines hands each line of r to c; a line longer than maxLine is
// delivered in pieces, and a last line without newline is delivered too.
// The reader's buffer is small, since most lines are; longer lines are
// gathered in a second buffer.
func readLines(r io.Reader, c *Command) error {
	br := bufio.NewReaderSize(r, 4096)
	var long []byte
	split := false // pieces of the current line went out already
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, b...)
			if len(long) >= maxLine {
				c.piece(long)
				long, split = long[:0], true
			}
			continue
		}
		if len(long) > 0 {
			long = append(long, b...)
			b = long
			long = long[:0]
		}
		newline := len(b) > 0 && b[len(b)-1] == '\n'
		if newline {
			b = b[:len(b)-1]
		}
		if newline || len(b) > 0 || split {
			c.end(b, split)
		}
		split = false
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

func exitCode(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return state.ExitCode()
}

// group is the process group of one command, for killing it.
type group struct {
	pid   int
	grace time.Duration

	mu       sync.Mutex
	finished bool
	force    *time.Timer
	forced   chan struct{} // closed once SIGKILL was sent
}

// terminate sends SIGTERM to the group and arms the SIGKILL timer, for
// the grace cause allows (see Hurry).
func (g *group) terminate(cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return
	}
	_ = syscall.Kill(-g.pid, syscall.SIGTERM)
	g.force = time.AfterFunc(killGrace(cause, g.grace), func() {
		_ = syscall.Kill(-g.pid, syscall.SIGKILL)
		close(g.forced)
	})
}

// finish runs after the group leader was reaped following a cancellation:
// it returns once no member of the group is left, which takes until the
// SIGKILL when some member ignores SIGTERM.
func (g *group) finish() {
	g.mu.Lock()
	g.finished = true
	force := g.force
	g.mu.Unlock()
	if force == nil {
		return // terminate saw finished first: the command ended by itself
	}
	// Members that closed their output but still run are rare, so a
	// coarse check until SIGKILL is sent is cheap enough.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for groupRunning(g.pid) {
		select {
		case <-g.forced:
			return
		case <-tick.C:
		}
	}
	force.Stop()
}

// ReadLines feeds c.Line (and c.Partial) with the lines of r until EOF, the
// way Run does with a process's output: for output read elsewhere, such as
// a child forked by a warm Python server.
func (c *Command) ReadLines(r io.Reader) error { return readLines(r, c) }

// Group is the process group of a process started elsewhere (a child
// forked by a warm Python server), for killing it as Run kills its own.
type Group struct{ g *group }

// NewGroup returns the group led by pid; grace is the time between SIGTERM
// and SIGKILL (zero means DefaultKillGrace).
func NewGroup(pid int, grace time.Duration) *Group {
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	return &Group{g: &group{pid: pid, grace: grace, forced: make(chan struct{})}}
}

// Terminate sends SIGTERM to the group and SIGKILL after the grace period
// (shortened by a Hurry in cause, the cause the try was stopped with).
func (g *Group) Terminate(cause error) { g.g.terminate(cause) }

// Finish is called once the leader was reaped: after Terminate it returns
// once no member of the group is left.
func (g *Group) Finish() { g.g.finish() }
