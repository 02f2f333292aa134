package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// DefaultAuthorizerTTL is how long an Authorizer reuses what it read.
const DefaultAuthorizerTTL = 5 * time.Second

// Authorizer answers whether a user may do an action on a resource, with
// Airflow's FAB model: a user has the permissions of its roles; Admin has
// every permission; a DAG's access_control grants its roles actions on that
// DAG. Role permissions and the access_control of every DAG are read from
// the store and reused for TTL, so that a change made by another process
// (the CLI) shows within seconds and a request costs no query; Invalidate
// drops them at once after a change made through this process.
//
// A failure to read the store denies, and is logged.
type Authorizer struct {
	Store  store.Queries
	Clock  func() time.Time
	Logger *slog.Logger
	// TTL defaults to DefaultAuthorizerTTL.
	TTL time.Duration

	roles    atomic.Pointer[roleSnapshot]
	rolesMu  sync.Mutex
	access   atomic.Pointer[accessSnapshot]
	accessMu sync.Mutex
}

type roleSnapshot struct {
	at    time.Time
	perms map[string]map[windsock.Permission]bool // role -> granted
}

// accessSnapshot is the access_control of every stored DAG. dags keeps
// each DAG's hash so that a refresh reads only the DAGs that changed.
type accessSnapshot struct {
	at   time.Time
	dags map[string]dagAccess
}

type dagAccess struct {
	hash  string
	roles map[string][]string // role -> actions, normalised
}

// Invalidate makes the next check read roles and DAG access again.
func (a *Authorizer) Invalidate() {
	a.roles.Store(nil)
	if s := a.access.Load(); s != nil {
		a.access.Store(&accessSnapshot{dags: s.dags})
	}
}

// Can reports whether user may do action on resource. For a per-DAG
// resource ("DAG:<dag_id>") the DAG's access_control counts too.
func (a *Authorizer) Can(ctx context.Context, user *windsock.User, action, resource string) bool {
	if user == nil {
		return false
	}
	if slices.Contains(user.Roles, RoleAdmin) {
		return true
	}
	roles, ok := a.roleSnapshot(ctx)
	if !ok {
		return false
	}
	p := windsock.Permission{Action: action, Resource: resource}
	for _, r := range user.Roles {
		if roles.perms[r][p] {
			return true
		}
	}
	if dagID, isDAG := strings.CutPrefix(resource, ResourceDAGPrefix); isDAG {
		return a.accessControlGrants(ctx, user, action, dagID)
	}
	return false
}

// CanDAG reports whether user may do action (can_read, can_edit,
// can_delete) on the DAG dagID: through the global "DAGs" resource, the
// DAG's own "DAG:<dag_id>" resource, or the DAG's access_control. As in
// Airflow, a user who may edit a DAG may also read it.
func (a *Authorizer) CanDAG(ctx context.Context, user *windsock.User, action, dagID string) bool {
	for _, act := range impliedBy(action) {
		if a.Can(ctx, user, act, ResourceDAG) || a.Can(ctx, user, act, DAGResource(dagID)) {
			return true
		}
	}
	return false
}

// CanDAGEntity reports whether user may do action on something that
// belongs to the DAG dagID, such as its runs ("DAG Runs") or task instances
// ("Task Instances"), as Airflow's FAB auth manager decides it: the user
// must be able to read the DAG (or edit it, for any action but can_read)
// and have action on resource; for "DAG Runs" the per-DAG "DAG Run:<dag_id>"
// resource also counts.
func (a *Authorizer) CanDAGEntity(ctx context.Context, user *windsock.User, action, resource, dagID string) bool {
	dagAction := ActionEdit
	if action == ActionRead {
		dagAction = ActionRead
	}
	if !a.CanDAG(ctx, user, dagAction, dagID) {
		return false
	}
	if a.Can(ctx, user, action, resource) {
		return true
	}
	return resource == ResourceDAGRun && a.Can(ctx, user, action, DAGRunResource(dagID))
}

