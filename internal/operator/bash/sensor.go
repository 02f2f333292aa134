package bash

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/pyvalue"
)

// Sensor is BashSensor: it pokes by running bash_command.
type Sensor struct {
	shell
}

// NewSensor returns the BashSensor.
func NewSensor(opts Options) operator.Operator {
	return &Sensor{shell: newShell(opts)}
}

// Execute pokes until bash_command exits 0. A non-zero exit means "not
// yet", unless retry_exit_code is set: then only that code means "not
// yet" and any other fails the task without retry (Airflow 2.10).
func (s *Sensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	opts, err := sensor.ParseOptions(tc.Args)
	if err != nil {
		return nil, err
	}
	command, err := operator.StringArg(tc.Args, "bash_command", "")
	if err != nil {
		return nil, err
	}
	env, err := stringMapArg(tc.Args, "env")
	if err != nil {
		return nil, err
	}
	dec, err := decoderArg(tc.Args)
	if err != nil {
		return nil, err
	}
	retry, hasRetry := tc.Args["retry_exit_code"]
	retryCode := 0
	if hasRetry && retry != nil {
		n, ok := operator.AsInt(retry)
		if !ok {
			return nil, fmt.Errorf("argument retry_exit_code: want an exit code, got %s", pyvalue.Repr(retry))
		}
		retryCode = n
	}
	hasRetry = hasRetry && retry != nil

	// BashSensor's env replaces the environment when given (it has no
	// append_env).
	base := process.BaseEnv(tc)
	if env != nil {
		base = nil
	}
	fullEnv := process.MergeEnv(base, env, process.ContextEnv(tc))
	return sensor.RunWith(ctx, tc, opts, func(ctx context.Context) (bool, any, error) {
		code, _, err := s.run(ctx, tc, command, fullEnv, "", dec)
		switch {
		case err != nil:
			return false, nil, err
		case code == 0:
			return true, nil, nil
		case !hasRetry:
			operator.Logf(tc.Log, "Non 0 return code, will retry later")
			return false, nil, nil
		case code == retryCode:
			operator.Logf(tc.Log, "Return code matches retry code, will retry later")
			return false, nil, nil
		}
		return false, nil, fmt.Errorf("%w: Command exited with return code %d", operator.ErrFail, code)
	})
}
