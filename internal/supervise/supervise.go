// Package supervise keeps a child process running: it starts it, restarts
// it with backoff when it exits unasked (each restart logged), records its
// pid and start time in a state file so that a later supervisor (after a
// restart of the control plane) adopts the live process instead of
// starting a second one, and stops it with a signal and a grace period.
//
// The child writes its output straight to a log file, never to a pipe: a
// pipe would die with the supervisor and take an adopted child with it
// (SIGPIPE on its next log line).
package supervise

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/osproc"
)

// Command is what to run.
type Command struct {
	// Name identifies the process in logs ("scheduler-1").
	Name string
	Path string
	Args []string
	Env  []string
	Dir  string
	// LogFile receives the child's stdout and stderr (appended); empty
	// discards them.
	LogFile string
	// DiscardStdout sends only stderr to LogFile: for a child that prints
	// secrets (a generated password) on stdout and logs on stderr.
	DiscardStdout bool
	// StateFile records the running child's pid and start time.
	StateFile string
}

// Options tune supervision; zero values mean the defaults.
type Options struct {
	Logger *slog.Logger
	// MinBackoff is the wait before the first restart (default 200 ms);
	// it doubles per crash up to MaxBackoff (default 30 s) and resets
	// once a child has run for StableAfter (default 30 s).
	MinBackoff, MaxBackoff, StableAfter time.Duration
	// PollInterval is how often an adopted child (not ours to wait for)
	// is checked for life. Default 200 ms.
	PollInterval time.Duration
	// OnRestart, when set, is called after each restart of a child that
	// ended unasked (the control plane counts them).
	OnRestart func()
}

// Process is a supervised child.
type Process struct {
	cmd  Command
	opts Options

	mu       sync.Mutex
	pid      int
	starts   int
	adopted  bool
	stopping bool
	exitedCh chan struct{} // closed when the current incarnation exits
	stopCh   chan struct{}
	released chan struct{} // closed by Release: nothing waits for the child any more
	done     chan struct{} // closed when supervision ends
}

// state is the state file's content.
type state struct {
	Pid        int      `json:"pid"`
	StartTicks uint64   `json:"start_ticks"`
	Args       []string `json:"args"`
}

// Run supervises cmd: it adopts the live process the state file records
// (the same pid and start time, so a recycled pid is not mistaken for it),
// or starts a new one. It returns once the child runs.
func Run(cmd Command, opts Options) (*Process, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.StableAfter <= 0 {
		opts.StableAfter = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	p := &Process{cmd: cmd, opts: opts, stopCh: make(chan struct{}), released: make(chan struct{}), done: make(chan struct{})}
	if pid, ok := Recorded(cmd.StateFile); ok {
		p.pid, p.adopted, p.exitedCh = pid, true, make(chan struct{})
		go p.watchAdopted(pid, p.exitedCh)
		opts.Logger.Info("adopted a running process", "process", cmd.Name, "pid", pid)
	} else if err := p.start(); err != nil {
		return nil, err
	}
	go p.supervise()
	return p, nil
}

// Recorded returns the pid the state file records when that process is
// still the one recorded and alive.
func Recorded(stateFile string) (int, bool) {
	if stateFile == "" {
		return 0, false
	}
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return 0, false
	}
	var st state
	if json.Unmarshal(b, &st) != nil || st.Pid <= 0 {
		return 0, false
	}
	ticks, alive := startTicks(st.Pid)
	return st.Pid, alive && ticks == st.StartTicks
}

