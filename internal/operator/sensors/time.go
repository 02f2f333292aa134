package sensors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/timedelta"
)

// TimeDeltaSensor is TimeDeltaSensor: it waits until delta (a timedelta:
// seconds, "1h30m", {hours: 1}) after the run's data interval end (its
// logical date when the run has no interval).
type TimeDeltaSensor struct{}

// NewTimeDeltaSensor returns the time delta sensor.
func NewTimeDeltaSensor() *TimeDeltaSensor { return &TimeDeltaSensor{} }

// Execute waits for the time.
func (s *TimeDeltaSensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// Poke reads the arguments and returns the poke function.
func (s *TimeDeltaSensor) Poke(_ context.Context, tc *operator.Context) (sensor.Poke, error) {
	v, ok := tc.Args["delta"]
	if !ok || v == nil {
		return nil, errors.New("argument delta: required")
	}
	delta, err := timedelta.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("argument delta: %w", err)
	}
	if tc.Run == nil {
		return nil, errors.New("time delta sensor: no DAG run")
	}
	end := tc.Run.LogicalDate
	if tc.Run.DataIntervalEnd != nil {
		end = *tc.Run.DataIntervalEnd
	}
	return waitUntil(tc, end.Add(delta)), nil
}

// DateTimeSensor is DateTimeSensor: it waits until target_time, an ISO
// 8601 date-time ("2024-05-01T12:00:00+02:00", "2024-05-01 12:00:00",
// "2024-05-01"); a time without offset is UTC, Airflow's default
// timezone.
type DateTimeSensor struct{}

// NewDateTimeSensor returns the date-time sensor.
func NewDateTimeSensor() *DateTimeSensor { return &DateTimeSensor{} }

// Execute waits for the time.
func (s *DateTimeSensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// Poke reads the arguments and returns the poke function.
func (s *DateTimeSensor) Poke(_ context.Context, tc *operator.Context) (sensor.Poke, error) {
	var target time.Time
	switch v := tc.Args["target_time"].(type) {
	case time.Time:
		// YAML decodes an unquoted timestamp itself.
		target = v
	case string:
		t, err := operator.ParseDateTime(v)
		if err != nil {
			return nil, fmt.Errorf("argument target_time: %w", err)
		}
		target = t
	case nil:
		return nil, errors.New("argument target_time: required")
	default:
		return nil, fmt.Errorf("argument target_time: want a date-time string, got %T", v)
	}
	return waitUntil(tc, target), nil
}

// waitUntil pokes done once the clock is past target, as Airflow compares
// (utcnow() > target).
func waitUntil(tc *operator.Context, target time.Time) sensor.Poke {
	now := tc.Now
	if now == nil {
		now = time.Now
	}
	return func(context.Context) (bool, any, error) {
		operator.Logf(tc.Log, "Checking if the time (%s) has come", target.UTC().Format(time.RFC3339))
		return now().After(target), nil, nil
	}
}
