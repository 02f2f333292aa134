// Package envrunner runs MWAA-style environments on this host: it
// implements envspec.Runner for the control plane. Each environment has a
// home under the control plane's home (environments/NAME: its windsock.cfg
// with its own keys, DAG folder, logs and, by default, its SQLite
// metadata database) and runs as supervised children of the windsock
// binary: on SQLite one `windsock standalone` whose executor capacity is
// scaled as workers would be; on PostgreSQL (a schema per environment)
// schedulers, a DAG processor, web servers and workers as separate
// processes. An autoscaler sizes the workers as MWAA does (package
// autoscale) and the DAG folder mirrors the source bucket (package
// bucketsync).
package envrunner

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/bucketsync"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/windsock"
)

var (
	errBadName   = windsock.Errorf(windsock.EINVALID, "want a letter, then letters, digits, - or _ (at most 80)")
	errBadOption = windsock.Errorf(windsock.EINVALID, "a section.option name and a one-line value are required")
	// ErrNotRunning is returned for an environment this runner does not run.
	ErrNotRunning = windsock.Errorf(windsock.ENOTFOUND, "environment not running")
	errRunning    = windsock.Errorf(windsock.ECONFLICT, "environment already running")
)

// Config is what a Runner needs. Zero values mean the defaults.
type Config struct {
	// Home is the control plane's home: environments live in
	// Home/environments/NAME, local buckets in Home/buckets/BUCKET.
	Home string
	// Executable is the windsock binary the processes run. Default: this
	// program (os.Executable).
	Executable string
	// DatabaseURL is the control plane's database.sql_alchemy_conn: a
	// postgresql:// URL gives each environment a schema of its own there
	// and separate scheduler and worker processes. Empty (the default):
	// each environment has its own SQLite file and runs as one process.
	DatabaseURL string
	// S3, when set, is the S3-compatible store the source buckets are
	// read from (controlplane.s3_endpoint_url and its credentials).
	// Default: local folders Home/buckets/BUCKET.
	S3 *awss3.Settings
	// ScaleInAfter is how long the load must be zero before workers are
	// scaled in to the minimum. Default: 2 minutes, as MWAA.
	ScaleInAfter time.Duration
	// ScaleInterval is how often the autoscaler reads the load. Default: 1 s.
	ScaleInterval time.Duration
	// DagSyncInterval is how often the DAG prefix of the bucket is listed.
	// Default: 2 s.
	DagSyncInterval time.Duration
	// StartTimeout bounds waiting for an environment's web server to
	// answer /health. Default: 2 minutes.
	StartTimeout time.Duration
	// StopGrace is how long running tries may go on when an environment
	// is stopped, before they are handed back. Default: 1 minute.
	StopGrace time.Duration
	// Environ is the environment the processes start from; WINDSOCK_*
	// and AIRFLOW__* variables are dropped from it so that environments
	// share no configuration. Default: os.Environ().
	Environ []string
	Logger  *slog.Logger
	Clock   func() time.Time
	// RestartBackoff is the first wait before a crashed process is
	// restarted (doubling up to 30 s). Default: 200 ms.
	RestartBackoff time.Duration
	// Metrics counts the scaling decisions and the process restarts
	// (the control plane's /metrics); nil counts nothing.
	Metrics *metrics.ControlPlane
}

// Runner runs environments; it implements envspec.Runner.
type Runner struct {
	cfg    Config
	source func(bucket string) bucketsync.Source

	// tokenKey signs the log reads' next tokens: they hold file offsets
	// and stream names, which a caller must not choose.
	tokenKey []byte

	mu    sync.Mutex
	envs  map[string]*environment
	ports map[int]bool // ports handed out by this runner
}

var _ envspec.Runner = (*Runner)(nil)

// New returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Home == "" {
		return nil, errors.New("envrunner: Home is required")
	}
	if cfg.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("envrunner: find the windsock binary: %w", err)
		}
		cfg.Executable = exe
	}
	if cfg.DatabaseURL != "" && !postgres.IsURL(cfg.DatabaseURL) {
		if !strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
			return nil, windsock.Errorf(windsock.EINVALID, "database.sql_alchemy_conn: want a postgresql:// URL or none")
		}
		cfg.DatabaseURL = "" // SQLite: each environment has its own file
	}
	if cfg.ScaleInterval <= 0 {
		cfg.ScaleInterval = time.Second
	}
	if cfg.DagSyncInterval <= 0 {
		cfg.DagSyncInterval = 2 * time.Second
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = time.Minute
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	r := &Runner{cfg: cfg, envs: map[string]*environment{}, ports: map[int]bool{}, tokenKey: make([]byte, 32)}
	if _, err := rand.Read(r.tokenKey); err != nil {
		return nil, fmt.Errorf("envrunner: make the log token key: %w", err)
	}
	// A metadata move killed midway leaves its export behind, which holds
	// decrypted variables and connections: gone before anything else runs.
	stale, _ := filepath.Glob(filepath.Join(cfg.Home, ".migrate-*"))
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			cfg.Logger.Warn("could not remove an interrupted metadata move's export", "path", dir, "error", err)
		} else {
			cfg.Logger.Info("removed an interrupted metadata move's export", "path", dir)
		}
	}
	if cfg.S3 != nil {
		client := awss3.NewClient(*cfg.S3, nil)
		r.source = func(bucket string) bucketsync.Source { return bucketsync.S3{Client: client, Bucket: bucket} }
	} else {
		r.source = func(bucket string) bucketsync.Source {
			return bucketsync.Local{Root: BucketFolder(cfg.Home, bucket)}
		}
	}
	return r, nil
}