// ReadableDAGs returns which DAGs user may read: all of them (all true,
// ids nil) or the ids in the map, for filtering lists.
func (a *Authorizer) ReadableDAGs(ctx context.Context, user *windsock.User) (all bool, ids map[string]bool) {
	ids = map[string]bool{}
	if user == nil {
		return false, ids
	}
	if a.Can(ctx, user, ActionRead, ResourceDAG) || a.Can(ctx, user, ActionEdit, ResourceDAG) {
		return true, nil
	}
	roles, ok := a.roleSnapshot(ctx)
	if !ok {
		return false, ids
	}
	for _, r := range user.Roles {
		for p := range roles.perms[r] {
			dagID, isDAG := strings.CutPrefix(p.Resource, ResourceDAGPrefix)
			if isDAG && (p.Action == ActionRead || p.Action == ActionEdit) {
				ids[dagID] = true
			}
		}
	}
	access, ok := a.accessSnapshot(ctx)
	if !ok {
		return false, ids
	}
	for dagID, d := range access.dags {
		for _, r := range user.Roles {
			if slices.Contains(d.roles[r], ActionRead) || slices.Contains(d.roles[r], ActionEdit) {
				ids[dagID] = true
			}
		}
	}
	return false, ids
}

// impliedBy returns the actions that grant action: editing a DAG implies
// reading it.
func impliedBy(action string) []string {
	if action == ActionRead {
		return []string{ActionRead, ActionEdit}
	}
	return []string{action}
}

func (a *Authorizer) accessControlGrants(ctx context.Context, user *windsock.User, action, dagID string) bool {
	access, ok := a.accessSnapshot(ctx)
	if !ok {
		return false
	}
	d, ok := access.dags[dagID]
	if !ok {
		return false
	}
	for _, r := range user.Roles {
		if slices.Contains(d.roles[r], action) {
			return true
		}
	}
	return false
}

func (a *Authorizer) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock()
}

func (a *Authorizer) ttl() time.Duration {
	if a.TTL <= 0 {
		return DefaultAuthorizerTTL
	}
	return a.TTL
}

func (a *Authorizer) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Authorizer) fresh(at time.Time) bool {
	return !at.IsZero() && a.now().Sub(at) < a.ttl()
}

func (a *Authorizer) roleSnapshot(ctx context.Context) (*roleSnapshot, bool) {
	if s := a.roles.Load(); s != nil && a.fresh(s.at) {
		return s, true
	}
	a.rolesMu.Lock()
	defer a.rolesMu.Unlock()
	if s := a.roles.Load(); s != nil && a.fresh(s.at) {
		return s, true
	}
	all, err := a.Store.RolePermissionsList(ctx, nil)
	if err != nil {
		a.logger().Error("authorize: read role permissions", "error", err)
		return nil, false
	}
	s := &roleSnapshot{at: a.now(), perms: make(map[string]map[windsock.Permission]bool, len(all))}
	for role, ps := range all {
		set := make(map[windsock.Permission]bool, len(ps))
		for _, p := range ps {
			set[p] = true
		}
		s.perms[role] = set
	}
	a.roles.Store(s)
	return s, true
}

func (a *Authorizer) accessSnapshot(ctx context.Context) (*accessSnapshot, bool) {
	if s := a.access.Load(); s != nil && a.fresh(s.at) {
		return s, true
	}
	a.accessMu.Lock()
	defer a.accessMu.Unlock()
	old := a.access.Load()
	if old != nil && a.fresh(old.at) {
		return old, true
	}
	hashes, err := a.Store.SerializedDAGHashes(ctx)
	if err != nil {
		a.logger().Error("authorize: read DAG hashes", "error", err)
		return nil, false
	}
	s := &accessSnapshot{at: a.now(), dags: make(map[string]dagAccess, len(hashes))}
	for dagID, hash := range hashes {
		if old != nil {
			if d, ok := old.dags[dagID]; ok && d.hash == hash {
				s.dags[dagID] = d
				continue
			}
		}
		sd, err := a.Store.SerializedDAGGet(ctx, dagID)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			continue // deleted since the hashes were read
		}
		if err != nil {
			a.logger().Error("authorize: read serialized DAG", "dag_id", dagID, "error", err)
			return nil, false
		}
		s.dags[dagID] = dagAccess{hash: sd.DagHash, roles: parseAccessControl(sd.Data)}
	}
	a.access.Store(s)
	return s, true
}

// parseAccessControl reads the access_control of a serialized DAG, with
// Airflow's deprecated action names mapped to the current ones. A DAG
// whose definition does not parse grants nothing.
func parseAccessControl(data []byte) map[string][]string {
	var d struct {
		AccessControl map[string][]string `json:"access_control"`
	}
	if err := json.Unmarshal(data, &d); err != nil || len(d.AccessControl) == 0 {
		return nil
	}
	out := make(map[string][]string, len(d.AccessControl))
	for role, actions := range d.AccessControl {
		for _, act := range actions {
			switch act {
			case "can_dag_read":
				act = ActionRead
			case "can_dag_edit":
				act = ActionEdit
			}
			out[role] = append(out[role], act)
		}
	}
	return out
}
