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
// written and given back theirs (the import does that), except the DAGs
// src brings, which take src's states. It goes through the package
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
	if err := whilePaused(ctx, from, func() error {
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

// whilePaused pauses every unpaused DAG of st, runs fn, and unpauses them
// again, whatever fn returned.
func whilePaused(ctx context.Context, st store.Store, fn func() error) error {
	paused := false
	dags, err := st.DAGList(ctx, &store.DAGListParams{Paused: &paused})
	if err != nil {
		return err
	}
	active := map[string]bool{}
	for _, d := range dags {
		if err := st.DAGSetPaused(ctx, d.DagID, true); err != nil {
			return errors.Join(err, unpause(st, active))
		}
		active[d.DagID] = true
	}
	return errors.Join(fn(), unpause(st, active))
}

func unpause(st store.Store, ids map[string]bool) error {
	// Given back even when the caller's context has ended: a DAG left
	// paused by an interrupted move is a silent outage.
	ctx := context.Background()
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if err := st.DAGSetPaused(ctx, id, false); err != nil {
			errs = append(errs, fmt.Errorf("unpause %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
