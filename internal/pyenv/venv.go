package pyenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
)

// installLog is the file, in Config.Dir, holding the output of the latest
// install attempt.
const installLog = "last-install.log"

// build creates a virtual environment in w.envDir and installs the
// requirements into it with pip. The environment is marked ready only
// when pip succeeded; a failed build is removed.
func (p *preparer) build(ctx context.Context, w want) *Install {
	in := &Install{
		At: p.cfg.Clock().UTC(), RequirementsFile: p.cfg.RequirementsFile, RequirementsSHA256: w.reqSum,
		Log: filepath.Join(p.cfg.Dir, installLog),
	}
	// A directory without the marker is an interrupted build: start over.
	if err := os.RemoveAll(w.envDir); err != nil {
		in.Error = err.Error()
		return in
	}
	var log bytes.Buffer
	err := p.buildIn(ctx, w, &log)
	if werr := atomicfile.Write(in.Log, log.Bytes(), 0o644); werr != nil {
		p.cfg.Logger.Warn("cannot keep the pip log", "error", werr)
		in.Log = ""
	}
	if err != nil {
		os.RemoveAll(w.envDir)
		in.Error = redactURLs(err.Error())
		return in
	}
	in.OK = true
	return in
}

// stepError is a failed command: its message is the tail of what it
// printed, as a user reads pip's own error.
type stepError struct {
	step string
	err  error
	out  string
}

func (e *stepError) Error() string {
	if e.out == "" {
		return fmt.Sprintf("%s: %v", e.step, e.err)
	}
	return e.out
}

func (p *preparer) buildIn(ctx context.Context, w want, log *bytes.Buffer) error {
	if err := os.MkdirAll(filepath.Dir(w.envDir), 0o755); err != nil {
		return err
	}
	// --system-site-packages keeps what the base interpreter has (Debian's
	// python3-jinja2, pendulum...) importable beside the requirements.
	// --without-pip avoids copying pip in (seconds) when the base has one
	// the environment can run.
	if err := p.step(ctx, log, "create the virtual environment", "", p.base, "-m", "venv", "--system-site-packages", "--without-pip", w.envDir); err != nil {
		return err
	}
	py := venvPython(w.envDir)
	if p.step(ctx, log, "find pip", "", py, "-m", "pip", "--version") != nil {
		if err := p.step(ctx, log, "install pip into the virtual environment", "", py, "-m", "ensurepip", "--default-pip"); err != nil {
			return err
		}
	}
	// pip reads --constraint, --index-url, --find-links... lines of the
	// file itself, relative paths against the file's directory.
	reqDir := filepath.Dir(p.cfg.RequirementsFile)
	if err := p.step(ctx, log, "pip install", reqDir, py, "-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", "-r", p.cfg.RequirementsFile); err != nil {
		return err
	}
	m, _ := json.Marshal(markerData{RequirementsSHA256: w.reqSum, BasePython: p.base})
	return atomicfile.Write(filepath.Join(w.envDir, marker), m, 0o644)
}

// step runs one command of a build, appending its output to log; its
// error carries the tail of the command's stderr (its stdout when stderr
// is empty).
func (p *preparer) step(ctx context.Context, log *bytes.Buffer, what, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(append([]string(nil), p.cfg.Env...), "PIP_NO_INPUT=1", "PYTHONNOUSERSITE=1")
	cmd.Dir = dir
	// pip runs builds in processes of its own: a cancelled install stops
	// them all, and output pipes they hold cannot keep Wait waiting.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	err := cmd.Run()
	log.Write(stdout.Bytes())
	log.Write(stderr.Bytes())
	if err == nil {
		return nil
	}
	fmt.Fprintf(log, "(%s failed: %v)\n", what, err)
	out := tail(stderr.Bytes(), maxMessageLines, maxMessageBytes)
	if out == "" {
		out = tail(stdout.Bytes(), maxMessageLines, maxMessageBytes)
	}
	return &stepError{step: what, err: err, out: out}
}

// The failure message keeps the end of pip's output, where its ERROR lines
// are, bounded for the status file and the UI banner.
const (
	maxMessageLines = 30
	maxMessageBytes = 4000
)

// tail returns the last lines of b, at most maxBytes, trimmed.
func tail(b []byte, lines, maxBytes int) string {
	s := strings.TrimSpace(string(b))
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	s = strings.Join(parts, "\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// urlPassword and urlToken match the secret of a URL's user info (an
// --index-url with credentials: user:password@, or a lone token@ as
// package hosts suggest), which must not reach /health or the UI.
var (
	urlPassword = regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`)
	urlToken    = regexp.MustCompile(`(://)[^/\s:@*]+@`)
)

func redactURLs(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}****@")
	return urlToken.ReplaceAllString(s, "${1}****@")
}