// start starts a new incarnation of the child and records it.
func (p *Process) start() error {
	out, err := p.output()
	if err != nil {
		return err
	}
	c := exec.Command(p.cmd.Path, p.cmd.Args...)
	c.Env, c.Dir, c.Stdout, c.Stderr = p.cmd.Env, p.cmd.Dir, out, out
	if p.cmd.DiscardStdout {
		c.Stdout = nil // the null device
	}
	// Its own process group: a signal meant for the supervisor (a ^C in
	// its terminal) does not reach it, so it can outlive the supervisor
	// and be adopted.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = c.Start()
	out.Close()
	if err != nil {
		return fmt.Errorf("start %s: %w", p.cmd.Name, err)
	}
	ticks, _ := startTicks(c.Process.Pid)
	if err := p.record(state{Pid: c.Process.Pid, StartTicks: ticks, Args: p.cmd.Args}); err != nil {
		_ = c.Process.Kill()
		_ = c.Wait()
		return err
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.pid, p.adopted, p.exitedCh = c.Process.Pid, false, exited
	p.starts++
	p.mu.Unlock()
	go func() {
		err := c.Wait()
		if err != nil {
			p.opts.Logger.Info("process exited", "process", p.cmd.Name, "pid", c.Process.Pid, "status", err.Error())
		}
		close(exited)
	}()
	return nil
}

func (p *Process) output() (*os.File, error) {
	if p.cmd.LogFile == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if err := os.MkdirAll(filepath.Dir(p.cmd.LogFile), 0o700); err != nil {
		return nil, fmt.Errorf("open the log of %s: %w", p.cmd.Name, err)
	}
	f, err := os.OpenFile(p.cmd.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the log of %s: %w", p.cmd.Name, err)
	}
	return f, nil
}

func (p *Process) record(st state) error {
	if p.cmd.StateFile == "" {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(p.cmd.StateFile, b, 0o600); err != nil {
		return fmt.Errorf("record %s: %w", p.cmd.Name, err)
	}
	return nil
}

// watchAdopted closes exited when the adopted pid is gone (or became
// another process, or a zombie of its own parent).
func (p *Process) watchAdopted(pid int, exited chan struct{}) {
	want, _ := startTicks(pid)
	t := time.NewTicker(p.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-p.released:
			return
		case <-t.C:
		}
		if ticks, alive := startTicks(pid); !alive || ticks != want {
			close(exited)
			return
		}
	}
}

// supervise restarts the child whenever it exits unasked.
func (p *Process) supervise() {
	defer close(p.done)
	backoff := p.opts.MinBackoff
	for {
		p.mu.Lock()
		exited, began := p.exitedCh, time.Now()
		p.mu.Unlock()
		select {
		case <-exited:
		case <-p.stopCh:
			return
		}
		if time.Since(began) >= p.opts.StableAfter {
			backoff = p.opts.MinBackoff
		}
		p.opts.Logger.Warn("process ended unasked; restarting", "process", p.cmd.Name, "after", backoff.String())
		select {
		case <-time.After(backoff):
		case <-p.stopCh:
			return
		}
		backoff = min(backoff*2, p.opts.MaxBackoff)
		if err := p.start(); err != nil {
			p.opts.Logger.Error("restart failed", "process", p.cmd.Name, "error", err)
			p.mu.Lock()
			p.exitedCh = closedChan()
			p.mu.Unlock()
			continue
		}
		p.opts.Logger.Info("process restarted", "process", p.cmd.Name, "pid", p.Pid())
		if p.opts.OnRestart != nil {
			p.opts.OnRestart()
		}
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// Pid returns the current incarnation's pid.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Name returns the command's name.
func (p *Process) Name() string { return p.cmd.Name }

// Starts returns how many times this supervisor started the child (an
// adopted child is not counted).
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Adopted reports whether the current incarnation was adopted.
func (p *Process) Adopted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.adopted
}

// Exited returns a channel closed when the current incarnation exits.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitedCh
}

// Stop ends supervision, sends sig to the child and waits for it to exit;
// after grace it kills the child's process group. It removes the state
// file. Stopping twice is harmless.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	if !p.stopping {
		p.stopping = true
		close(p.stopCh)
	}
	p.mu.Unlock()
	<-p.done
	select {
	case <-p.released:
		return // let go of: another supervisor owns the child now
	default:
	}
	p.mu.Lock()
	pid, exited := p.pid, p.exitedCh
	p.mu.Unlock()
	select {
	case <-exited:
	default:
		_ = syscall.Kill(pid, sig)
		select {
		case <-exited:
		case <-time.After(grace):
			p.opts.Logger.Warn("process did not stop in time; killing it", "process", p.cmd.Name, "pid", pid, "grace", grace.String())
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
	}
	if p.cmd.StateFile != "" {
		_ = os.Remove(p.cmd.StateFile)
	}
}

// Release ends supervision and leaves the child running, for a later
// supervisor to adopt through the state file (a control plane that stops
// leaves its environments running).
func (p *Process) Release() {
	p.mu.Lock()
	if !p.stopping {
		p.stopping = true
		close(p.stopCh)
		close(p.released)
	}
	p.mu.Unlock()
	<-p.done
}

// Signal sends sig to the current incarnation without ending supervision.
func (p *Process) Signal(sig syscall.Signal) error {
	return syscall.Kill(p.Pid(), sig)
}

// startTicks reads a process's start time (in clock ticks since boot);
// alive is false when the process is gone or a zombie.
func startTicks(pid int) (ticks uint64, alive bool) {
	st, ok := osproc.ReadStat(pid)
	if !ok || !st.Running() {
		return 0, false
	}
	return st.StartTicks, true
}
