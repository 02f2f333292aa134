package envrunner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// migrateLayout is the layout a move between environments goes through:
// mwaa-dr's newest, the one that keeps the most columns, so that what
// `db export` and `db import` round-trip is what a move keeps.
const migrateLayout = "mwaa-dr"

// MoveMetadata copies environment src's metadata (runs, task instances,
// XComs, variables, connections, pools, the audit log...) into dst, for
// `windsock env migrate` and `env clone --with-metadata`, as the
// migration guide moves an environment: src's DAGs are paused while it is
// read and given back their states after; dst's are paused while it is
// written (the import does that), and end with src's states for the DAGs
// src has, their own for the others. It goes through the package
// metaport's export and import, so it reports per table as `db import`
// does, and a second move of the same environments changes nothing (the
// import's checkpoints are kept under a name of src's).
func (r *Runner) MoveMetadata(ctx context.Context, src, dst string) (*metaport.Report, error) {
	if src == dst {
		return nil, windsock.Errorf(windsock.EINVALID, "migrate %s into itself", src)
	}
	from, fromKeys, err := r.openEnvStore(ctx, src)
	if err != nil {
		return nil, err
	}
	defer from.Close()
	to, toKeys, err := r.openEnvStore(ctx, dst)
	if err != nil {
		return nil, err
	}
	defer to.Close()

	// The export holds secrets in clear: a folder only the control
	// plane's user reads (MkdirTemp makes it 0700), removed after.
	dir, err := os.MkdirTemp(r.cfg.Home, ".migrate-")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer os.RemoveAll(dir)
	states, err := pausedStates(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s's DAGs: %w", src, err)
	}
	if err := whilePaused(ctx, from, states, func() error {
		_, err := metaport.Export(ctx, from, dir, metaport.Layouts[migrateLayout], fromKeys)
		return err
	}); err != nil {
		return nil, fmt.Errorf("migrate: export %s: %w", src, err)
	}
	csv, err := metaport.OpenCSVSource(dir, migrateLayout)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	rep, err := metaport.Import(ctx, to, csv.Named("windsock environment "+src), metaport.Options{TargetKeys: toKeys})
	if err != nil {
		return rep, fmt.Errorf("migrate: import into %s: %w", dst, err)
	}
	// The export was taken with src's DAGs paused, and the import keeps
	// the states of the DAGs dst had parsed already: src's states, read
	// before the move, are what dst's copies of its DAGs end with, as
	// the guide's restore unpauses what was active.
	if err := setPaused(ctx, to, states); err != nil {
		return rep, fmt.Errorf("migrate: paused states in %s: %w", dst, err)
	}
	return rep, nil
}

// openEnvStore opens an environment's metadata store and Fernet keys from
// the configuration its home holds.
func (r *Runner) openEnvStore(ctx context.Context, name string) (store.Store, *fernet.Keys, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	dir := EnvironmentHome(r.cfg.Home, name)
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, windsock.Errorf(windsock.ENOTFOUND, "environment %s has no home", name)
	}
	cfg, err := config.Load(dir, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("environment %s: %w", name, err)
	}
	keys, err := fernet.Parse(cfg.Core.FernetKey)
	if err != nil {
		return nil, nil, fmt.Errorf("environment %s: core.fernet_key: %w", name, err)
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("environment %s: %w", name, err)
	}
	return st, keys, nil
}

// pausedStates reads every DAG's paused state.
func pausedStates(ctx context.Context, st store.Store) (map[string]bool, error) {
	dags, err := st.DAGList(ctx, &store.DAGListParams{})
	if err != nil {
		return nil, err
	}
	states := make(map[string]bool, len(dags))
	for _, d := range dags {
		states[d.DagID] = d.IsPaused
	}
	return states, nil
}

// whilePaused pauses the DAGs that states says are unpaused, runs fn and
// gives them their states back, whatever fn returned (even once ctx has
// ended: a DAG left paused by an interrupted move is a silent outage).
func whilePaused(ctx context.Context, st store.Store, states map[string]bool, fn func() error) error {
	active := map[string]bool{}
	for id, paused := range states {
		if !paused {
			active[id] = false
		}
	}
	pause := make(map[string]bool, len(active))
	for id := range active {
		pause[id] = true
	}
	if err := setPaused(ctx, st, pause); err != nil {
		return errors.Join(err, setPaused(context.WithoutCancel(ctx), st, active))
	}
	return errors.Join(fn(), setPaused(context.WithoutCancel(ctx), st, active))
}

// setPaused sets the paused state of each DAG of states that st has.
func setPaused(ctx context.Context, st store.Store, states map[string]bool) error {
	has, err := pausedStates(ctx, st)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(states)) {
		if current, ok := has[id]; ok && current != states[id] {
			if err := st.DAGSetPaused(ctx, id, states[id]); err != nil {
				errs = append(errs, fmt.Errorf("set %s paused=%t: %w", id, states[id], err))
			}
		}
	}
	return errors.Join(errs...)
}
