// Package secrets gives variables and connections as users and tasks see
// them: decrypted, and looked up the way Airflow's default secrets backends
// chain them: environment variables first (WINDSOCK_VAR_<KEY> /
// AIRFLOW_VAR_<KEY>, WINDSOCK_CONN_<ID> / AIRFLOW_CONN_<ID>), then the
// metadata store, whose secret columns are Fernet-encrypted when
// core.fernet_key is set.
//
// It also reads and writes the files `airflow variables export/import` and
// `airflow connections export/import` use, and Airflow's connection URI and
// JSON forms.
package secrets

import (
	"strings"
	"sync/atomic"

	"github.com/windsock/windsock/internal/osenv"
)

// Prefixes of the environment variables that define secrets. Windsock's
// own name is looked up before Airflow's.
const (
	windsockVarPrefix  = "WINDSOCK_VAR_"
	airflowVarPrefix   = "AIRFLOW_VAR_"
	windsockConnPrefix = "WINDSOCK_CONN_"
	airflowConnPrefix  = "AIRFLOW_CONN_"
)

// maxKeyLength is the width of variable.key and connection.conn_id.
const maxKeyLength = 250

// lookupSecretEnv looks a secret up under Windsock's prefix, then
// Airflow's, with the name upper-cased as Airflow's
// EnvironmentVariablesBackend does. It returns the variable's name too, for
// error messages that must not show the value.
func lookupSecretEnv(environ []string, windsockPrefix, airflowPrefix, name string) (value, envName string, ok bool) {
	upper := strings.ToUpper(name)
	for _, prefix := range []string{windsockPrefix, airflowPrefix} {
		if v, ok := osenv.Get(environ, prefix+upper); ok {
			return v, prefix + upper, true
		}
	}
	return "", "", false
}

// sensitiveNames is Airflow's DEFAULT_SENSITIVE_FIELDS.
var sensitiveNames = []string{
	"access_token", "api_key", "apikey", "authorization", "passphrase", "passwd",
	"password", "private_key", "secret", "token", "keyfile_dict", "service_account",
}

// extraSensitiveNames are [core] sensitive_var_conn_names, lower-cased.
var extraSensitiveNames atomic.Pointer[[]string]

// SetSensitiveVarConnNames adds [core] sensitive_var_conn_names to the
// words IsSensitiveName looks for. Like Airflow's secrets masker, which
// reads the option once, it holds for the whole process: an environment
// sets it when it opens.
func SetSensitiveVarConnNames(names []string) {
	var out []string
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			out = append(out, n)
		}
	}
	extraSensitiveNames.Store(&out)
}

// IsSensitiveName reports whether a variable key or connection extra field
// holds a secret by Airflow's rule: its name contains one of the sensitive
// words (or of [core] sensitive_var_conn_names), case-insensitively. Logs,
// the UI, the API and the event log mask such values.
func IsSensitiveName(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	extra := extraSensitiveNames.Load()
	for _, list := range [][]string{sensitiveNames, derefNames(extra)} {
		for _, s := range list {
			if strings.Contains(name, s) {
				return true
			}
		}
	}
	return false
}

func derefNames(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}
