package secrets_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

func TestEncodeVariables(t *testing.T) {
	t.Parallel()
	got, err := secrets.EncodeVariables([]secrets.Variable{
		{Key: "plain", Value: "hello & <bye>"},
		{Key: "config", Value: `{"b": [1, 2], "a": {"z": 1, "y": 12345678901234567890}}`},
		{Key: "number", Value: "42"},
		{Key: "almost_json", Value: `{"a": 1`},
		{Key: "empty", Value: ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	// As `airflow variables export`: JSON values decoded, keys sorted
	// (nested ones too), four-space indent.
	want := `{
    "almost_json": "{\"a\": 1",
    "config": {
        "a": {
            "y": 12345678901234567890,
            "z": 1
        },
        "b": [
            1,
            2
        ]
    },
    "empty": "",
    "number": 42,
    "plain": "hello & <bye>"
}
`
	if string(got) != want {
		t.Fatalf("EncodeVariables =\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeVariables(t *testing.T) {
	t.Parallel()
	data := `{
		"plain": "hello",
		"config": {"b": [1, 2], "a": 1},
		"number": 42,
		"flag": true,
		"nothing": null,
		"described": {"value": "v", "description": "what it is"},
		"described_json": {"value": {"x": 1}},
		"looks_described": {"value": 1, "other": 2}
	}`
	got, err := secrets.DecodeVariables([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []secrets.Variable{
		{Key: "config", Value: `{"b":[1,2],"a":1}`},
		{Key: "described", Value: "v", Description: "what it is"},
		{Key: "described_json", Value: `{"x":1}`},
		{Key: "flag", Value: "true"},
		{Key: "looks_described", Value: `{"value":1,"other":2}`},
		{Key: "nothing", Value: "null"},
		{Key: "number", Value: "42"},
		{Key: "plain", Value: "hello"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeVariables =\n%+v\nwant\n%+v", got, want)
	}

	for _, bad := range []string{`["a"]`, `{"a": }`, `{"": "empty key"}`} {
		if _, err := secrets.DecodeVariables([]byte(bad)); windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("DecodeVariables(%s) error = %v, want EINVALID", bad, err)
		}
	}
}

func TestVariablesFileRoundTrip(t *testing.T) {
	t.Parallel()
	vars := []secrets.Variable{
		{Key: "a", Value: "plain text"},
		{Key: "b", Value: `{"nested":{"list":[1,2,3]}}`},
		{Key: "c", Value: "123"},
		{Key: "d", Value: "true"},
	}
	data, err := secrets.EncodeVariables(vars)
	if err != nil {
		t.Fatal(err)
	}
	got, err := secrets.DecodeVariables(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, vars) {
		t.Fatalf("round trip = %+v, want %+v", got, vars)
	}
}

func sampleConnections() []*secrets.Connection {
	return []*secrets.Connection{
		{ConnID: "pg", ConnType: "postgres", Description: "warehouse", Host: "db.example.com", Schema: "dwh",
			Login: "etl", Password: "p@ss:word/with&chars", Port: 5432, Extra: `{"sslmode":"require"}`},
		{ConnID: "api", ConnType: "http", Host: "https://api.example.com", Extra: `{"headers":{"X-Token":"t"},"timeout":30}`},
		{ConnID: "s3", ConnType: "aws", Login: "AKIA", Password: "secret/key"},
	}
}

func TestConnectionsFileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, format := range []string{secrets.FormatJSON, secrets.FormatYAML, secrets.FormatEnv} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			conns := sampleConnections()
			data, err := secrets.EncodeConnections(conns, format)
			if err != nil {
				t.Fatal(err)
			}
			got, err := secrets.DecodeConnections(data, format)
			if err != nil {
				t.Fatalf("DecodeConnections(%s):\n%s\n%v", format, data, err)
			}
			want := map[string]*secrets.Connection{}
			for _, c := range conns {
				want[c.ConnID] = c
			}
			if len(got) != len(conns) {
				t.Fatalf("got %d connections, want %d", len(got), len(conns))
			}
			for i, g := range got {
				if i > 0 && got[i-1].ConnID >= g.ConnID {
					t.Errorf("not sorted by conn_id: %s before %s", got[i-1].ConnID, g.ConnID)
				}
				w := *want[g.ConnID]
				if format == secrets.FormatEnv {
					w.Description = "" // the URI form has no description
				}
				if !sameJSON(t, g.Extra, w.Extra) {
					t.Errorf("%s: Extra = %q, want %q", g.ConnID, g.Extra, w.Extra)
				}
				gc := *g
				gc.Extra, w.Extra = "", ""
				if gc != w {
					t.Errorf("%s:\n got %+v\nwant %+v", g.ConnID, gc, w)
				}
			}
		})
	}
}

func TestEncodeConnectionsShape(t *testing.T) {
	t.Parallel()
	conns := []*secrets.Connection{{ConnID: "web", ConnType: "http", Host: "h", Port: 80, Extra: `{"a":"b&c"}`}}
	data, err := secrets.EncodeConnections(conns, secrets.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "web": {
    "conn_type": "http",
    "description": null,
    "extra": "{\"a\":\"b&c\"}",
    "host": "h",
    "login": null,
    "password": null,
    "port": 80,
    "schema": null
  }
}
`
	if string(data) != want {
		t.Errorf("json export =\n%s\nwant\n%s", data, want)
	}
	env, err := secrets.EncodeConnections(conns, secrets.FormatEnv)
	if err != nil {
		t.Fatal(err)
	}
	if string(env) != "web=http://h:80/?a=b%26c\n" {
		t.Errorf("env export = %q", env)
	}
	if _, err := secrets.EncodeConnections(conns, "xml"); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Errorf("unknown format: error = %v, want EINVALID", err)
	}
}

func TestDecodeConnectionsForms(t *testing.T) {
	t.Parallel()
	yamlData := `
uri_form: postgresql://u:p@h:5432/db
object_form:
  conn_type: http
  host: example.com
  port: 443
  extra:
    verify: false
dejson_form:
  conn_id: dejson_form
  conn_type: http
  extra_dejson: {"k": "v"}
listed:
  - mysql://h/db
`
	got, err := secrets.DecodeConnections([]byte(yamlData), secrets.FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*secrets.Connection{}
	for _, c := range got {
		byID[c.ConnID] = c
	}
	if c := byID["uri_form"]; c == nil || c.ConnType != "postgres" || c.Port != 5432 || c.Password != "p" {
		t.Errorf("uri_form = %+v", c)
	}
	if c := byID["object_form"]; c == nil || c.Host != "example.com" || c.Port != 443 || c.Extra != `{"verify":false}` {
		t.Errorf("object_form = %+v", c)
	}
	if c := byID["dejson_form"]; c == nil || c.Extra != `{"k":"v"}` {
		t.Errorf("dejson_form = %+v", c)
	}
	if c := byID["listed"]; c == nil || c.ConnType != "mysql" || c.Schema != "db" {
		t.Errorf("listed = %+v", c)
	}

	env := "# exported\n\nmy_pg=postgres://u:p@h/db\r\nmy_api={\"conn_type\": \"http\", \"host\": \"a.example.com\"}\n"
	got, err = secrets.DecodeConnections([]byte(env), secrets.FormatEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ConnID != "my_api" || got[0].Host != "a.example.com" || got[1].ConnID != "my_pg" || got[1].Schema != "db" {
		t.Errorf("env import = %+v", got)
	}

	if got, err := secrets.DecodeConnections(nil, secrets.FormatJSON); err != nil || len(got) != 0 {
		t.Errorf("empty json file = %+v, %v", got, err)
	}

	errs := []struct {
		name, data, format, want string
	}{
		{"env without =", "just_a_name\n", secrets.FormatEnv, "line 1: expected conn_id=URI"},
		{"env empty id", "=http://h\n", secrets.FormatEnv, "line 1: the conn_id before '=' is empty"},
		{"env duplicate", "a=http://h\n\na=http://g\n", secrets.FormatEnv, `line 3: connection "a" is already defined on line 1`},
		{"env bad uri", "a=http://h:x\n", secrets.FormatEnv, "line 1: "},
		{"json wrong type", `{"a": 5}`, secrets.FormatJSON, "must be a URI string or an object"},
		{"json conn_id mismatch", `{"a": {"conn_id": "b", "conn_type": "http"}}`, secrets.FormatJSON, "does not match"},
		{"json extra and extra_dejson", `{"a": {"conn_type": "http", "extra": "{}", "extra_dejson": {}}}`, secrets.FormatJSON, "mutually exclusive"},
		{"yaml list of two", "a:\n  - http://h\n  - http://g\n", secrets.FormatYAML, "defined 2 times"},
		{"bad yaml", "a: [", secrets.FormatYAML, "invalid connections file"},
		{"unknown format", "", "toml", "unknown connections format"},
	}
	for _, tt := range errs {
		if _, err := secrets.DecodeConnections([]byte(tt.data), tt.format); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		} else if windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("%s: error code = %q, want EINVALID", tt.name, windsock.ErrorCode(err))
		}
	}
}

func TestConnectionFormat(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"conns.json": secrets.FormatJSON, "/x/CONNS.YAML": secrets.FormatYAML, "a.yml": secrets.FormatYAML,
		"prod.env": secrets.FormatEnv, "conns.txt": "", "noext": "",
	}
	for path, want := range tests {
		got, err := secrets.ConnectionFormat(path)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ConnectionFormat(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}
