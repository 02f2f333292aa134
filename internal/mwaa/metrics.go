package mwaa

import (
	"crypto/hmac"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// statuses are MWAA's environment statuses: each is reported, at 0 when
// no environment has it, so that a dashboard's series never vanish.
var statuses = []string{"CREATING", "CREATE_FAILED", "AVAILABLE", "UPDATING", "DELETING", "DELETED", "UNAVAILABLE",
	"UPDATE_FAILED", "ROLLING_BACK", "CREATING_SNAPSHOT", "PENDING", "MAINTENANCE"}

var (
	envStatusDesc = prometheus.NewDesc("windsock_controlplane_environments", "Environments by status.", []string{"status"}, nil)
	workersDesc   = prometheus.NewDesc("windsock_controlplane_environment_workers", "Workers an environment runs now (on SQLite: worker-sized executor capacities).", []string{"environment"}, nil)
	minDesc       = prometheus.NewDesc("windsock_controlplane_environment_min_workers", "An environment's MinWorkers.", []string{"environment"}, nil)
	maxDesc       = prometheus.NewDesc("windsock_controlplane_environment_max_workers", "An environment's MaxWorkers.", []string{"environment"}, nil)
	healthyDesc   = prometheus.NewDesc("windsock_controlplane_environment_healthy", "1 when every process of a running environment is alive.", []string{"environment"}, nil)
)

// envCollector reads the environments' statuses and workers at each
// scrape.
type envCollector struct{ s *Service }

func (c envCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{envStatusDesc, workersDesc, minDesc, maxDesc, healthyDesc} {
		ch <- d
	}
}

func (c envCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		name             string
		minimum, maximum int
	}
	byStatus := map[string]int{}
	var rows []row
	c.s.mu.Lock()
	for _, name := range c.s.namesLocked() {
		e := &c.s.envs[name].Env
		byStatus[e.Status]++
		rows = append(rows, row{name, deref(e.MinWorkers), deref(e.MaxWorkers)})
	}
	c.s.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, label)
	}
	for _, st := range statuses {
		gauge(envStatusDesc, float64(byStatus[st]), st)
	}
	for _, r := range rows {
		gauge(minDesc, float64(r.minimum), r.name)
		gauge(maxDesc, float64(r.maximum), r.name)
		if st, ok := c.s.cfg.Runner.Status(r.name); ok {
			gauge(workersDesc, float64(st.Workers), r.name)
			healthy := 0.0
			if st.Healthy {
				healthy = 1
			}
			gauge(healthyDesc, healthy, r.name)
		}
	}
}

// metricsAction is what a key's policy must allow for a remote scrape:
// the metrics name every environment, as ListEnvironments does.
const metricsAction = "airflow:ListEnvironments"

// serveMetrics is GET /metrics. A scraper on this host (a loopback peer)
// needs no credentials, as the control plane listens on the loopback
// address by default and the metrics hold names and counts, never
// configuration or secrets. Any other peer authenticates as the API's
// callers do, with a SigV4 signature, or with an access key id and its
// secret as HTTP Basic credentials (what Prometheus's basic_auth sends),
// and its policy must allow ListEnvironments.
func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !loopbackPeer(r) {
		caller, err := s.metricsCaller(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="windsock control plane"`)
			writeError(w, &Error{Code: "AccessDeniedException", Status: http.StatusUnauthorized,
				Message: "The metrics need a signed request or an access key as Basic credentials."})
			return
		}
		if err := s.authorize(caller, metricsAction, s.envArn("*")); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.metrics.Handler().ServeHTTP(w, r)
}

// metricsCaller authenticates a remote scrape: a SigV4 signature, or Basic
// credentials (an access key id and its secret) over TLS only, since they
// carry the key's secret itself, which grants all the key may do.
func (s *Service) metricsCaller(r *http.Request) (Caller, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		if r.TLS == nil {
			return Caller{}, errBasicInClear
		}
		key, want, policy, found, err := s.keys.lookup(id)
		if err != nil || !found || !hmac.Equal([]byte(secret), []byte(want)) {
			return Caller{}, errBadCredentials
		}
		return Caller{Key: key, Policy: policy, Account: s.cfg.Account}, nil
	}
	return s.authenticate(r, nil)
}

var errBasicInClear = &Error{Code: "AccessDeniedException", Status: http.StatusUnauthorized,
	Message: "Basic credentials are taken over TLS only: sign the request (SigV4) or scrape from this host."}

var errBadCredentials = &Error{Code: "AccessDeniedException", Status: http.StatusUnauthorized, Message: "Unknown access key or wrong secret."}

// loopbackPeer reports whether the request comes from this host.
func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
