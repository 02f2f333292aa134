package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ControlPlane is the control plane's own metrics: the decisions and
// restarts its runner makes, counted as they happen, beside the
// environments' statuses and workers that the API's collector reads at
// each scrape (registered with Register). MWAA has no Prometheus names
// for these; they are Windsock's, under windsock_controlplane_. Its
// methods may be called on a nil *ControlPlane, which records nothing.
type ControlPlane struct {
	reg      *prometheus.Registry
	scaling  *prometheus.CounterVec
	restarts *prometheus.CounterVec
}

// NewControlPlane returns the control plane's metrics, with the Go
// runtime's and the process's own.
func NewControlPlane() *ControlPlane {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{reg}
	return &ControlPlane{
		reg: reg,
		scaling: f.counterVec("windsock_controlplane_scaling_decisions_total",
			"Autoscaling decisions that changed an environment's workers, by direction (out or in).", "environment", "direction"),
		restarts: f.counterVec("windsock_controlplane_process_restarts_total",
			"Processes of an environment restarted after they ended unasked.", "environment", "process"),
	}
}

// Register adds a collector.
func (c *ControlPlane) Register(col prometheus.Collector) error {
	if c == nil {
		return nil
	}
	return c.reg.Register(col)
}

// Handler serves the metrics; a failing collector costs only its own.
func (c *ControlPlane) Handler() http.Handler {
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ScalingDecision counts a decision that took an environment from one
// number of workers to another (none when they are equal).
func (c *ControlPlane) ScalingDecision(env string, from, to int) {
	if c == nil || from == to {
		return
	}
	direction := "out"
	if to < from {
		direction = "in"
	}
	c.scaling.WithLabelValues(env, direction).Inc()
}

// ProcessRestarted counts a restart of an environment's process
// ("scheduler-1", "worker-2").
func (c *ControlPlane) ProcessRestarted(env, process string) {
	if c != nil {
		c.restarts.WithLabelValues(env, process).Inc()
	}
}
