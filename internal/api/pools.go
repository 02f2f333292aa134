package api

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// poolJSON is Airflow's Pool: its settings and what task instances use of
// it now.
type poolJSON struct {
	Name            string  `json:"name"`
	Slots           int     `json:"slots"`
	OccupiedSlots   int     `json:"occupied_slots"`
	RunningSlots    int     `json:"running_slots"`
	QueuedSlots     int     `json:"queued_slots"`
	ScheduledSlots  int     `json:"scheduled_slots"`
	OpenSlots       int     `json:"open_slots"`
	DeferredSlots   int     `json:"deferred_slots"`
	Description     *string `json:"description"`
	IncludeDeferred bool    `json:"include_deferred"`
}

// poolInput is a Pool in a request body; nil fields were absent or null.
// The slot counts are read-only and refused as unknown fields.
type poolInput struct {
	Name            *string `json:"name"`
	Slots           *int    `json:"slots"`
	Description     *string `json:"description"`
	IncludeDeferred *bool   `json:"include_deferred"`
}

// poolFields are the fields of a Pool a request may set.
func poolFields() []string { return []string{"name", "slots", "description", "include_deferred"} }

// unlimitedSlots is Airflow's slots value for a pool without a limit.
const unlimitedSlots = -1

// poolOut computes a pool's usage as Airflow's Pool model does: occupied
// slots are running and queued ones, plus deferred ones when the pool
// counts them; an unlimited pool has -1 open slots.
func poolOut(p *windsock.Pool, usage map[windsock.TaskInstanceState]int) poolJSON {
	out := poolJSON{
		Name: p.Pool, Slots: p.Slots, Description: metaNullable(p.Description), IncludeDeferred: p.IncludeDeferred,
		RunningSlots:   usage[windsock.TaskStateRunning],
		QueuedSlots:    usage[windsock.TaskStateQueued],
		ScheduledSlots: usage[windsock.TaskStateScheduled],
		DeferredSlots:  usage[windsock.TaskStateDeferred],
	}
	out.OccupiedSlots = out.RunningSlots + out.QueuedSlots
	if p.IncludeDeferred {
		out.OccupiedSlots += out.DeferredSlots
	}
	out.OpenSlots = unlimitedSlots
	if p.Slots != unlimitedSlots {
		out.OpenSlots = p.Slots - out.OccupiedSlots
	}
	return out
}

var poolOrder = metaOrder[*windsock.Pool]{
	"id":    func(a, b *windsock.Pool) int { return cmp.Compare(a.ID, b.ID) },
	"name":  func(a, b *windsock.Pool) int { return cmp.Compare(a.Pool, b.Pool) },
	"slots": func(a, b *windsock.Pool) int { return cmp.Compare(a.Slots, b.Slots) },
}

func poolNotFound(name string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "Pool with name:'%s' not found", name)
}

func poolExists(name string) error {
	return windsock.Errorf(windsock.ECONFLICT, "Pool: %s already exists", name)
}

// getPools is Airflow's get_pools.
func (s *Server) getPools(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, poolOrder.fields())
	if err != nil {
		return err
	}
	pools, err := s.Store.PoolList(r.Context())
	if err != nil {
		return err
	}
	usage, err := s.Store.PoolSlotsByState(r.Context())
	if err != nil {
		return err
	}
	total := len(pools)
	out := []poolJSON{}
	for _, pool := range metaPage(pools, p, poolOrder, "id") {
		out = append(out, poolOut(pool, usage[pool.Pool]))
	}
	return writeJSON(w, http.StatusOK, collection("pools", out, total))
}

// getPool is Airflow's get_pool.
func (s *Server) getPool(w http.ResponseWriter, r *http.Request) error {
	return s.writePool(w, r, r.PathValue("pool_name"))
}

func (s *Server) writePool(w http.ResponseWriter, r *http.Request, name string) error {
	pool, err := s.Store.PoolGet(r.Context(), name)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return poolNotFound(name)
	}
	if err != nil {
		return err
	}
	usage, err := s.Store.PoolSlotsByState(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, poolOut(pool, usage[name]))
}

