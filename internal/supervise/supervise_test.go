package supervise_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/supervise"
)

type syncBuffer struct {
	ch chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.ch <- string(p)
	return len(p), nil
}

func setup(t *testing.T) (supervise.Command, supervise.Options, chan string) {
	t.Helper()
	dir := t.TempDir()
	logs := make(chan string, 100)
	cmd := supervise.Command{
		Name: "sleeper", Path: "/bin/sh", Args: []string{"-c", "echo started; exec sleep 300"},
		LogFile: filepath.Join(dir, "sleeper.log"), StateFile: filepath.Join(dir, "run", "sleeper.json"),
	}
	opts := supervise.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{logs}, nil)), MinBackoff: time.Millisecond}
	return cmd, opts, logs
}

func waitFor(t *testing.T, logs chan string, want string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l := <-logs:
			if bytes.Contains([]byte(l), []byte(want)) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line with %q", want)
		}
	}
}

func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	cmd, opts, logs := setup(t)
	p, err := supervise.Run(cmd, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGTERM, time.Second)
	first := p.Pid()
	exited := p.Exited()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	waitFor(t, logs, "process restarted")
	if p.Pid() == first || p.Starts() != 2 {
		t.Fatalf("pid %d (was %d), starts %d: want a second incarnation", p.Pid(), first, p.Starts())
	}
	if got, ok := supervise.Recorded(cmd.StateFile); !ok || got != p.Pid() {
		t.Fatalf("state file records %d (%v), want %d", got, ok, p.Pid())
	}
}

func TestAdoptNeverDoubles(t *testing.T) {
	t.Parallel()
	cmd, opts, logs := setup(t)
	old, err := supervise.Run(cmd, opts)
	if err != nil {
		t.Fatal(err)
	}
	pid := old.Pid()
	old.Release() // the supervisor goes away, the child stays
	p, err := supervise.Run(cmd, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid() != pid || !p.Adopted() || p.Starts() != 0 {
		t.Fatalf("pid %d adopted %v starts %d: want %d adopted, none started", p.Pid(), p.Adopted(), p.Starts(), pid)
	}
	// The adopted child dying is noticed and it is restarted.
	exited := p.Exited()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	waitFor(t, logs, "process restarted")
	if p.Pid() == pid || p.Adopted() {
		t.Fatalf("not restarted after the adopted child died")
	}
	p.Stop(syscall.SIGTERM, time.Second)
	if _, err := os.Stat(cmd.StateFile); !os.IsNotExist(err) {
		t.Fatalf("state file left after Stop: %v", err)
	}
	if err := syscall.Kill(p.Pid(), 0); err == nil {
		t.Fatalf("child %d still alive after Stop", p.Pid())
	}
}

func TestStaleStateFileStartsNew(t *testing.T) {
	t.Parallel()
	cmd, opts, _ := setup(t)
	if err := os.MkdirAll(filepath.Dir(cmd.StateFile), 0o700); err != nil {
		t.Fatal(err)
	}
	// Our own pid with a wrong start time: a recycled pid, not the child.
	if err := os.WriteFile(cmd.StateFile, []byte(`{"pid":`+strconv.Itoa(os.Getpid())+`,"start_ticks":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := supervise.Run(cmd, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGTERM, time.Second)
	if p.Adopted() || p.Pid() == os.Getpid() {
		t.Fatalf("adopted a recycled pid")
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	t.Parallel()
	cmd, opts, logs := setup(t)
	cmd.Args = []string{"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}
	p, err := supervise.Run(cmd, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the trap is set, or SIGTERM would end the shell.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(cmd.LogFile); bytes.Contains(b, []byte("ready")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child never ready")
		}
	}
	p.Stop(syscall.SIGTERM, 100*time.Millisecond)
	waitFor(t, logs, "killing it")
	if err := syscall.Kill(p.Pid(), 0); err == nil {
		t.Fatalf("child still alive")
	}
}
