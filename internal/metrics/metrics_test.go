package metrics_test

import (
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/metrics"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	err := metrics.Write(&b, []metrics.Family{
		{Name: "airflow_pool_open_slots", Help: "Free slots\nper pool.", Type: "gauge", Samples: []metrics.Sample{
			{Labels: []string{"pool_name", `a "quoted" \ pool` + "\n"}, Value: 3},
			{Labels: []string{"pool_name", "default_pool"}, Value: 127.5},
		}},
		{Name: "airflow_ti_successes", Help: "h", Type: "counter", Samples: []metrics.Sample{{Value: 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `# HELP airflow_pool_open_slots Free slots\nper pool.
# TYPE airflow_pool_open_slots gauge
airflow_pool_open_slots{pool_name="a \"quoted\" \\ pool\n"} 3
airflow_pool_open_slots{pool_name="default_pool"} 127.5
# HELP airflow_ti_successes h
# TYPE airflow_ti_successes counter
airflow_ti_successes 2
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
