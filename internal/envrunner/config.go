package envrunner

import (
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envspec"
)

// renderConfig writes windsock.cfg for spec: the runner's settings, the
// user's AirflowConfigurationOptions, and the keys kept from the previous
// file (generated on first start by config.EnsureFile).
func renderConfig(h home, spec envspec.Spec, dbURL string, single bool) error {
	fernetKey, secretKey := "", ""
	if old, err := config.Load(string(h), nil); err == nil {
		fernetKey, secretKey = old.Core.FernetKey, old.Webserver.SecretKey
	}
	conc := concurrency(spec)
	host := "127.0.0.1"
	if publicWeb(spec) {
		host = "0.0.0.0"
	}
	sections := map[string]map[string]string{}
	set := func(key, value string) {
		sec, opt, _ := strings.Cut(key, ".")
		if sections[sec] == nil {
			sections[sec] = map[string]string{}
		}
		sections[sec][opt] = value
	}
	// Defaults MWAA sets that a user may change.
	set("core.load_examples", "False")
	set("core.parallelism", strconv.Itoa(max(spec.MaxWorkers, 1)*conc))
	set("celery.worker_concurrency", strconv.Itoa(conc))
	for k, v := range spec.AirflowConfigurationOptions {
		k = strings.ToLower(strings.TrimSpace(k))
		if !strings.Contains(k, ".") || envspec.RunnerOwned(k) {
			continue
		}
		if strings.ContainsAny(v, "\r\n") || strings.ContainsAny(k, "[]=\r\n") {
			return fmt.Errorf("configuration option %s: %w", k, errBadOption)
		}
		set(k, v)
	}
	executor := "CeleryExecutor"
	if single {
		executor = "LocalExecutor"
	}
	set("core.executor", executor)
	set("core.dags_folder", h.dags())
	set("core.fernet_key", fernetKey)
	set("database.sql_alchemy_conn", dbURL)
	set("webserver.secret_key", secretKey)
	set("webserver.web_server_host", host)
	set("logging.base_log_folder", h.groupDir(spec.Name, GroupTask))
	set("scheduler.standalone_dag_processor", strconv.FormatBool(!single))

	var b strings.Builder
	b.WriteString("# Written by the control plane from the environment's configuration; edits are replaced on the next update.\n")
	secs := make([]string, 0, len(sections))
	for s := range sections {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for _, s := range secs {
		fmt.Fprintf(&b, "\n[%s]\n", s)
		opts := make([]string, 0, len(sections[s]))
		for o := range sections[s] {
			opts = append(opts, o)
		}
		sort.Strings(opts)
		for _, o := range opts {
			v := sections[s][o]
			if v == "" {
				continue // a key not generated yet: EnsureFile adds it
			}
			// configparser reads "%%" as "%".
			fmt.Fprintf(&b, "%s = %s\n", o, strings.ReplaceAll(v, "%", "%%"))
		}
	}
	if err := os.MkdirAll(string(h), 0o700); err != nil {
		return fmt.Errorf("create environment home: %w", err)
	}
	if err := atomicfile.Write(h.path(config.FileName), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write environment config: %w", err)
	}
	if _, err := config.EnsureFile(string(h), nil); err != nil {
		return err
	}
	// What the user's options made of the configuration must be valid
	// before any process sees it.
	cfg, err := config.Load(string(h), nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return fmt.Errorf("environment configuration: %w", err)
	}
	return nil
}

// schemaURL is base (a PostgreSQL URL) with the search_path set to the
// environment's own schema.
func schemaURL(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("database url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// schemaName is the PostgreSQL schema of environment name (checked by
// checkName: letters, digits, - and _).
func schemaName(name string) string {
	return "windsock_env_" + strings.ToLower(strings.ReplaceAll(name, "-", "_"))
}

// publicWeb reports whether the environment's web servers answer on every
// address (WebserverAccessMode PUBLIC_ONLY or PUBLIC_AND_PRIVATE) rather
// than on the loopback address only (PRIVATE_ONLY, MWAA's default).
func publicWeb(spec envspec.Spec) bool {
	return spec.WebserverAccessMode != "" && spec.WebserverAccessMode != "PRIVATE_ONLY"
}
