package envrunner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/mwaacli"
	"github.com/windsock/windsock/internal/windsock"
)

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
	args, err := mwaacli.Split(commandLine)
	if err != nil {
		return nil, nil, windsock.Errorf(windsock.EINVALID, "command line: %v", err)
	}
	if len(args) == 0 {
		return nil, nil, windsock.Errorf(windsock.EINVALID, "command line: empty")
	}
	if !mwaacli.Allowed(args) {
		return nil, nil, windsock.Errorf(windsock.EINVALID, "command %q is not supported by the CLI endpoint", strings.Join(mwaacli.Words(args), " "))
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
