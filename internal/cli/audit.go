package cli

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// auditedCommands maps the commands that change state to the name of the
// Airflow 2.10 function its @action_cli decorator wraps: the event log row
// of a call is "cli_" + that name, so audits read as Airflow's do.
var auditedCommands = map[string]string{
	"dags trigger":         "dag_trigger",
	"dags pause":           "dag_pause",
	"dags unpause":         "dag_unpause",
	"dags delete":          "dag_delete",
	"dags backfill":        "dag_backfill",
	"dags test":            "dag_test",
	"dags reserialize":     "dag_reserialize",
	"tasks clear":          "task_clear",
	"tasks run":            "task_run",
	"tasks test":           "task_test",
	"variables set":        "variables_set",
	"variables delete":     "variables_delete",
	"variables import":     "variables_import",
	"connections add":      "connections_add",
	"connections delete":   "connections_delete",
	"connections import":   "connections_import",
	"pools set":            "pool_set",
	"pools delete":         "pool_delete",
	"pools import":         "pool_import",
	"users create":         "users_create",
	"users delete":         "users_delete",
	"users add-role":       "users_manage_role",
	"users remove-role":    "users_manage_role",
	"users reset-password": "user_reset_password",
	"users import":         "users_import",
	"roles create":         "roles_create",
	"roles delete":         "roles_delete",
	"roles add-perms":      "roles_add_perms",
	"roles del-perms":      "roles_del_perms",
	"db clean":             "cleanup_tables",
}

// auditEvent returns the event log row for a call of cmd with args, or nil
// when the command is not audited. program and argv are the command line
// as typed, for full_command.
func auditEvent(cmd *cobra.Command, args []string, program string, argv []string) *windsock.EventLog {
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	name, ok := auditedCommands[path]
	if !ok {
		return nil
	}
	e := &windsock.EventLog{Event: "cli_" + name, Owner: cliOwner()}
	group, _, _ := strings.Cut(path, " ")
	// As Airflow takes dag_id and task_id from the parsed arguments.
	if (group == "dags" || group == "tasks") && len(args) > 0 {
		e.DagID = args[0]
		if group == "tasks" && len(args) > 1 && path != "tasks clear" {
			e.TaskID = args[1]
		}
	}
	var values []string
	if path == "variables set" && len(args) == 2 && secrets.IsSensitiveName(args[0]) {
		values = append(values, args[1]) // the value of a key named like a secret
	}
	extra, err := json.Marshal(map[string]string{
		"host_name":    hostname(),
		"full_command": pythonList(maskCommandLine(append([]string{program}, argv...), values...)),
	})
	if err == nil {
		e.Extra = string(extra)
	}
	return e
}

// maskedValue replaces a secret on the recorded command line, as Airflow's
// _build_metrics writes it.
const maskedValue = "********"

// secretFlags take a secret as their value.
var secretFlags = map[string]bool{"-p": true, "--password": true, "--conn-password": true}

// maskCommandLine masks the secrets a command line may carry before it is
// stored: the values of -p/--password (users) and --conn-password, the
// password in a --conn-uri, a --conn-json or --conn-extra holding a secret
// field, and the value of `variables set` for a key named like a secret.
// Airflow masks the first two; the rest leak the same secrets, so they are
// masked too; values are further secrets to mask wherever they appear
// as an argument. (A small local rule: the API's event log masks request
// parameters with its own; see notes/clicmds.md.)
func maskCommandLine(argv []string, values ...string) []string {
	out := append([]string(nil), argv...)
	group := ""
	if len(out) > 1 {
		group = out[1]
	}
	for i := 1; i < len(out); i++ {
		a := out[i]
		name, value, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(name, "-") {
			// A JSON argument (a variable's value) keeps its shape with
			// its secret fields masked, as the API's event log does.
			out[i] = secrets.RedactJSONText(a)
			continue
		}
		if group == "users" && strings.HasPrefix(a, "-p") && len(a) > 2 && a[2] != '=' {
			// The short flag with its value attached: -pS3cret.
			out[i] = "-p" + maskedValue
			continue
		}
		mask := func(v string) string { return secrets.RedactJSONText(maskFlagValue(name, v, group)) }
		if hasValue {
			out[i] = name + "=" + mask(value)
		} else if i+1 < len(out) && mask(out[i+1]) != out[i+1] {
			out[i+1] = mask(out[i+1])
			i++
		}
	}
	for i := 1; i < len(out); i++ {
		if slices.Contains(values, out[i]) {
			out[i] = maskedValue
		}
	}
	return out
}

// maskFlagValue returns the value of flag as it may be recorded.
func maskFlagValue(flag, value, group string) string {
	switch {
	case secretFlags[flag] && (flag != "-p" || group == "users"):
		return maskedValue
	case flag == "--conn-uri":
		u, err := url.Parse(value)
		if err != nil {
			return maskedValue
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return strings.Replace(u.String(), "xxxxx", maskedValue, 1)
		}
		return value
	case flag == "--conn-json" || flag == "--conn-extra":
		var fields map[string]any
		if json.Unmarshal([]byte(value), &fields) != nil {
			return value
		}
		for k := range fields {
			if secrets.IsSensitiveName(k) {
				return maskedValue
			}
		}
	}
	return value
}

// pythonList renders argv as Python prints a list of strings, which is
// what Airflow stores as full_command.
func pythonList(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		q := "'"
		if strings.Contains(a, "'") && !strings.Contains(a, `"`) {
			q = `"`
		}
		a = strings.ReplaceAll(a, `\`, `\\`)
		if q == "'" {
			a = strings.ReplaceAll(a, "'", `\'`)
		}
		parts[i] = q + a + q
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// recordAudit writes the audit row of an audited command before it runs,
// as Airflow's action_cli does on pre-execution. A command whose
// configuration cannot load reports that itself; any other failure to
// record is a warning: the user's command still runs.
func (r *runner) recordAudit(ctx context.Context, cmd *cobra.Command, args []string) {
	e := auditEvent(cmd, args, r.program(), r.argv)
	if e == nil {
		return
	}
	cfg, err := r.loadConfig()
	if err != nil {
		return
	}
	e.Dttm = r.clock().UTC()
	err = func() error {
		env, err := r.openEnvWith(ctx, cfg)
		if err != nil {
			return err
		}
		defer env.Close()
		return env.Store.EventLogInsert(ctx, e)
	}()
	if err != nil {
		r.warnf("WARNING: could not record %s in the audit log: %v", e.Event, err)
	}
}
