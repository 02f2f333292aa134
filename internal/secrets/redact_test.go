package secrets_test

import (
	"encoding/json"
	"testing"

	"github.com/windsock/windsock/internal/secrets"
)

func TestRedactAudit(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		// A variable whose key is sensitive: the value goes.
		"key": "api_secret", "value": "s3cr3t-variable",
		// Sensitive names at any depth, whole values hidden but shape kept.
		"conf": map[string]any{
			"db":      map[string]any{"password": "conf-pass", "host": "db.example"},
			"tokens":  []any{map[string]any{"access_token": "tok-123"}},
			"keyfile": map[string]any{"private_key": map[string]any{"pem": "-----BEGIN", "bits": 2048}},
			"count":   3,
		},
		"password": "conn-pass",
		"extra":    `{"api_key": "extra-key", "region": "eu", "nested": {"client_secret": "cs"}}`,
		"plain":    "{not json",
		"empty":    nil,
	}
	out := secrets.RedactAudit(in)
	b, _ := json.Marshal(out)
	want := `{"conf":{"count":3,"db":{"host":"db.example","password":"***"},"keyfile":{"private_key":{"bits":"***","pem":"***"}},"tokens":[{"access_token":"***"}]},` +
		`"empty":null,"extra":"{\"api_key\":\"***\",\"nested\":{\"client_secret\":\"***\"},\"region\":\"eu\"}","key":"api_secret","password":"***","plain":"{not json","value":"***"}`
	if string(b) != want {
		t.Errorf("RedactAudit =\n %s\nwant\n %s", b, want)
	}
	// The input is left alone.
	if in["password"] != "conn-pass" || in["conf"].(map[string]any)["db"].(map[string]any)["password"] != "conf-pass" {
		t.Error("RedactAudit changed its input")
	}
	// A variable with an ordinary key keeps its value, but JSON inside it
	// is redacted.
	out = secrets.RedactAudit(map[string]any{"variable_key": "settings", "value": `{"password": "p4ss", "n": 5}`})
	if out["value"] != `{"n":5,"password":"***"}` {
		t.Errorf("JSON variable value = %v", out["value"])
	}
	out = secrets.RedactAudit(map[string]any{"variable_key": "my_token", "value": "abc"})
	if out["value"] != "***" {
		t.Errorf("sensitive variable from the path: value = %v", out["value"])
	}
	out = secrets.RedactAudit(map[string]any{"key": "region", "value": "eu-west-1"})
	if out["value"] != "eu-west-1" {
		t.Errorf("ordinary variable masked: %v", out["value"])
	}
}

func TestSensitiveVarConnNames(t *testing.T) {
	// Not parallel: the names hold for the process. The word is one no
	// other test uses.
	if secrets.IsSensitiveName("zqx_blob") {
		t.Fatal("zqx_blob is sensitive before the option is set")
	}
	secrets.SetSensitiveVarConnNames([]string{" ZQX_Blob ", ""})
	defer secrets.SetSensitiveVarConnNames(nil)
	if !secrets.IsSensitiveName("my_zqx_blob_key") || !secrets.IsSensitiveName("password") || secrets.IsSensitiveName("region") {
		t.Error("sensitive_var_conn_names not applied on top of the built-in names")
	}
	if out := secrets.RedactAudit(map[string]any{"key": "zqx_blob", "value": "v"}); out["value"] != "***" {
		t.Errorf("variable named by the option kept its value: %v", out["value"])
	}
}

func TestRedactJSONText(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"db": {"password": "p4ss"}, "n": 5}`: `{"db":{"password":"***"},"n":5}`,
		`[{"api_key": "k"}]`:                   `[{"api_key":"***"}]`,
		`{"n": 5}`:                             `{"n": 5}`,
		`not json {`:                           `not json {`,
		`{"password": "x"} trailing`:           `{"password": "x"} trailing`,
	}
	for in, want := range cases {
		if got := secrets.RedactJSONText(in); got != want {
			t.Errorf("RedactJSONText(%s) = %s, want %s", in, got, want)
		}
	}
}
