package auth

import (
	"slices"
	"strings"
)

// Airflow's [api] auth_backends module names that Windsock understands.
const (
	// BackendDefault is Airflow's "no authentication" backend: every
	// request acts as an anonymous Admin.
	BackendDefault   = "airflow.api.auth.backend.default"
	BackendBasicAuth = "airflow.api.auth.backend.basic_auth"
	BackendSession   = "airflow.api.auth.backend.session"
	BackendDenyAll   = "airflow.api.auth.backend.deny_all"
)

// Backends says which ways of authenticating api.auth_backends allows.
// Windsock's bearer API tokens are always accepted unless DenyAll.
type Backends struct {
	// Disabled turns authentication off: only when the list names
	// BackendDefault, never by omission.
	Disabled bool
	Basic    bool
	Session  bool
	DenyAll  bool
}

// ParseBackends reads api.auth_backends. Names are matched without
// surrounding space; unknown ones (Kerberos, Google OpenID) are ignored.
func ParseBackends(names []string) Backends {
	trimmed := make([]string, len(names))
	for i, n := range names {
		trimmed[i] = strings.TrimSpace(n)
	}
	has := func(name string) bool { return slices.Contains(trimmed, name) }
	return Backends{
		Disabled: has(BackendDefault),
		Basic:    has(BackendBasicAuth),
		Session:  has(BackendSession),
		DenyAll:  has(BackendDenyAll),
	}
}

// StartupWarning returns the warning a server logs at every start when
// api.auth_backends turns authentication off, and "" otherwise.
func StartupWarning(authBackends []string) string {
	if !ParseBackends(authBackends).Disabled {
		return ""
	}
	return "authentication is OFF: api.auth_backends contains " + BackendDefault +
		", so every API request acts as an anonymous Admin; remove it to require credentials"
}
