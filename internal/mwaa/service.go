package mwaa

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/mwaatoken"
)

// Defaults of Config.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "000000000000"
)

// Config configures a Service. Zero values mean the defaults named.
type Config struct {
	// Home is the control plane's home: state, keys, the encryption key.
	Home string
	// Region and Account appear in ARNs. Default: us-east-1 and
	// 000000000000.
	Region  string
	Account string
	// Runner makes environments exist. Required.
	Runner envspec.Runner
	// Clock is the time source; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
	// HTTPClient calls environments' web servers (InvokeRestApi); nil
	// means one with a 60 s timeout.
	HTTPClient *http.Client
	// SampleInterval is how often workers are recorded for the UI.
	// Default: DefaultSampleInterval.
	SampleInterval time.Duration
	// Metrics are the control plane's metrics, served at /metrics; the
	// service adds the environments' statuses and workers. Give the
	// runner the same, for its scaling decisions and restarts. Default:
	// new ones.
	Metrics *metrics.ControlPlane
}

// Service is the control plane: the MWAA operations over the
// environments in its home.
type Service struct {
	cfg  Config
	keys *KeyStore

	mu   sync.Mutex
	envs map[string]*record
	// ops counts operations running in the background (start, update,
	// delete, adopt), so that Stop and Wait wait for them; sampler is the
	// worker sampling loop of the UI.
	ops     sync.WaitGroup
	sampler sync.WaitGroup
	// opsOrder orders an operation started after a Wait returned after
	// that Wait: its caller (a test) may start the next operation through
	// another process (the AWS CLI), an order the race detector cannot
	// see, and a WaitGroup's Add from zero must come after its Wait.
	opsOrder sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc

	sessions sessionCache
	history  workerHistory
	metrics  *metrics.ControlPlane
}

// New returns a Service over cfg.Home; call Start before serving.
func New(cfg Config) (*Service, error) {
	if cfg.Runner == nil {
		return nil, errors.New("mwaa: Config.Runner is required")
	}
	if cfg.Home == "" {
		return nil, errors.New("mwaa: Config.Home is required")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = DefaultSampleInterval
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewControlPlane()
	}
	s := &Service{cfg: cfg, keys: NewKeyStore(cfg.Home), metrics: cfg.Metrics}
	if err := s.metrics.Register(envCollector{s}); err != nil {
		return nil, fmt.Errorf("mwaa: metrics: %w", err)
	}
	return s, nil
}

// Keys returns the service's key store.
func (s *Service) Keys() *KeyStore { return s.keys }

// Start loads the state and re-attaches to every environment a previous
// control plane left: Runner.Adopt for the ones that were running or
// being created or updated (adopt starts what is not running and never
// doubles what is), and finishes interrupted deletions. It returns once
// the state is loaded; adoption goes on in the background.
func (s *Service) Start(ctx context.Context) error {
	envs, err := loadState(s.cfg.Home)
	if err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.envs = envs
	names := s.namesLocked()
	s.mu.Unlock()
	for _, name := range names {
		s.mu.Lock()
		rec := s.envs[name]
		status := rec.Env.Status
		if status == "UPDATING" && rec.Previous != nil {
			// The update did not finish: go back to the configuration
			// that worked, as a failed update does.
			prev := rec.Previous
			prev.Status = "UPDATE_FAILED"
			prev.LastUpdate = &LastUpdate{Status: "FAILED", CreatedAt: rec.Env.LastUpdate.CreatedAt,
				Error: &UpdateError{ErrorCode: "CONTROL_PLANE_RESTARTED", ErrorMessage: "The control plane restarted during the update."}}
			rec.Env, rec.Previous = *prev, nil
			status = rec.Env.Status
		}
		spec := s.specLocked(rec)
		s.mu.Unlock()
		switch status {
		case "DELETING":
			s.run(name, func(ctx context.Context) { s.finishDelete(ctx, name) })
		case "CREATE_FAILED":
		default:
			s.run(name, func(ctx context.Context) {
				st, err := s.cfg.Runner.Adopt(ctx, spec)
				s.finishAdopt(name, status, st, err)
			})
		}
	}
	// The sampler is not a background operation: Wait does not wait for it.
	s.sampler.Add(1)
	go func() {
		defer s.sampler.Done()
		s.sampleLoop(s.cfg.SampleInterval)
	}()
	return s.save()
}

