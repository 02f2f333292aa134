package cli

import (
	"fmt"
	"log/slog"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/mwaa"
)

// The control plane's own operations (env logs, env migrate) need these
// of its runner.
var (
	_ mwaa.LogReader     = (*envrunner.Runner)(nil)
	_ mwaa.MetadataMover = (*envrunner.Runner)(nil)
)

// environmentRunner is the envspec.Runner `windsock controlplane` drives:
// internal/envrunner, configured from the control plane's own windsock.cfg
// (in its home) and WINDSOCK__ variables:
//
//   - database.sql_alchemy_conn: a postgresql:// URL gives each environment
//     a schema of its own there, with separate scheduler and worker
//     processes; the default (SQLite) gives each its own file and one
//     process;
//   - controlplane.s3_endpoint_url (with controlplane.s3_access_key_id,
//     controlplane.s3_secret_access_key and controlplane.s3_region, else
//     the AWS_* variables): where the source buckets are read from; unset,
//     buckets are folders under the home's buckets/.
func (r *runner) environmentRunner(home string, logger *slog.Logger, m *metrics.ControlPlane) (envspec.Runner, error) {
	cfg, err := config.Load(home, r.io.Environ)
	if err != nil {
		return nil, fmt.Errorf("control plane config: %w", err)
	}
	rc := envrunner.Config{Home: home, Logger: logger, Metrics: m}
	if _, sqlite := cfg.SQLitePath(); !sqlite {
		rc.DatabaseURL = cfg.Database.SQLAlchemyConn
	}
	opt := func(name string) string {
		o, err := cfg.Get("controlplane", name)
		if err != nil {
			return ""
		}
		return o.Value
	}
	if endpoint := opt("s3_endpoint_url"); endpoint != "" {
		set := awss3.SettingsFrom(nil, r.io.Environ)
		set.Endpoint = endpoint
		if id := opt("s3_access_key_id"); id != "" {
			set.AccessKeyID, set.SecretAccessKey, set.SessionToken = id, opt("s3_secret_access_key"), ""
		}
		if region := opt("s3_region"); region != "" {
			set.Region = region
		}
		rc.S3 = &set
	}
	return envrunner.New(rc)
}
