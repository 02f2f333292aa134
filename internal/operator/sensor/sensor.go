// Package sensor runs the loop every Airflow sensor shares
// (BaseSensorOperator): poke until done, wait poke_interval between pokes
// (optionally with exponential backoff capped by max_wait), give up after
// timeout, and in reschedule mode hand the worker slot back between pokes.
// A concrete sensor supplies only its poke function.
package sensor

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/timedelta"
)

// Airflow's BaseSensorOperator defaults.
const (
	DefaultPokeInterval = 60 * time.Second
	DefaultTimeout      = 7 * 24 * time.Hour
)

// Modes of a sensor.
const (
	ModePoke       = "poke"
	ModeReschedule = "reschedule"
)

// ErrTimeout is wrapped by the error Run returns when a sensor times out
// (Airflow's AirflowSensorTimeout). It wraps operator.ErrFail: a timed-out
// sensor fails without retries.
var ErrTimeout = fmt.Errorf("sensor timed out: %w", operator.ErrFail)

// Poke checks the sensor's condition once. done reports that it is met;
// value, when not nil, becomes the task's return value (Airflow's
// PokeReturnValue). An error wrapping operator.ErrSkip skips the task, one
// wrapping operator.ErrFail fails it (or skips it with soft_fail); any
// other error fails the try unless silent_fail is set, in which case it
// counts as "not yet".
type Poke func(ctx context.Context) (done bool, value any, err error)

// Options are the BaseSensorOperator arguments.
type Options struct {
	PokeInterval       time.Duration
	Timeout            time.Duration
	Mode               string
	SoftFail           bool
	SilentFail         bool
	ExponentialBackoff bool
	// MaxWait caps the backoff interval; zero means no cap.
	MaxWait time.Duration
}

// ParseOptions reads the sensor arguments from a task's arguments, applying
// Airflow's defaults (poke_interval 60 s, timeout 7 days, mode poke).
func ParseOptions(args map[string]any) (Options, error) {
	o := Options{PokeInterval: DefaultPokeInterval, Timeout: DefaultTimeout, Mode: ModePoke}
	var err error
	if o.PokeInterval, err = durationArg(args, "poke_interval", o.PokeInterval); err != nil {
		return o, err
	}
	if o.Timeout, err = durationArg(args, "timeout", o.Timeout); err != nil {
		return o, err
	}
	if o.MaxWait, err = durationArg(args, "max_wait", 0); err != nil {
		return o, err
	}
	if o.Mode, err = operator.StringArg(args, "mode", ModePoke); err != nil {
		return o, err
	}
	if o.Mode != ModePoke && o.Mode != ModeReschedule {
		return o, fmt.Errorf("argument mode: want poke or reschedule, got %q", o.Mode)
	}
	for name, dst := range map[string]*bool{
		"soft_fail":           &o.SoftFail,
		"silent_fail":         &o.SilentFail,
		"exponential_backoff": &o.ExponentialBackoff,
	} {
		if *dst, err = operator.BoolArg(args, name, false); err != nil {
			return o, err
		}
	}
	return o, nil
}

func durationArg(args map[string]any, name string, def time.Duration) (time.Duration, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	d, err := timedelta.Parse(v)
	if err != nil {
		return 0, fmt.Errorf("argument %s: %w", name, err)
	}
	return d, nil
}

// Run pokes until poke reports done, the timeout passes or ctx ends, with
// the options in tc.Args. See RunWith.
func Run(ctx context.Context, tc *operator.Context, poke Poke) (*operator.Result, error) {
	o, err := ParseOptions(tc.Args)
	if err != nil {
		return nil, err
	}
	return RunWith(ctx, tc, o, poke)
}

