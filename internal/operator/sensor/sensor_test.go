package sensor

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// clock is a fake clock the poke functions advance.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(args map[string]any) (*operator.Context, *clock, *bytes.Buffer) {
	c := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	log := &bytes.Buffer{}
	return &operator.Context{
		TI:   &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "d", TaskID: "s", RunID: "r", MapIndex: -1}},
		Args: args, Log: log, Now: c.now, FirstTryStart: c.t,
	}, c, log
}

// pokes returns a poke function that reports the given outcomes in turn
// (the last one repeats), advancing the clock by step each call.
func pokes(c *clock, step time.Duration, calls *int, outcomes ...func() (bool, any, error)) Poke {
	return func(ctx context.Context) (bool, any, error) {
		i := min(*calls, len(outcomes)-1)
		*calls++
		c.t = c.t.Add(step)
		return outcomes[i]()
	}
}

func notYet() (bool, any, error)  { return false, nil, nil }
func done() (bool, any, error)    { return true, nil, nil }
func failing() (bool, any, error) { return false, nil, errors.New("boom") }

func TestRun(t *testing.T) {
	t.Parallel()
	fast := map[string]any{"poke_interval": 0.001, "timeout": 60}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range fast {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name      string
		args      map[string]any
		outcomes  []func() (bool, any, error)
		wantErr   error
		wantCalls int
		wantValue any
	}{
		{"done on the third poke", fast, []func() (bool, any, error){notYet, notYet, done}, nil, 3, nil},
		{"value", fast, []func() (bool, any, error){func() (bool, any, error) { return true, "v", nil }}, nil, 1, "v"},
		{"timeout fails without retry", fast, []func() (bool, any, error){notYet}, ErrTimeout, 61, nil},
		{"timeout with soft_fail skips", with(map[string]any{"soft_fail": true}), []func() (bool, any, error){notYet}, operator.ErrSkip, 61, nil},
		{"skip passes through", fast, []func() (bool, any, error){func() (bool, any, error) { return false, nil, operator.ErrSkip }}, operator.ErrSkip, 1, nil},
		{"fail", fast, []func() (bool, any, error){func() (bool, any, error) { return false, nil, operator.ErrFail }}, operator.ErrFail, 1, nil},
		{"fail with soft_fail skips", with(map[string]any{"soft_fail": true}), []func() (bool, any, error){func() (bool, any, error) { return false, nil, operator.ErrFail }}, operator.ErrSkip, 1, nil},
		{"other errors fail the try", with(map[string]any{"soft_fail": true}), []func() (bool, any, error){failing}, nil, 1, nil},
		{"silent_fail pokes on", with(map[string]any{"silent_fail": true}), []func() (bool, any, error){failing, failing, done}, nil, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, c, log := setup(tt.args)
			calls := 0
			res, err := Run(context.Background(), tc, pokes(c, time.Second, &calls, tt.outcomes...))
			if calls != tt.wantCalls {
				t.Errorf("poked %d times, want %d", calls, tt.wantCalls)
			}
			if tt.name == "other errors fail the try" {
				if err == nil || errors.Is(err, operator.ErrSkip) || errors.Is(err, operator.ErrFail) {
					t.Errorf("error %v, want the poke's own error", err)
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == ErrTimeout && (!errors.Is(err, operator.ErrFail) || !strings.Contains(err.Error(), "Sensor has timed out; run duration of 61 seconds exceeds the specified timeout of 60.")) {
					t.Errorf("timeout error %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v\n%s", err, log)
			}
			if res.HasReturn != (tt.wantValue != nil) || res.ReturnValue != tt.wantValue {
				t.Errorf("result %+v, want value %v", res, tt.wantValue)
			}
		})
	}
}

func TestRunReschedule(t *testing.T) {
	t.Parallel()
	tc, c, _ := setup(map[string]any{"mode": "reschedule", "poke_interval": 300, "timeout": 3600})
	calls := 0
	res, err := Run(context.Background(), tc, pokes(c, 0, &calls, notYet))
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || res.RescheduleAt == nil || !res.RescheduleAt.Equal(c.t.Add(300*time.Second)) {
		t.Fatalf("calls %d, RescheduleAt %v; want one poke and now+300s", calls, res.RescheduleAt)
	}

	// The timeout counts from the first try's start, across reschedules.
	tc.FirstTryStart = c.t.Add(-2 * time.Hour)
	if _, err := Run(context.Background(), tc, pokes(c, 0, &calls, notYet)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
}

// Cancellation during the wait between pokes ends Run at once.
func TestRunCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	tc, _, _ := setup(map[string]any{"poke_interval": 3600})
	tc.Now = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, tc, func(context.Context) (bool, any, error) {
		cancel()
		return false, nil, nil
	})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("error %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	o, err := ParseOptions(nil)
	if err != nil || o.PokeInterval != time.Minute || o.Timeout != 7*24*time.Hour || o.Mode != ModePoke {
		t.Errorf("defaults %+v, %v", o, err)
	}
	o, err = ParseOptions(map[string]any{"poke_interval": "5m", "timeout": 90, "max_wait": map[string]any{"hours": 1}, "exponential_backoff": "true"})
	if err != nil || o.PokeInterval != 5*time.Minute || o.Timeout != 90*time.Second || o.MaxWait != time.Hour || !o.ExponentialBackoff {
		t.Errorf("parsed %+v, %v", o, err)
	}
	for _, bad := range []map[string]any{{"mode": "smart"}, {"poke_interval": "soon"}, {"soft_fail": "maybe"}} {
		if _, err := ParseOptions(bad); err == nil {
			t.Errorf("ParseOptions(%v) accepted", bad)
		}
	}
}

func TestNextInterval(t *testing.T) {
	t.Parallel()
	tc, c, _ := setup(nil)
	plain := Options{PokeInterval: 10 * time.Second, Timeout: time.Hour}
	if got := plain.nextInterval(tc, c.t, 0, 5); got != 10*time.Second {
		t.Errorf("without backoff: %v, want 10s", got)
	}
	backoff := Options{PokeInterval: 10 * time.Second, Timeout: time.Hour, ExponentialBackoff: true}
	for n := 1; n <= 6; n++ {
		minimum := max(time.Duration(10*pow2(n-2))*time.Second, time.Second)
		got := backoff.nextInterval(tc, c.t, 0, n)
		if got < minimum || got >= 2*minimum {
			t.Errorf("poke %d: %v, want in [%v, %v)", n, got, minimum, 2*minimum)
		}
		if again := backoff.nextInterval(tc, c.t, 0, n); again != got {
			t.Errorf("poke %d: %v then %v; the jitter must be deterministic", n, got, again)
		}
	}
	capped := backoff
	capped.MaxWait = 15 * time.Second
	if got := capped.nextInterval(tc, c.t, 0, 8); got != 15*time.Second {
		t.Errorf("max_wait: %v, want 15s", got)
	}
	if got := backoff.nextInterval(tc, c.t, time.Hour-3*time.Second, 8); got != 3*time.Second {
		t.Errorf("near the timeout: %v, want the 3s left", got)
	}
}
