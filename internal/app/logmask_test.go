package app

import (
	"context"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// TestEngineLogMasksSecrets runs a bash task that echoes a connection
// password, the value of a variable with a sensitive name and a sensitive
// field of a JSON variable, all stored encrypted: the try's log and its
// rendered fields hold *** in their place, while plain values show.
func TestEngineLogMasksSecrets(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"mask.yaml": `
mask:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: leak
      operator: bash
      bash_command: |
        echo "conn password: {{ conn.my_conn.password }}"
        echo "conn extra: {{ conn.my_conn.extra_dejson.api_key }} {{ conn.my_conn.extra_dejson.region }}"
        echo "api token: {{ var.value.api_token }}"
        echo "cfg: {{ var.json.cfg.token }} {{ var.json.cfg.auth.client_secret }} {{ var.json.cfg.host }}"
`})
	ctx := context.Background()
	const (
		password     = "conn-pass-7f3a9"
		extraKey     = "extra-key-51c2e"
		token        = "var-token-0b8d4"
		cfgToken     = "cfg-token-93e1a"
		clientSecret = "cfg-secret-6d2f7"
	)
	if err := env.Connections.Add(ctx, &secrets.Connection{ConnID: "my_conn", ConnType: "http", Host: "api.example.com",
		Login: "svc-user", Password: password, Extra: `{"api_key": "` + extraKey + `", "region": "eu-west-1a"}`}); err != nil {
		t.Fatal(err)
	}
	if err := env.Variables.Set(ctx, "api_token", token, ""); err != nil {
		t.Fatal(err)
	}
	cfg := `{"host": "cfg-host.example", "token": "` + cfgToken + `", "auth": {"client_secret": "` + clientSecret + `"}}`
	if err := env.Variables.Set(ctx, "cfg", cfg, ""); err != nil {
		t.Fatal(err)
	}
	// The values are encrypted at rest: a test reading them back from
	// the database as text would prove nothing about the log.
	if row, err := env.Store.VariableGet(ctx, "api_token"); err != nil || !row.IsEncrypted || strings.Contains(row.Val, token) {
		t.Fatalf("stored variable = %+v, %v; want it encrypted", row, err)
	}

	er := startEngine(t, env, nil)
	run := er.trigger(t, "mask", day, nil)
	ti := states(t, env, run)["leak"]
	if run.State != windsock.DagRunSuccess || ti.State != windsock.TaskStateSuccess {
		t.Fatalf("run %s, task %s", run.State, ti.State)
	}
	log := readLog(t, env, ti, 1)
	rendered, err := env.Store.RenderedFieldsGet(ctx, ti.TaskInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"log": log, "rendered fields": string(rendered)} {
		for _, secret := range []string{password, extraKey, token, cfgToken, clientSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", what, secret, text)
			}
		}
		for _, want := range []string{"conn password: ***", "conn extra: *** eu-west-1a", "api token: ***", "cfg: *** *** cfg-host.example"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", what, want, text)
			}
		}
	}
}
