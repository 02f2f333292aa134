package dagprocessor

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/windsock/windsock/internal/windsock"
)

// Start watches the roots, runs an initial pass, records a
// DagProcessorJob, then re-syncs on every change until Stop or ctx ends (the
// startstop shape). It returns once the first pass is stored.
//
// The job's heartbeat says that passes succeed, not merely that the
// process lives: after a failed pass (the DAG folder cannot be listed, the
// store refuses the write) the service stops beating, so /health reports
// it unhealthy, and retries a pass at each heartbeat interval until one
// succeeds. Bad entries in the folder are import errors, not failures.
func (p *Processor) Start(ctx context.Context) error {
	ctx, started, stopped, err := p.StartInit(ctx)
	if err != nil {
		return fmt.Errorf("start dag processor: %w", err)
	}
	watcher, jobID, err := p.startUp(ctx)
	if err != nil {
		stopped()
		return err
	}
	go func() {
		defer stopped()
		if watcher != nil {
			defer watcher.Close()
		}
		p.loop(ctx, watcher, jobID)
		endCtx, endCancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer endCancel()
		if err := p.cfg.Store.JobEnd(endCtx, jobID, windsock.JobSuccess, p.cfg.Clock()); err != nil {
			p.cfg.Logger.Warn("could not end dag processor job", "error", err)
		}
	}()
	started()
	return nil
}

// startUp is Start's synchronous part: the watches, the first pass and
// the job row.
func (p *Processor) startUp(ctx context.Context) (*fsnotify.Watcher, int64, error) {
	// The watches come before the first pass: a file written between the
	// pass's listing and the watch would raise no event and wait for the
	// rescan (dag_dir_list_interval, 5 minutes by default). The control
	// plane copies a bucket's DAGs in just as the processor starts, and
	// did hit that window. An event during the pass costs one more pass.
	watcher, err := p.newWatcher()
	if err != nil {
		// Parsing goes on without: a host running many environments runs
		// out of inotify instances (fs.inotify.max_user_instances, per
		// user), and a processor that stopped would leave its DAGs stale.
		p.cfg.Logger.Warn("cannot watch the DAG folder: polling it instead", "every", p.cfg.PollInterval, "error", err)
		watcher = nil
	} else {
		for _, r := range p.cfg.Roots {
			if r.Watch {
				p.watchTree(watcher, r.Dir)
			}
		}
		if p.cfg.PluginsFolder != "" {
			// Its modules are imported by DAG files (see pluginModules).
			p.watchTree(watcher, p.cfg.PluginsFolder)
		}
	}
	if _, err := p.Sync(ctx); err != nil {
		if watcher != nil {
			watcher.Close()
		}
		return nil, 0, fmt.Errorf("initial dag parse: %w", err)
	}
	job := &windsock.Job{
		State: windsock.JobRunning, JobType: windsock.JobTypeDagProcessor,
		StartDate: p.cfg.Clock(), LatestHeartbeat: p.cfg.Clock(),
		Hostname: p.cfg.Hostname, Unixname: unixName(), MetricsAddr: p.cfg.MetricsAddr,
	}
	if err := p.cfg.Store.JobCreate(ctx, job); err != nil {
		if watcher != nil {
			watcher.Close()
		}
		return nil, 0, fmt.Errorf("record dag processor job: %w", err)
	}
	return watcher, job.ID, nil
}

// watchTree adds a watch on dir and every directory below it. Directories
// that cannot be watched are logged and picked up by the periodic rescan.
func (p *Processor) watchTree(w *fsnotify.Watcher, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != dir && len(d.Name()) > 0 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if err := w.Add(path); err != nil {
				p.cfg.Logger.Warn("cannot watch directory; relying on periodic rescans", "dir", path, "error", err)
			}
		}
		return nil
	})
}

// loop passes over the roots on file events (w nil: every PollInterval)
// and every RescanInterval.
func (p *Processor) loop(ctx context.Context, w *fsnotify.Watcher, jobID int64) {
	every := p.cfg.RescanInterval
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	} else {
		every = min(every, p.cfg.PollInterval)
	}
	rescan := time.NewTicker(every)
	defer rescan.Stop()
	heartbeat := time.NewTicker(p.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	var debounce <-chan time.Time
	ok := true // the initial pass in Start succeeded
	for {
		select {
		case <-ctx.Done():
			return
		case ev, open := <-events:
			if !open {
				return
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					p.watchTree(w, ev.Name)
				}
			}
			if debounce == nil {
				debounce = time.After(p.cfg.Debounce)
			}
		case err, open := <-errs:
			if !open {
				return
			}
			p.cfg.Logger.Warn("dag folder watch error; the next rescan will catch up", "error", err)
		case <-debounce:
			debounce = nil
			ok = p.pass(ctx, jobID)
		case <-rescan.C:
			ok = p.pass(ctx, jobID)
		case <-heartbeat.C:
			if !ok || p.variableReadersDue() {
				ok = p.pass(ctx, jobID)
				continue
			}
			p.heartbeat(ctx, jobID)
		}
	}
}

// pass runs one pass and reports whether it succeeded; a successful pass
// is a heartbeat.
func (p *Processor) pass(ctx context.Context, jobID int64) bool {
	r, err := p.Sync(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.cfg.Logger.Error("dag folder pass failed; will retry", "error", err)
			if p.cfg.OnPassError != nil {
				p.cfg.OnPassError(err)
			}
		}
		return false
	}
	p.heartbeat(ctx, jobID)
	if r.Changed > 0 || r.Removed > 0 {
		p.cfg.Logger.Info("dag folder parsed", "changed_files", r.Changed, "removed_files", r.Removed, "dags_written", r.Written)
	}
	if p.cfg.OnPass != nil {
		p.cfg.OnPass(r)
	}
	return true
}

func (p *Processor) heartbeat(ctx context.Context, jobID int64) {
	if err := p.cfg.Store.JobHeartbeat(ctx, jobID, p.cfg.Clock()); err != nil && ctx.Err() == nil {
		p.cfg.Logger.Warn("dag processor heartbeat failed", "error", err)
	}
}

func unixName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