// postPool is Airflow's post_pool: name and slots are required.
func (s *Server) postPool(w http.ResponseWriter, r *http.Request) error {
	var in poolInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.requireAll(); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	pool := &windsock.Pool{Pool: *in.Name, Slots: *in.Slots}
	in.apply(pool, nil)
	err := s.Store.InTx(r.Context(), func(q store.Queries) error {
		if _, err := q.PoolGet(r.Context(), pool.Pool); err == nil {
			return poolExists(pool.Pool)
		} else if windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return err
		}
		return q.PoolUpsert(r.Context(), pool)
	})
	if err != nil {
		return err
	}
	return s.writePool(w, r, pool.Pool)
}

// requireAll refuses a body without name or slots, in Airflow's words.
func (in *poolInput) requireAll() error {
	var missing []string
	if in.Name == nil {
		missing = append(missing, "name")
	}
	if in.Slots == nil {
		missing = append(missing, "slots")
	}
	if len(missing) > 0 {
		return windsock.Errorf(windsock.EINVALID, "Missing required property(ies): %s", metaPythonList(missing))
	}
	return nil
}

// check refuses values a pool cannot have.
func (in *poolInput) check() error {
	if in.Name != nil {
		if err := metaCheckName("name", *in.Name, false); err != nil {
			return err
		}
	}
	if in.Slots != nil && *in.Slots < unlimitedSlots {
		return windsock.Errorf(windsock.EINVALID, "slots must be -1 (unlimited) or a number >= 0, got %d", *in.Slots)
	}
	return nil
}

// has reports whether the body has the named field.
func (in *poolInput) has(name string) bool {
	switch name {
	case "name":
		return in.Name != nil
	case "slots":
		return in.Slots != nil
	case "description":
		return in.Description != nil
	case "include_deferred":
		return in.IncludeDeferred != nil
	}
	return false
}

// apply copies the body's fields (only those in mask when it is not nil)
// onto p, except the name.
func (in *poolInput) apply(p *windsock.Pool, mask []string) {
	want := func(f string) bool { return in.has(f) && (mask == nil || slices.Contains(mask, f)) }
	if want("slots") {
		p.Slots = *in.Slots
	}
	if want("description") {
		p.Description = *in.Description
	}
	if want("include_deferred") {
		p.IncludeDeferred = *in.IncludeDeferred
	}
}

// patchPool is Airflow's patch_pool: without update_mask the body needs
// name and slots; a different name renames the pool. The default pool
// keeps its name.
func (s *Server) patchPool(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("pool_name")
	var in poolInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	mask, err := updateMask(r, poolFields())
	if err != nil {
		return err
	}
	if name == windsock.DefaultPoolName && (in.Name == nil || *in.Name != name) && !onlySlotFields(mask) {
		return windsock.Errorf(windsock.EINVALID, "Default Pool's name can't be modified")
	}
	if mask == nil {
		if err := in.requireAll(); err != nil {
			return err
		}
	}
	for _, f := range mask {
		if !in.has(f) {
			return windsock.Errorf(windsock.EINVALID, "'%s' in update_mask is not in the request body", f)
		}
	}
	if err := in.check(); err != nil {
		return err
	}
	newName := name
	if in.Name != nil && (mask == nil || slices.Contains(mask, "name")) {
		newName = *in.Name
	}
	err = s.Store.InTx(r.Context(), func(q store.Queries) error {
		pool, err := q.PoolGet(r.Context(), name)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return poolNotFound(name)
		}
		if err != nil {
			return err
		}
		in.apply(pool, mask)
		if newName == name {
			return q.PoolUpsert(r.Context(), pool)
		}
		if _, err := q.PoolGet(r.Context(), newName); err == nil {
			return poolExists(newName)
		} else if windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return err
		}
		if err := q.PoolDelete(r.Context(), name); err != nil {
			return err
		}
		pool.Pool = newName
		return q.PoolUpsert(r.Context(), pool)
	})
	if err != nil {
		return err
	}
	return s.writePool(w, r, newName)
}

// onlySlotFields reports whether an update_mask names only what the
// default pool lets change.
func onlySlotFields(mask []string) bool {
	if len(mask) == 0 {
		return false
	}
	for _, f := range mask {
		if f != "slots" && f != "include_deferred" {
			return false
		}
	}
	return true
}

// deletePool is Airflow's delete_pool.
func (s *Server) deletePool(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("pool_name")
	if name == windsock.DefaultPoolName {
		return windsock.Errorf(windsock.EINVALID, "Default Pool can't be deleted")
	}
	err := s.Store.PoolDelete(r.Context(), name)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return poolNotFound(name)
	}
	if err != nil {
		return err
	}
	return noContent(w)
}
