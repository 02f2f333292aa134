package config_test

import (
	"strings"
	"testing"
)

// TestMetricsOptions: a process's own metrics listener binds the loopback
// address at port 8794 unless told otherwise; 0 asks for any free port and
// a port out of range is refused by name.
func TestMetricsOptions(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "")
	if got := load(t, home, environ).Metrics; got.MetricsHost != "127.0.0.1" || got.MetricsPort != 8794 {
		t.Fatalf("defaults = %+v", got)
	}
	home, environ = setup(t, "[metrics]\nmetrics_host = 0.0.0.0\n", "AIRFLOW__METRICS__METRICS_PORT=0")
	c := load(t, home, environ)
	if got := c.Metrics; got.MetricsHost != "0.0.0.0" || got.MetricsPort != 0 {
		t.Fatalf("set = %+v", got)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("port 0 (any free port): %v", err)
	}
	home, environ = setup(t, "[metrics]\nmetrics_port = 70000\n")
	if err := load(t, home, environ).Validate(); err == nil || !strings.Contains(err.Error(), "metrics.metrics_port: must be between 0 and 65535, got 70000") {
		t.Fatalf("Validate = %v", err)
	}
}
