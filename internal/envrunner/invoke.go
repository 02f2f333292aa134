package envrunner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// allowedCommands are the Airflow CLI commands MWAA's /aws_mwaa/cli runs
// (its user guide's table for Airflow v2); each is the leading words of a
// command line.
var allowedCommands = [][]string{
	{"cheat-sheet"},
	{"connections", "add"}, {"connections", "delete"},
	{"dags", "backfill"}, {"dags", "delete"}, {"dags", "list"}, {"dags", "list-jobs"}, {"dags", "list-runs"},
	{"dags", "next-execution"}, {"dags", "pause"}, {"dags", "report"}, {"dags", "show"}, {"dags", "state"},
	{"dags", "test"}, {"dags", "trigger"}, {"dags", "unpause"},
	{"providers", "behaviours"}, {"providers", "get"}, {"providers", "hooks"}, {"providers", "links"},
	{"providers", "list"}, {"providers", "widgets"},
	{"roles", "create"}, {"roles", "list"},
	{"tasks", "clear"}, {"tasks", "failed-deps"}, {"tasks", "list"}, {"tasks", "render"}, {"tasks", "state"},
	{"tasks", "states-for-dag-run"}, {"tasks", "test"},
	{"variables", "delete"}, {"variables", "get"}, {"variables", "set"}, {"variables", "list"},
	{"version"},
}

// invokeTimeout bounds one command.
const invokeTimeout = 5 * time.Minute

// Invoke runs an Airflow CLI command line (without "airflow") in the
// environment, as MWAA's /aws_mwaa/cli does: only MWAA's allowed
// commands; a command that fails still returns its output (its stderr
// says why), err is for a refused command or one that could not run.
func (r *Runner) Invoke(ctx context.Context, name, commandLine string) (stdout, stderr []byte, err error) {
	e, err := r.env(name)
	if err != nil {
		return nil, nil, err
	}
	args, err := splitCommandLine(commandLine)
	if err != nil {
		return nil, nil, err
	}
	if !allowed(args) {
		return nil, nil, windsock.Errorf(windsock.EINVALID, "command %q is not supported by the CLI endpoint", strings.Join(firstWords(args, 2), " "))
	}
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	e.mu.Lock()
	env := append(r.childEnviron(e.h), e.extraEnv...)
	e.mu.Unlock()
	cmd := exec.CommandContext(ctx, r.cfg.Executable, args...)
	cmd.Env, cmd.Dir = env, string(e.h)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return nil, nil, fmt.Errorf("run %s: %w", args[0], runErr)
	}
	return out.Bytes(), errOut.Bytes(), nil
}

func allowed(args []string) bool {
	for _, c := range allowedCommands {
		if len(args) >= len(c) && equalWords(args[:len(c)], c) {
			return true
		}
	}
	return false
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstWords(args []string, n int) []string {
	return args[:min(n, len(args))]
}

// splitCommandLine splits a command line as a POSIX shell splits words:
// single quotes keep everything, double quotes keep all but \" \\ \$ \`,
// a backslash outside quotes escapes the next character. No expansion of
// any kind happens: the words go to the program, never to a shell.
func splitCommandLine(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, windsock.Errorf(windsock.EINVALID, "command line: unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, windsock.Errorf(windsock.EINVALID, "command line: unterminated double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, windsock.Errorf(windsock.EINVALID, "command line: empty")
	}
	return words, nil
}