// Stop cancels background operations and waits for them; it does not
// stop environments (a restarted control plane adopts them).
func (s *Service) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.ops.Wait()
	s.sampler.Wait()
}

// Wait blocks until every background operation has ended (tests).
func (s *Service) Wait() {
	s.ops.Wait()
	s.opsOrder.Lock()
	//lint:ignore SA2001 an empty critical section: only the order it gives matters
	s.opsOrder.Unlock()
}

func (s *Service) run(name string, f func(ctx context.Context)) {
	s.opsOrder.Lock()
	s.ops.Add(1)
	s.opsOrder.Unlock()
	go func() {
		defer s.ops.Done()
		f(s.ctx)
	}()
}

func (s *Service) now() time.Time { return s.cfg.Clock().UTC() }

func (s *Service) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return saveState(s.cfg.Home, s.envs)
}

func (s *Service) saveLocked() error { return saveState(s.cfg.Home, s.envs) }

func (s *Service) namesLocked() []string {
	names := make([]string, 0, len(s.envs))
	for n := range s.envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// envArn is an environment's ARN.
func (s *Service) envArn(name string) string {
	return fmt.Sprintf("arn:aws:airflow:%s:%s:environment/%s", s.cfg.Region, s.cfg.Account, name)
}

func (s *Service) roleArn(env, role string) string {
	return fmt.Sprintf("arn:aws:airflow:%s:%s:role/%s/%s", s.cfg.Region, s.cfg.Account, env, role)
}

func (s *Service) logGroupArn(env, component string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:airflow-%s-%s", s.cfg.Region, s.cfg.Account, env, component)
}

// loggingModules are LoggingConfiguration's members with the component
// name of their log group and of envspec.Spec.Logging.
type loggingModule struct {
	field     string
	component string
	cfg       *ModuleLogging
}

func (l *Logging) modules() []loggingModule {
	return []loggingModule{
		{"DagProcessingLogs", envspec.DAGProcessing, l.DagProcessingLogs},
		{"SchedulerLogs", envspec.Scheduler, l.SchedulerLogs},
		{"WebserverLogs", envspec.WebServer, l.WebserverLogs},
		{"WorkerLogs", envspec.Worker, l.WorkerLogs},
		{"TaskLogs", envspec.Task, l.TaskLogs},
	}
}

func (l *Logging) set(field string, m *ModuleLogging) {
	switch field {
	case "DagProcessingLogs":
		l.DagProcessingLogs = m
	case "SchedulerLogs":
		l.SchedulerLogs = m
	case "WebserverLogs":
		l.WebserverLogs = m
	case "WorkerLogs":
		l.WorkerLogs = m
	case "TaskLogs":
		l.TaskLogs = m
	}
}

func intp(n int) *int { return &n }

func boolp(b bool) *bool { return &b }

func newSecret() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// Create is CreateEnvironment.
func (s *Service) Create(ctx context.Context, name string, in *EnvironmentInput) (string, error) {
	if err := checkInput(name, in, true); err != nil {
		return "", err
	}
	env := s.newEnvironment(name, in)
	if err := checkSemantics(env); err != nil {
		return "", err
	}
	s.mu.Lock()
	if _, exists := s.envs[name]; exists {
		s.mu.Unlock()
		return "", validation(fmt.Sprintf("Unable to create environment. An environment named %s already exists.", name))
	}
	now := epoch(s.now())
	env.Status = "CREATING"
	env.CreatedAt = &now
	env.LastUpdate = &LastUpdate{Status: "PENDING", CreatedAt: &now, Source: "Customer"}
	rec := &record{Env: *env, TokenSecret: newSecret()}
	s.envs[name] = rec
	if err := s.saveLocked(); err != nil {
		delete(s.envs, name)
		s.mu.Unlock()
		return "", err
	}
	spec := s.specLocked(rec)
	s.mu.Unlock()
	s.cfg.Logger.Info("mwaa: creating environment", "name", name, "version", env.AirflowVersion, "class", env.EnvironmentClass)
	s.run(name, func(ctx context.Context) {
		st, err := s.cfg.Runner.Start(ctx, spec)
		s.finishStart(ctx, name, st, err)
	})
	return env.Arn, nil
}

// newEnvironment builds an environment from a create input with MWAA's
// defaults for what the input leaves out.
func (s *Service) newEnvironment(name string, in *EnvironmentInput) *Environment {
	env := &Environment{
		Name:                         name,
		Arn:                          s.envArn(name),
		ExecutionRoleArn:             deref(in.ExecutionRoleArn),
		ServiceRoleArn:               fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA", s.cfg.Account),
		KmsKey:                       deref(in.KmsKey),
		AirflowVersion:               orDefault(in.AirflowVersion, DefaultVersion),
		SourceBucketArn:              deref(in.SourceBucketArn),
		DagS3Path:                    deref(in.DagS3Path),
		PluginsS3Path:                deref(in.PluginsS3Path),
		PluginsS3ObjectVersion:       deref(in.PluginsS3ObjectVersion),
		RequirementsS3Path:           deref(in.RequirementsS3Path),
		RequirementsS3ObjectVersion:  deref(in.RequirementsS3ObjectVersion),
		StartupScriptS3Path:          deref(in.StartupScriptS3Path),
		StartupScriptS3ObjectVersion: deref(in.StartupScriptS3ObjectVersion),
		AirflowConfigurationOptions:  map[string]string{},
		EnvironmentClass:             orDefault(in.EnvironmentClass, "mw1.small"),
		NetworkConfiguration:         in.NetworkConfiguration,
		WeeklyMaintenanceWindowStart: orDefault(in.WeeklyMaintenanceWindowStart, "SUN:03:00"),
		Tags:                         map[string]string{},
		WebserverAccessMode:          orDefault(in.WebserverAccessMode, "PRIVATE_ONLY"),
		EndpointManagement:           orDefault(in.EndpointManagement, "SERVICE"),
		CeleryExecutorQueue:          fmt.Sprintf("arn:aws:sqs:%s:%s:airflow-celery-%s", s.cfg.Region, s.cfg.Account, newSecret()[:32]),
	}
	for k, v := range in.AirflowConfigurationOptions {
		env.AirflowConfigurationOptions[k] = v
	}
	for k, v := range in.Tags {
		env.Tags[k] = v
	}
	micro := env.EnvironmentClass == "mw1.micro"
	one := func(micro bool, n int) int {
		if micro {
			return 1
		}
		return n
	}
	env.MinWorkers = intp(orDefaultInt(in.MinWorkers, 1))
	env.MaxWorkers = intp(orDefaultInt(in.MaxWorkers, one(micro, 10)))
	env.Schedulers = intp(orDefaultInt(in.Schedulers, one(micro, 2)))
	env.MinWebservers = intp(orDefaultInt(in.MinWebservers, one(micro, 2)))
	env.MaxWebservers = intp(orDefaultInt(in.MaxWebservers, one(micro, 2)))
	env.LoggingConfiguration = s.logging(name, nil, in.LoggingConfiguration)
	renameOptions(env)
	return env
}

// logging merges a LoggingConfigurationInput into the current
// configuration (nil at creation: every module disabled at INFO but task
// logs) and names each module's log group.
func (s *Service) logging(env string, current, in *Logging) *Logging {
	out := &Logging{}
	if current == nil {
		current = &Logging{TaskLogs: &ModuleLogging{Enabled: boolp(true), LogLevel: "INFO"}}
	}
	cur := current.modules()
	var given []loggingModule
	if in != nil {
		given = in.modules()
	}
	for i, m := range cur {
		c := ModuleLogging{Enabled: boolp(false), LogLevel: "INFO"}
		if m.cfg != nil {
			c.Enabled, c.LogLevel = boolp(deref(m.cfg.Enabled)), m.cfg.LogLevel
		}
		if given != nil && given[i].cfg != nil {
			c.Enabled, c.LogLevel = boolp(deref(given[i].cfg.Enabled)), given[i].cfg.LogLevel
		}
		c.CloudWatchLogGroupArn = s.logGroupArn(env, m.component)
		out.set(m.field, &c)
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func orDefault(p *string, d string) string {
	if p == nil || *p == "" {
		return d
	}
	return *p
}

func orDefaultInt(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}

// specLocked is the runner's view of an environment.
func (s *Service) specLocked(rec *record) envspec.Spec {
	e := &rec.Env
	class, _ := classNamed(e.EnvironmentClass)
	concurrency := class.WorkerConcurrency
	if v, ok := e.AirflowConfigurationOptions["celery.worker_autoscale"]; ok {
		if n, err := parseAutoscale(v); err == nil {
			concurrency = n
		}
	}
	opts := make(map[string]string, len(e.AirflowConfigurationOptions)+1)
	for k, v := range e.AirflowConfigurationOptions {
		opts[k] = v
	}
	opts[mwaatoken.ConfigSection+"."+mwaatoken.ConfigOption] = rec.TokenSecret
	logging := map[string]envspec.ModuleLogging{}
	if e.LoggingConfiguration != nil {
		for _, m := range e.LoggingConfiguration.modules() {
			if m.cfg != nil {
				logging[m.component] = envspec.ModuleLogging{Enabled: deref(m.cfg.Enabled), LogLevel: m.cfg.LogLevel}
			}
		}
	}
	strategy := ""
	if e.LastUpdate != nil {
		strategy = e.LastUpdate.WorkerReplacementStrategy
	}
	return envspec.Spec{
		Name:                         e.Name,
		AirflowVersion:               e.AirflowVersion,
		EnvironmentClass:             e.EnvironmentClass,
		WorkerConcurrency:            concurrency,
		Schedulers:                   deref(e.Schedulers),
		MinWorkers:                   deref(e.MinWorkers),
		MaxWorkers:                   deref(e.MaxWorkers),
		MinWebservers:                deref(e.MinWebservers),
		MaxWebservers:                deref(e.MaxWebservers),
		WebserverAccessMode:          e.WebserverAccessMode,
		Bucket:                       BucketName(e.SourceBucketArn),
		DagS3Path:                    e.DagS3Path,
		PluginsS3Path:                e.PluginsS3Path,
		PluginsS3ObjectVersion:       e.PluginsS3ObjectVersion,
		RequirementsS3Path:           e.RequirementsS3Path,
		RequirementsS3ObjectVersion:  e.RequirementsS3ObjectVersion,
		StartupScriptS3Path:          e.StartupScriptS3Path,
		StartupScriptS3ObjectVersion: e.StartupScriptS3ObjectVersion,
		AirflowConfigurationOptions:  opts,
		Logging:                      logging,
		WorkerReplacementStrategy:    strategy,
	}
}

// finishStart records the end of a Start: AVAILABLE, or CREATE_FAILED
// with the runner's error. A Start cut short by the control plane's own
// shutdown records nothing: the next control plane adopts it.
func (s *Service) finishStart(ctx context.Context, name string, st envspec.Status, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.envs[name]
	if !ok {
		return
	}
	if err != nil {
		s.cfg.Logger.Error("mwaa: environment failed to start", "name", name, "error", err)
		rec.Env.Status = "CREATE_FAILED"
		rec.Env.LastUpdate = &LastUpdate{Status: "FAILED", CreatedAt: rec.Env.LastUpdate.CreatedAt, Source: "Customer",
			Error: &UpdateError{ErrorCode: "INCORRECT_CONFIGURATION", ErrorMessage: truncate(err.Error(), 1024)}}
	} else {
		s.cfg.Logger.Info("mwaa: environment available", "name", name, "webserver", st.WebserverHostname)
		rec.Env.Status = "AVAILABLE"
		rec.Env.WebserverUrl = st.WebserverHostname
		rec.Env.LastUpdate = &LastUpdate{Status: "SUCCESS", CreatedAt: rec.Env.LastUpdate.CreatedAt, Source: "Customer"}
	}
	s.persistLocked()
}

// finishAdopt records what adopting an environment after a restart gave.
func (s *Service) finishAdopt(name, was string, st envspec.Status, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.envs[name]
	if !ok {
		return
	}
	if err != nil {
		s.cfg.Logger.Error("mwaa: adopt environment", "name", name, "error", err)
		if was == "CREATING" {
			rec.Env.Status = "CREATE_FAILED"
		} else {
			rec.Env.Status = "UNAVAILABLE"
		}
		rec.Env.LastUpdate = &LastUpdate{Status: "FAILED", CreatedAt: lastUpdateAt(&rec.Env),
			Error: &UpdateError{ErrorCode: "ADOPT_FAILED", ErrorMessage: truncate(err.Error(), 1024)}}
	} else {
		if was == "CREATING" || was == "UNAVAILABLE" {
			rec.Env.Status = "AVAILABLE"
			rec.Env.LastUpdate = &LastUpdate{Status: "SUCCESS", CreatedAt: lastUpdateAt(&rec.Env), Source: "Customer"}
		}
		rec.Env.WebserverUrl = st.WebserverHostname
	}
	s.persistLocked()
}

func lastUpdateAt(e *Environment) *epoch {
	if e.LastUpdate != nil {
		return e.LastUpdate.CreatedAt
	}
	return e.CreatedAt
}

func (s *Service) persistLocked() {
	if err := s.saveLocked(); err != nil {
		s.cfg.Logger.Error("mwaa: save state", "error", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// lookupLocked returns a live environment.
func (s *Service) lookupLocked(name string) (*record, error) {
	rec, ok := s.envs[name]
	if !ok {
		return nil, environmentNotFound(name)
	}
	return rec, nil
}

// Get is GetEnvironment.
func (s *Service) Get(_ context.Context, name string) (*Environment, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	env := cloneEnv(&rec.Env)
	s.mu.Unlock()
	// The runner reads state files and /proc: not under s.mu, which
	// every operation takes.
	if st, ok := s.cfg.Runner.Status(name); ok && st.WebserverHostname != "" && env.Status != "CREATING" {
		env.WebserverUrl = st.WebserverHostname
	}
	return env, nil
}

// List is ListEnvironments: names in order, maxResults at a time, the
// next token being the last name returned.
func (s *Service) List(_ context.Context, maxResults *int, nextToken string) ([]string, string, error) {
	var p problems
	p.intRange(maxResults, "maxResults", 1, 25, true, true)
	p.str(&nextToken, "nextToken", 0, 2048, nil)
	if err := p.err(); err != nil {
		return nil, "", err
	}
	after := ""
	if nextToken != "" {
		raw, err := hex.DecodeString(nextToken)
		if err != nil {
			return nil, "", validation("The NextToken is invalid.")
		}
		after = string(raw)
	}
	limit := 25
	if maxResults != nil {
		limit = *maxResults
	}
	s.mu.Lock()
	names := s.namesLocked()
	s.mu.Unlock()
	page := []string{}
	for _, n := range names {
		if n <= after {
			continue
		}
		if len(page) == limit {
			return page, hex.EncodeToString([]byte(page[len(page)-1])), nil
		}
		page = append(page, n)
	}
	return page, "", nil
}

// Update is UpdateEnvironment: the changed environment is validated as a
// whole, applied by the runner with a rolling restart, and a failure puts
// the previous configuration back with UPDATE_FAILED.
func (s *Service) Update(ctx context.Context, name string, in *EnvironmentInput) (string, error) {
	if err := checkInput(name, in, false); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		return "", err
	}
	if rec.Env.Status != "AVAILABLE" && rec.Env.Status != "UPDATE_FAILED" {
		return "", validation(fmt.Sprintf("Unable to update environment %s. The environment is in status %s; "+
			"you can update an environment only when its status is AVAILABLE or UPDATE_FAILED.", name, rec.Env.Status))
	}
	prev := cloneEnv(&rec.Env)
	next := cloneEnv(&rec.Env)
	versionChanged := in.AirflowVersion != nil && *in.AirflowVersion != prev.AirflowVersion
	s.applyUpdate(next, in)
	if versionChanged {
		renameOptions(next)
	}
	if err := checkSemantics(next); err != nil {
		return "", err
	}
	oldSpec := s.specLocked(rec)
	now := epoch(s.now())
	next.Status = "UPDATING"
	next.LastUpdate = &LastUpdate{Status: "PENDING", CreatedAt: &now, Source: "Customer",
		WorkerReplacementStrategy: orDefault(in.WorkerReplacementStrategy, "FORCED")}
	rec.Previous, rec.Env = prev, *next
	if err := s.saveLocked(); err != nil {
		rec.Env, rec.Previous = *prev, nil
		return "", err
	}
	spec := s.specLocked(rec)
	s.run(name, func(ctx context.Context) {
		st, err := s.cfg.Runner.Update(ctx, oldSpec, spec)
		s.finishUpdate(ctx, name, st, err)
	})
	return rec.Env.Arn, nil
}

// applyUpdate copies the members an UpdateEnvironment input sets.
func (s *Service) applyUpdate(e *Environment, in *EnvironmentInput) {
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&e.ExecutionRoleArn, in.ExecutionRoleArn)
	setStr(&e.SourceBucketArn, in.SourceBucketArn)
	setStr(&e.DagS3Path, in.DagS3Path)
	setStr(&e.PluginsS3Path, in.PluginsS3Path)
	setStr(&e.PluginsS3ObjectVersion, in.PluginsS3ObjectVersion)
	setStr(&e.RequirementsS3Path, in.RequirementsS3Path)
	setStr(&e.RequirementsS3ObjectVersion, in.RequirementsS3ObjectVersion)
	setStr(&e.StartupScriptS3Path, in.StartupScriptS3Path)
	setStr(&e.StartupScriptS3ObjectVersion, in.StartupScriptS3ObjectVersion)
	setStr(&e.EnvironmentClass, in.EnvironmentClass)
	setStr(&e.AirflowVersion, in.AirflowVersion)
	setStr(&e.WeeklyMaintenanceWindowStart, in.WeeklyMaintenanceWindowStart)
	setStr(&e.WebserverAccessMode, in.WebserverAccessMode)
	if in.AirflowConfigurationOptions != nil {
		// The map replaces the previous one, as in MWAA.
		e.AirflowConfigurationOptions = map[string]string{}
		for k, v := range in.AirflowConfigurationOptions {
			e.AirflowConfigurationOptions[k] = v
		}
	}
	for _, p := range []struct {
		dst **int
		v   *int
	}{{&e.MaxWorkers, in.MaxWorkers}, {&e.MinWorkers, in.MinWorkers}, {&e.Schedulers, in.Schedulers},
		{&e.MinWebservers, in.MinWebservers}, {&e.MaxWebservers, in.MaxWebservers}} {
		if p.v != nil {
			*p.dst = intp(*p.v)
		}
	}
	if in.NetworkConfiguration != nil && e.NetworkConfiguration != nil {
		e.NetworkConfiguration.SecurityGroupIds = in.NetworkConfiguration.SecurityGroupIds
	}
	if in.LoggingConfiguration != nil {
		e.LoggingConfiguration = s.logging(e.Name, e.LoggingConfiguration, in.LoggingConfiguration)
	}
}

func (s *Service) finishUpdate(ctx context.Context, name string, st envspec.Status, err error) {
	if err != nil && ctx.Err() != nil {
		return // shutting down: the next control plane settles it
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.envs[name]
	if !ok {
		return
	}
	lu := rec.Env.LastUpdate
	if err != nil {
		s.cfg.Logger.Error("mwaa: update failed, previous configuration kept", "name", name, "error", err)
		if rec.Previous != nil {
			rec.Env = *rec.Previous
		}
		rec.Env.Status = "UPDATE_FAILED"
		rec.Env.LastUpdate = &LastUpdate{Status: "FAILED", CreatedAt: lu.CreatedAt, Source: lu.Source,
			WorkerReplacementStrategy: lu.WorkerReplacementStrategy,
			Error:                     &UpdateError{ErrorCode: "INCORRECT_CONFIGURATION", ErrorMessage: truncate(err.Error(), 1024)}}
	} else {
		rec.Env.Status = "AVAILABLE"
		if st.WebserverHostname != "" {
			rec.Env.WebserverUrl = st.WebserverHostname
		}
		lu.Status = "SUCCESS"
	}
	rec.Previous = nil
	s.sessions.forget(name)
	s.persistLocked()
}

// Delete is DeleteEnvironment.
func (s *Service) Delete(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		return err
	}
	switch rec.Env.Status {
	case "DELETING":
		return nil
	case "CREATING", "UPDATING":
		return validation(fmt.Sprintf("Unable to delete environment %s while it is in status %s.", name, rec.Env.Status))
	}
	rec.Env.Status = "DELETING"
	if err := s.saveLocked(); err != nil {
		return err
	}
	s.run(name, func(ctx context.Context) { s.finishDelete(ctx, name) })
	return nil
}

func (s *Service) finishDelete(ctx context.Context, name string) {
	err := s.cfg.Runner.Stop(ctx, name)
	if err == nil {
		err = s.cfg.Runner.Remove(ctx, name)
	}
	if err != nil && ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.envs[name]
	if !ok {
		return
	}
	if err != nil {
		s.cfg.Logger.Error("mwaa: delete environment", "name", name, "error", err)
		rec.Env.Status = "UNAVAILABLE"
		rec.Env.LastUpdate = &LastUpdate{Status: "FAILED", CreatedAt: lastUpdateAt(&rec.Env),
			Error: &UpdateError{ErrorCode: "DELETE_FAILED", ErrorMessage: truncate(err.Error(), 1024)}}
	} else {
		delete(s.envs, name)
		s.sessions.forget(name)
	}
	s.persistLocked()
}

// envByArn finds the environment of a tag operation's ResourceArn.
func (s *Service) envByArnLocked(arn string) (*record, error) {
	if err := checkArn(arn); err != nil {
		return nil, err
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	rec, ok := s.envs[name]
	if !ok || rec.Env.Arn != arn {
		return nil, notFound("Resource " + arn + " not found.")
	}
	return rec, nil
}

// ListTags is ListTagsForResource.
func (s *Service) ListTags(_ context.Context, arn string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.envByArnLocked(arn)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range rec.Env.Tags {
		out[k] = v
	}
	return out, nil
}

// Tag is TagResource.
func (s *Service) Tag(_ context.Context, arn string, tags map[string]string) error {
	var p problems
	p.required(tags != nil, "tags")
	checkTags(&p, tags, "tags")
	if err := p.err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.envByArnLocked(arn)
	if err != nil {
		return err
	}
	if rec.Env.Tags == nil {
		rec.Env.Tags = map[string]string{}
	}
	merged := len(rec.Env.Tags)
	for k := range tags {
		if _, ok := rec.Env.Tags[k]; !ok {
			merged++
		}
	}
	if merged > 50 {
		return validation("Tag limit exceeded: a resource can have at most 50 tags.")
	}
	for k, v := range tags {
		rec.Env.Tags[k] = v
	}
	return s.saveLocked()
}

// Untag is UntagResource.
func (s *Service) Untag(_ context.Context, arn string, keys []string) error {
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.envByArnLocked(arn)
	if err != nil {
		return err
	}
	for _, k := range keys {
		delete(rec.Env.Tags, k)
	}
	return s.saveLocked()
}

// tokenTarget returns what a token for an environment needs: its
// hostname and secret; the environment must have a web server.
func (s *Service) tokenTarget(name string) (host string, secret []byte, err error) {
	if err := checkName(name); err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		s.mu.Unlock()
		return "", nil, err
	}
	status, host, secret := rec.Env.Status, rec.Env.WebserverUrl, []byte(rec.TokenSecret)
	s.mu.Unlock()
	switch status {
	case "AVAILABLE", "UPDATING", "UPDATE_FAILED":
	default:
		return "", nil, validation(fmt.Sprintf("Environment %s is not available: its status is %s.", name, status))
	}
	if st, ok := s.cfg.Runner.Status(name); ok && st.WebserverHostname != "" {
		host = st.WebserverHostname
	}
	return host, secret, nil
}

// CliToken is CreateCliToken.
func (s *Service) CliToken(_ context.Context, name string, caller Caller) (token, host string, err error) {
	host, secret, err := s.tokenTarget(name)
	if err != nil {
		return "", "", err
	}
	token, err = mwaatoken.Mint(secret, mwaatoken.Claims{Kind: mwaatoken.KindCLI, Environment: name,
		IamIdentity: caller.Identity(), Expires: s.now().Add(mwaatoken.CLITokenTTL).Unix(), Nonce: newSecret()[:16]})
	return token, host, err
}

// WebLoginToken is CreateWebLoginToken: the token carries the Airflow
// role the caller's policy grants on the environment's role ARNs.
func (s *Service) WebLoginToken(_ context.Context, name string, caller Caller) (token, host, role string, err error) {
	if err := checkName(name); err != nil {
		return "", "", "", err
	}
	role, err = s.airflowRole(name, "airflow:CreateWebLoginToken", caller)
	if err != nil {
		return "", "", "", err
	}
	host, secret, err := s.tokenTarget(name)
	if err != nil {
		return "", "", "", err
	}
	token, err = mwaatoken.Mint(secret, mwaatoken.Claims{Kind: mwaatoken.KindWeb, Environment: name, Role: role,
		User: caller.AirflowUser(), IamIdentity: caller.Identity(), Expires: s.now().Add(mwaatoken.WebTokenTTL).Unix(),
		Nonce: newSecret()[:16]})
	return token, host, role, err
}