// BucketFolder is the local folder of a bucket when no S3 endpoint is
// configured.
func BucketFolder(cpHome, bucket string) string {
	return home(cpHome).path("buckets", bucket)
}

// Start creates (or re-creates) the environment's home and starts its
// processes, returning once its web server answers /health. Processes a
// previous runner left running are adopted, never doubled.
func (r *Runner) Start(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	return r.launch(ctx, spec)
}

// Adopt re-attaches to an environment a previous runner started: its
// recorded live processes are adopted, dead ones started again.
func (r *Runner) Adopt(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	return r.launch(ctx, spec)
}

func (r *Runner) launch(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	if err := checkName(spec.Name); err != nil {
		return envspec.Status{}, err
	}
	if spec.Bucket != "" && strings.ContainsAny(spec.Bucket, `/\`) || spec.Bucket == "." || spec.Bucket == ".." {
		return envspec.Status{}, windsock.Errorf(windsock.EINVALID, "bucket name %q", spec.Bucket)
	}
	r.mu.Lock()
	if _, ok := r.envs[spec.Name]; ok {
		r.mu.Unlock()
		return envspec.Status{}, fmt.Errorf("start %s: %w", spec.Name, errRunning)
	}
	e := newEnvironment(r, spec)
	r.envs[spec.Name] = e
	r.mu.Unlock()
	if err := e.start(ctx); err != nil {
		r.mu.Lock()
		delete(r.envs, spec.Name)
		r.mu.Unlock()
		return envspec.Status{}, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	st, _ := r.Status(spec.Name)
	return st, nil
}

// Update applies spec with a rolling restart; when the new configuration
// does not come up, the previous one is started again and the error
// returned.
func (r *Runner) Update(ctx context.Context, old, spec envspec.Spec) (envspec.Status, error) {
	e, err := r.env(spec.Name)
	if err != nil {
		return envspec.Status{}, err
	}
	if err := e.update(ctx, old, spec); err != nil {
		return envspec.Status{}, fmt.Errorf("update %s: %w", spec.Name, err)
	}
	st, _ := r.Status(spec.Name)
	return st, nil
}

// Stop stops every process of the environment (running tries get
// StopGrace to finish, then are handed back).
func (r *Runner) Stop(ctx context.Context, name string) error {
	e, err := r.env(name)
	if err != nil {
		return err
	}
	e.stop(ctx)
	r.mu.Lock()
	delete(r.envs, name)
	r.mu.Unlock()
	return nil
}

// Remove stops the environment when it runs and deletes its home (and its
// PostgreSQL schema).
func (r *Runner) Remove(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := r.Stop(ctx, name); errors.Is(err, ErrNotRunning) {
		// Processes a previous control plane left running must not
		// outlive their home.
		home(EnvironmentHome(r.cfg.Home, name)).killRecorded(r.cfg.StopGrace)
	} else if err != nil {
		return err
	}
	if r.cfg.DatabaseURL != "" {
		if err := dropSchema(ctx, r.cfg.DatabaseURL, schemaName(name)); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(EnvironmentHome(r.cfg.Home, name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Status reports a running environment.
func (r *Runner) Status(name string) (envspec.Status, bool) {
	e, err := r.env(name)
	if err != nil {
		return envspec.Status{}, false
	}
	return e.currentStatus(), true
}

// Close lets go of every environment without stopping it: a control plane
// that exits leaves its environments running, for the next one to Adopt.
func (r *Runner) Close() {
	r.mu.Lock()
	envs := make([]*environment, 0, len(r.envs))
	for _, e := range r.envs {
		envs = append(envs, e)
	}
	r.envs = map[string]*environment{}
	r.mu.Unlock()
	for _, e := range envs {
		e.release()
	}
}

func (r *Runner) env(name string) (*environment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.envs[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotRunning)
	}
	return e, nil
}

// freePort returns a port free on every address that no other process of
// this runner was given.
func (r *Runner) freePort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		r.mu.Lock()
		taken := r.ports[port]
		r.ports[port] = true
		r.mu.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, errors.New("find a free port: none left")
}

// reservePorts marks ports (of an adopted layout) as taken.
func (r *Runner) reservePorts(ports ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ports {
		r.ports[p] = true
	}
}

func (r *Runner) releasePorts(ports ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ports {
		delete(r.ports, p)
	}
}

// childEnviron is the runner's environment without the variables that
// would configure a windsock process (each environment's own come from
// its home).
func (r *Runner) childEnviron(h home) []string {
	out := make([]string, 0, len(r.cfg.Environ)+1)
	for _, kv := range r.cfg.Environ {
		if strings.HasPrefix(kv, "WINDSOCK_") || strings.HasPrefix(kv, "AIRFLOW__") || strings.HasPrefix(kv, "AIRFLOW_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "WINDSOCK_HOME="+string(h))
}

// tail returns the end of a file, for an error message.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
