package api

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/benchdir"
	"github.com/windsock/windsock/internal/config"
)

func TestMain(m *testing.M) { os.Exit(benchdir.Main(m)) }

// loadDurationEnv sets how long BenchmarkAPIMixedLoad drives each kind of
// credentials (a Go duration; make bench sets 60s). Unset, a -benchtime
// given as a duration is used, else 5s.
const loadDurationEnv = "WINDSOCK_API_LOAD_DURATION"

// loadRateEnv overrides the 200 requests a second of
// BenchmarkAPIMixedLoad, to see latency on a machine too busy for it.
const loadRateEnv = "WINDSOCK_API_LOAD_RATE"

func loadDuration(b *testing.B) time.Duration {
	if v := os.Getenv(loadDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("%s=%q: want a positive Go duration", loadDurationEnv, v)
		}
		return d
	}
	if f := flag.Lookup("test.benchtime"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && f.Value.String() != "1s" {
			return d
		}
	}
	return 5 * time.Second
}

// BenchmarkAPIMixedLoad is the figure: with 500 DAGs and 50,000
// task instances, 200 requests a second of a mixed read load (7 in 20 the
// cross-DAG task-instance list at random offsets up to the last page, 2 in
// 20 its batch POST, 1 in 20 the same filtered on a rare state, the rest
// the cross-DAG run list, event logs, DAG list, a DAG's runs, a run's task
// instances and a DAG), sent open-loop (each at its scheduled time, latency
// counted from then) for loadDuration, once with Basic auth (the user's
// password hashed at the real bcrypt cost) and once with a bearer API
// token. It reports p50, p99 and max latency, errors (anything but 200 and
// 429) and shed requests (429). The target: p99 under 100 ms, no errors.
func BenchmarkAPIMixedLoad(b *testing.B) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	e := newLoadEnv(b, benchdir.New(b, "api-load"), 500, 10, 10, config.Default(b.TempDir()), hash)
	d := loadDuration(b)
	rate := 200
	if v := os.Getenv(loadRateEnv); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.Fatalf("%s=%q: want a positive number of requests a second", loadRateEnv, v)
		}
	}
	for _, kind := range []struct{ name, authz string }{{"basic", e.basic}, {"bearer", e.bearer}} {
		b.Run(kind.name, func(b *testing.B) {
			for b.Loop() {
				res := e.runOpenLoop(b.Context(), rate, d, kind.authz, e.mixedRequest)
				b.ReportMetric(float64(res.quantile(0.50).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(res.quantile(0.99).Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(res.quantile(1).Microseconds())/1000, "max-ms")
				b.ReportMetric(float64(res.errors.Load()), "errors")
				b.ReportMetric(float64(res.shed.Load()), "shed")
				b.ReportMetric(float64(len(res.latencies))/d.Seconds(), "req/s")
				if p := res.firstErr.Load(); p != nil {
					b.Logf("first error: %s", *p)
				}
			}
		})
	}
}
