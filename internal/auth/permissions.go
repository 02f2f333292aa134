package auth

import (
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// Actions, as Airflow's FAB security model names them.
const (
	ActionRead       = "can_read"
	ActionEdit       = "can_edit"
	ActionCreate     = "can_create"
	ActionDelete     = "can_delete"
	ActionMenuAccess = "menu_access"
)

// Resources, as Airflow 2.10 names them (airflow/security/permissions.py).
const (
	ResourceAdminMenu       = "Admin"
	ResourceAuditLog        = "Audit Logs"
	ResourceBrowseMenu      = "Browse"
	ResourceClusterActivity = "Cluster Activity"
	ResourceConfig          = "Configurations"
	ResourceConnection      = "Connections"
	ResourceDAG             = "DAGs"
	ResourceDAGCode         = "DAG Code"
	ResourceDAGDependencies = "DAG Dependencies"
	ResourceDAGRun          = "DAG Runs"
	ResourceDAGWarning      = "DAG Warnings"
	ResourceDataset         = "Datasets"
	ResourceDocs            = "Documentation"
	ResourceDocsMenu        = "Docs"
	ResourceImportError     = "ImportError"
	ResourceJob             = "Jobs"
	ResourceMyPassword      = "My Password"
	ResourceMyProfile       = "My Profile"
	ResourcePassword        = "Passwords"
	ResourcePermission      = "Permission Views"
	ResourceAction          = "Permissions"
	ResourcePlugin          = "Plugins"
	ResourcePool            = "Pools"
	ResourceProvider        = "Providers"
	ResourceResource        = "View Menus"
	ResourceRole            = "Roles"
	ResourceSLAMiss         = "SLA Misses"
	ResourceTaskInstance    = "Task Instances"
	ResourceTaskLog         = "Task Logs"
	ResourceTaskReschedule  = "Task Reschedules"
	ResourceTrigger         = "Triggers"
	ResourceUser            = "Users"
	ResourceVariable        = "Variables"
	ResourceWebsite         = "Website"
	ResourceXCom            = "XComs"

	// ResourceDAGPrefix prefixes a per-DAG resource: "DAG:etl".
	ResourceDAGPrefix = "DAG:"
	// ResourceDAGRunPrefix prefixes a per-DAG runs resource: "DAG Run:etl".
	ResourceDAGRunPrefix = "DAG Run:"
)

// Built-in role names.
const (
	RoleAdmin  = "Admin"
	RoleOp     = "Op"
	RoleUser   = "User"
	RoleViewer = "Viewer"
	RolePublic = "Public"
)

// Actions returns the known actions.
func Actions() []string {
	return []string{ActionRead, ActionEdit, ActionCreate, ActionDelete, ActionMenuAccess}
}

// Resources returns the known global resources (per-DAG ones are
// ResourceDAGPrefix or ResourceDAGRunPrefix followed by a dag_id).
func Resources() []string {
	return []string{
		ResourceAdminMenu, ResourceAuditLog, ResourceBrowseMenu, ResourceClusterActivity, ResourceConfig,
		ResourceConnection, ResourceDAG, ResourceDAGCode, ResourceDAGDependencies, ResourceDAGRun,
		ResourceDAGWarning, ResourceDataset, ResourceDocs, ResourceDocsMenu, ResourceImportError, ResourceJob,
		ResourceMyPassword, ResourceMyProfile, ResourcePassword, ResourcePermission, ResourceAction,
		ResourcePlugin, ResourcePool, ResourceProvider, ResourceResource, ResourceRole, ResourceSLAMiss,
		ResourceTaskInstance, ResourceTaskLog, ResourceTaskReschedule, ResourceTrigger, ResourceUser,
		ResourceVariable, ResourceWebsite, ResourceXCom,
	}
}

// DAGResource returns the per-DAG resource of dagID: "DAG:<dag_id>".
func DAGResource(dagID string) string { return ResourceDAGPrefix + dagID }

// DAGRunResource returns the per-DAG runs resource of dagID:
// "DAG Run:<dag_id>".
func DAGRunResource(dagID string) string { return ResourceDAGRunPrefix + dagID }

// CheckPermission returns an EINVALID error unless p names a known action
// and a known or per-DAG resource, with Airflow's wording.
func CheckPermission(p windsock.Permission) error {
	if !knownActions[p.Action] {
		return windsock.Errorf(windsock.EINVALID, "The specified action: %q was not found", p.Action)
	}
	for _, prefix := range []string{ResourceDAGPrefix, ResourceDAGRunPrefix} {
		if id, ok := strings.CutPrefix(p.Resource, prefix); ok && id != "" {
			return nil
		}
	}
	if !knownResources[p.Resource] {
		return windsock.Errorf(windsock.EINVALID, "The specified resource: %q was not found", p.Resource)
	}
	return nil
}

// knownActions and knownResources are Actions and Resources as sets, built
// once: a role editor's save checks thousands of permissions.
var knownActions, knownResources = nameSet(Actions()), nameSet(Resources())

func nameSet(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

func perms(action string, resources ...string) []windsock.Permission {
	out := make([]windsock.Permission, len(resources))
	for i, r := range resources {
		out[i] = windsock.Permission{Action: action, Resource: r}
	}
	return out
}

// viewerPermissions, userPermissions, opPermissions and adminPermissions
// are Airflow 2.10's default sets (the FAB auth manager's VIEWER_, USER_,
// OP_ and ADMIN_PERMISSIONS); each role has its own and those of the
// roles below it.
func viewerPermissions() []windsock.Permission {
	return slices.Concat(
		perms(ActionRead, ResourceAuditLog, ResourceDAG, ResourceDAGDependencies, ResourceDAGCode,
			ResourceDAGRun, ResourceDataset, ResourceClusterActivity, ResourcePool, ResourceImportError,
			ResourceDAGWarning, ResourceJob, ResourceMyPassword, ResourceMyProfile, ResourcePlugin,
			ResourceSLAMiss, ResourceTaskInstance, ResourceTaskLog, ResourceXCom, ResourceWebsite),
		perms(ActionEdit, ResourceMyPassword, ResourceMyProfile),
		perms(ActionMenuAccess, ResourceBrowseMenu, ResourceDAG, ResourceDAGDependencies, ResourceDAGRun,
			ResourceDataset, ResourceClusterActivity, ResourceDocs, ResourceDocsMenu, ResourceJob,
			ResourceAuditLog, ResourcePlugin, ResourceSLAMiss, ResourceTaskInstance),
	)
}

func userPermissions() []windsock.Permission {
	return slices.Concat(
		perms(ActionEdit, ResourceDAG, ResourceTaskInstance, ResourceDAGRun),
		perms(ActionDelete, ResourceDAG, ResourceTaskInstance, ResourceDAGRun),
		perms(ActionCreate, ResourceTaskInstance, ResourceDAGRun),
	)
}

func opPermissions() []windsock.Permission {
	return slices.Concat(
		perms(ActionRead, ResourceConfig, ResourceConnection, ResourceProvider, ResourceVariable),
		perms(ActionMenuAccess, ResourceAdminMenu, ResourceConfig, ResourceConnection, ResourcePool,
			ResourceVariable, ResourceProvider, ResourceXCom),
		perms(ActionCreate, ResourceConnection, ResourcePool, ResourceVariable),
		perms(ActionEdit, ResourceConnection, ResourcePool, ResourceVariable),
		perms(ActionDelete, ResourceConnection, ResourcePool, ResourceVariable, ResourceXCom),
		// Dataset events posted through the API and queued events dropped
		// (Airflow 2.9+).
		perms(ActionCreate, ResourceDataset),
		perms(ActionDelete, ResourceDataset),
	)
}

// adminPermissions adds to Op's what FAB's security views give an admin:
// users, roles and the permission lists. (Admin is also granted every
// permission at check time, as FAB's admin role is.)
func adminPermissions() []windsock.Permission {
	return slices.Concat(
		perms(ActionRead, ResourceTaskReschedule, ResourceTrigger, ResourcePassword, ResourceRole,
			ResourceUser, ResourceAction, ResourceResource, ResourcePermission),
		perms(ActionMenuAccess, ResourceTaskReschedule, ResourceTrigger, ResourceRole, ResourceUser,
			ResourceAction, ResourceResource, ResourcePermission),
		perms(ActionEdit, ResourcePassword, ResourceRole, ResourceUser),
		perms(ActionCreate, ResourceRole, ResourceUser),
		perms(ActionDelete, ResourceRole, ResourceUser),
	)
}

// BuiltinRoles returns Airflow's default roles with their permissions.
func BuiltinRoles() []windsock.Role {
	viewer := viewerPermissions()
	user := slices.Concat(viewer, userPermissions())
	op := slices.Concat(user, opPermissions())
	admin := slices.Concat(op, adminPermissions())
	return []windsock.Role{
		{Name: RoleAdmin, Permissions: admin},
		{Name: RoleOp, Permissions: op},
		{Name: RoleUser, Permissions: user},
		{Name: RoleViewer, Permissions: viewer},
		{Name: RolePublic, Permissions: []windsock.Permission{}},
	}
}