// RunWith is Run with options already parsed. In poke mode it waits between
// pokes on a timer and measures the timeout from its own start (a retry
// starts the clock again, as in Airflow); in reschedule mode it pokes once
// and, when not done, returns a Result with RescheduleAt set, measuring the
// timeout from tc.FirstTryStart. A timeout returns an error wrapping
// ErrTimeout (and so operator.ErrFail), or operator.ErrSkip with soft_fail.
func RunWith(ctx context.Context, tc *operator.Context, o Options, poke Poke) (*operator.Result, error) {
	now := tc.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	if o.Mode == ModeReschedule && !tc.FirstTryStart.IsZero() {
		started = tc.FirstTryStart
	}
	for pokes := 1; ; pokes++ {
		done, value, err := poke(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			switch {
			case errors.Is(err, operator.ErrSkip):
				return nil, err
			case errors.Is(err, operator.ErrFail):
				if o.SoftFail {
					return nil, fmt.Errorf("Skipping due to soft_fail is set to True (%v): %w", err, operator.ErrSkip)
				}
				return nil, err
			case o.SilentFail:
				operator.Logf(tc.Log, "Sensor poke failed, will try again (silent_fail): %v", err)
			default:
				return nil, err
			}
		}
		if done && err == nil {
			operator.Logf(tc.Log, "Success criteria met. Exiting.")
			return &operator.Result{ReturnValue: value, HasReturn: value != nil}, nil
		}
		elapsed := now().Sub(started)
		if elapsed > o.Timeout {
			msg := fmt.Sprintf("Sensor has timed out; run duration of %s seconds exceeds the specified timeout of %s.",
				seconds(elapsed), seconds(o.Timeout))
			if o.SoftFail {
				return nil, fmt.Errorf("%s: %w", msg, operator.ErrSkip)
			}
			return nil, fmt.Errorf("%s: %w", msg, ErrTimeout)
		}
		if o.Mode == ModeReschedule {
			// Airflow counts the reschedules for the backoff; without that
			// history here, estimate the poke number from the time spent.
			n := estimatePokes(o, elapsed)
			at := now().Add(o.nextInterval(tc, started, elapsed, n))
			return &operator.Result{RescheduleAt: &at}, nil
		}
		wait := o.nextInterval(tc, started, elapsed, pokes)
		if o.ExponentialBackoff {
			operator.Logf(tc.Log, "new poke interval is %s", seconds(wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// nextInterval is Airflow's _get_next_poke_interval: poke_interval, or with
// exponential backoff poke_interval*2^(n-2) plus a deterministic jitter of
// up to as much again, capped by the time left and by max_wait.
func (o Options) nextInterval(tc *operator.Context, started time.Time, elapsed time.Duration, n int) time.Duration {
	if !o.ExponentialBackoff {
		return o.PokeInterval
	}
	minBackoff := max(int64(o.PokeInterval.Seconds()*pow2(n-2)), 1)
	var dagID, taskID string
	if tc.TI != nil {
		dagID, taskID = tc.TI.DagID, tc.TI.TaskID
	}
	sum := sha1.Sum([]byte(dagID + "#" + taskID + "#" + started.UTC().Format(time.RFC3339Nano) + "#" + strconv.Itoa(n)))
	h := new(big.Int).SetBytes(sum[:])
	jitter := new(big.Int).Mod(h, big.NewInt(minBackoff)).Int64()
	wait := time.Duration(minBackoff+jitter) * time.Second
	if left := o.Timeout - elapsed.Truncate(time.Second); left < wait {
		wait = left
	}
	if o.MaxWait > 0 && o.MaxWait < wait {
		wait = o.MaxWait
	}
	return max(wait, 0)
}

// estimatePokes guesses how many pokes fit in elapsed with exponential
// backoff, taking each wait at its expected 1.5 × minimum.
func estimatePokes(o Options, elapsed time.Duration) int {
	if !o.ExponentialBackoff {
		return 1
	}
	n, spent := 1, time.Duration(0)
	for n < 64 {
		w := time.Duration(1.5 * max(o.PokeInterval.Seconds()*pow2(n-2), 1) * float64(time.Second))
		if o.MaxWait > 0 {
			w = min(w, o.MaxWait)
		}
		if spent+w > elapsed {
			break
		}
		spent += w
		n++
	}
	return n
}

func pow2(e int) float64 {
	if e < 0 {
		return 1 / float64(int64(1)<<-e)
	}
	return float64(int64(1) << min(e, 62))
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
