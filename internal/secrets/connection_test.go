package secrets_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// sameJSON compares two JSON texts by meaning ("" equals "").
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	if a == "" || b == "" {
		return a == b
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		uri  string
		want secrets.Connection
	}{
		{"postgresql is postgres", "postgresql://user:pass@host:5432/db",
			secrets.Connection{ConnType: "postgres", Host: "host", Login: "user", Password: "pass", Port: 5432, Schema: "db"}},
		{"Airflow docs example", "my-conn-type://my-login:my-password@my-host:5432/my-schema?param1=val1&param2=val2",
			secrets.Connection{ConnType: "my_conn_type", Host: "my-host", Login: "my-login", Password: "my-password", Port: 5432, Schema: "my-schema", Extra: `{"param1":"val1","param2":"val2"}`}},
		{"percent-encoding", "mysql://us%40er:p%40ss%2Fw%3Ard%20x@host/sch%2Fema",
			secrets.Connection{ConnType: "mysql", Host: "host", Login: "us@er", Password: "p@ss/w:rd x", Schema: "sch/ema"}},
		{"raw JSON extra", "http://host/?__extra__=%7B%22a%22%3A+%5B1%2C+2%5D%7D",
			secrets.Connection{ConnType: "http", Host: "host", Extra: `{"a": [1, 2]}`}},
		{"host with a protocol", "aws://https://login:pw@example.com:443/s",
			secrets.Connection{ConnType: "aws", Host: "https://example.com", Login: "login", Password: "pw", Port: 443, Schema: "s"}},
		{"encoded URL host", "http://https%3A%2F%2FExample.com%2Fapi",
			secrets.Connection{ConnType: "http", Host: "https://Example.com/api"}},
		{"host is lower-cased as urlsplit does", "postgres://u:p@MyHost.Example.com/db",
			secrets.Connection{ConnType: "postgres", Host: "myhost.example.com", Login: "u", Password: "p", Schema: "db"}},
		{"socket path host keeps its case", "postgres://%2Ftmp%2FSock/db",
			secrets.Connection{ConnType: "postgres", Host: "/tmp/Sock", Schema: "db"}},
		{"port only", "http://@:8080",
			secrets.Connection{ConnType: "http", Port: 8080}},
		{"login only", "ssh://admin@bastion",
			secrets.Connection{ConnType: "ssh", Host: "bastion", Login: "admin"}},
		{"password only", "redis://:pw@cache:6379",
			secrets.Connection{ConnType: "redis", Host: "cache", Password: "pw", Port: 6379}},
		{"IPv6", "postgres://[::1]:5432/db",
			secrets.Connection{ConnType: "postgres", Host: "::1", Port: 5432, Schema: "db"}},
		{"query only", "google-cloud-platform://?project=p&key_path=%2Fkeys%2Fk.json",
			secrets.Connection{ConnType: "google_cloud_platform", Extra: `{"key_path":"/keys/k.json","project":"p"}`}},
		{"blank values, plus signs, bad escapes", "x://h/?a=&b&c=1+2%zz",
			secrets.Connection{ConnType: "x", Host: "h", Extra: `{"a":"","b":"","c":"1 2%zz"}`}},
		{"no conn_type", "//h:1",
			secrets.Connection{Host: "h", Port: 1}},
		{"fragment dropped", "http://h/s#frag",
			secrets.Connection{ConnType: "http", Host: "h", Schema: "s"}},
		{"empty port", "http://u@h:/d",
			secrets.Connection{ConnType: "http", Host: "h", Login: "u", Schema: "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := secrets.ParseURI("c", tt.uri)
			if err != nil {
				t.Fatalf("ParseURI(%q): %v", tt.uri, err)
			}
			want := tt.want
			want.ConnID = "c"
			if !sameJSON(t, got.Extra, want.Extra) {
				t.Errorf("Extra = %q, want %q", got.Extra, want.Extra)
			}
			got.Extra, want.Extra = "", ""
			if *got != want {
				t.Errorf("ParseURI(%q) =\n%+v\nwant\n%+v", tt.uri, *got, want)
			}
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want string
	}{
		{"a://b://c://d", `"://" appears more than twice`},
		{"not a uri", "must start with conn_type://"},
		{"postgres://u:topsecret@h:port/db", "the port must be a number"},
		{"postgres://u:topsecret@h:70000/db", "between 0 and 65535"},
		{"aws://u:topsecret@https://h", "a protocol in the host"},
		{"1abc://h", "must start with conn_type://"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Parallel()
			_, err := secrets.ParseURI("c", tt.uri)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseURI(%q) error = %v, want %q", tt.uri, err, tt.want)
			}
			if windsock.ErrorCode(err) != windsock.EINVALID {
				t.Errorf("error code = %q, want EINVALID", windsock.ErrorCode(err))
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestURI(t *testing.T) {
	t.Parallel()
	// Expected strings follow Airflow 2.10's Connection.get_uri.
	tests := []struct {
		name string
		conn secrets.Connection
		want string
	}{
		{"Airflow docs example",
			secrets.Connection{ConnType: "mysql", Host: "myhost.com", Login: "myname", Password: "mypassword", Extra: `{"this_param": "some val", "that_param": "other val*"}`},
			"mysql://myname:mypassword@myhost.com/?this_param=some+val&that_param=other+val%2A"},
		{"underscores become dashes", secrets.Connection{ConnType: "google_cloud_platform", Extra: `{"project": "p"}`},
			"google-cloud-platform:///?project=p"},
		{"non-string extra goes in __extra__", secrets.Connection{ConnType: "http", Host: "h", Schema: "s", Extra: `{"timeout": 5}`},
			"http://h/s?__extra__=%7B%22timeout%22%3A+5%7D"},
		{"special characters", secrets.Connection{ConnType: "postgres", Host: "h", Login: "a b", Password: "p@ss/w:rd%", Port: 5432, Schema: "d/b"},
			"postgres://a%20b:p%40ss%2Fw%3Ard%25@h:5432/d%2Fb"},
		{"port without host", secrets.Connection{ConnType: "http", Port: 8080}, "http://@:8080"},
		{"host protocol differs", secrets.Connection{ConnType: "aws", Host: "https://sts.amazonaws.com", Login: "k"},
			"aws://https://k@sts.amazonaws.com"},
		{"host protocol equals conn_type", secrets.Connection{ConnType: "http", Host: "http://example.com"},
			"http://http%3A%2F%2Fexample.com"},
		{"no conn_type", secrets.Connection{Host: "h"}, "//h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.conn.URI(); got != tt.want {
				t.Fatalf("URI() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestURIRoundTrip(t *testing.T) {
	t.Parallel()
	conns := []secrets.Connection{
		{ConnType: "postgres", Host: "db.example.com", Login: "etl user", Password: "p@ss:w/o%rd#?&=+", Port: 5432, Schema: "warehouse"},
		{ConnType: "google_cloud_platform", Extra: `{"project":"my-project","key_path":"/secrets/key.json"}`},
		{ConnType: "http", Host: "api.example.com", Extra: `{"headers":{"X-Token":"abc"},"retries":3,"verify":false}`},
		{ConnType: "http", Host: "h", Extra: `not json at all`},
		{ConnType: "http", Host: "h", Extra: `{}`},
		{ConnType: "aws", Host: "https://s3.eu-west-1.amazonaws.com", Login: "AKIA", Password: "secret/key+x"},
		{ConnType: "http", Host: "http://internal.example.com:8443/base"},
		{ConnType: "postgres", Host: "/var/run/postgresql", Schema: "airflow"},
		{ConnType: "redis", Password: "only-password", Port: 6379},
		{ConnType: "fs", Extra: `{"path":"/data"}`},
		{ConnType: "sqlite", Host: "/tmp/db.sqlite"},
		{ConnType: "mysql", Host: "10.0.0.5", Port: 3306, Schema: "ünïcode"},
	}
	for _, c := range conns {
		c.ConnID = "id"
		uri := c.URI()
		got, err := secrets.ParseURI("id", uri)
		if err != nil {
			t.Errorf("ParseURI(URI() of %+v = %q): %v", c, uri, err)
			continue
		}
		if !sameJSON(t, got.Extra, c.Extra) {
			t.Errorf("round trip of %q: Extra = %q, want %q", uri, got.Extra, c.Extra)
		}
		got.Extra, c.Extra = "", ""
		if *got != c {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", uri, *got, c)
		}
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    secrets.Connection
		wantErr string
	}{
		{"full", `{"conn_type": "postgresql", "host": "h", "login": "u", "password": "p", "schema": "s", "port": 5432, "extra": {"sslmode": "require"}, "description": "d"}`,
			secrets.Connection{ConnType: "postgres", Host: "h", Login: "u", Password: "p", Schema: "s", Port: 5432, Extra: `{"sslmode":"require"}`, Description: "d"}, ""},
		{"extra as text, port as string", `{"conn_type": "http", "port": "8080", "extra": "{\"a\": 1}"}`,
			secrets.Connection{ConnType: "http", Port: 8080, Extra: `{"a": 1}`}, ""},
		{"nulls", `{"conn_type": "http", "host": null, "port": null, "extra": null}`,
			secrets.Connection{ConnType: "http"}, ""},
		{"uri", `{"uri": "mysql://u:p@h:3306/db", "description": "via uri"}`,
			secrets.Connection{ConnType: "mysql", Host: "h", Login: "u", Password: "p", Port: 3306, Schema: "db", Description: "via uri"}, ""},
		{"uri mixed with fields", `{"uri": "mysql://h", "host": "x"}`, secrets.Connection{}, "either uri or the individual fields"},
		{"unknown field", `{"conn_type": "http", "hostname": "h"}`, secrets.Connection{}, `unknown field "hostname"`},
		{"bad port", `{"conn_type": "http", "port": "eighty"}`, secrets.Connection{}, "port must be an integer"},
		{"fractional port", `{"conn_type": "http", "port": 80.5}`, secrets.Connection{}, "port must be an integer"},
		{"host not a string", `{"conn_type": "http", "host": 5}`, secrets.Connection{}, "host must be a string"},
		{"not an object", `["http"]`, secrets.Connection{}, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := secrets.ParseJSON("c", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || windsock.ErrorCode(err) != windsock.EINVALID {
					t.Fatalf("ParseJSON error = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ConnID = "c"
			if *got != want {
				t.Fatalf("ParseJSON =\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

func TestExportMap(t *testing.T) {
	t.Parallel()
	c := &secrets.Connection{ConnID: "c", ConnType: "http", Host: "h", Port: 80}
	got, err := json.Marshal(c.ExportMap())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"conn_type":"http","description":null,"extra":null,"host":"h","login":null,"password":null,"port":80,"schema":null}`
	if string(got) != want {
		t.Fatalf("ExportMap = %s, want %s", got, want)
	}
}

func TestIsSensitiveName(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"password": true, "db_PASSWORD": true, "api_key": true, "x-apikey": true, "Authorization": true,
		"passphrase": true, "passwd": true, "private_key": true, "client_secret": true, "access_token": true,
		"token": true, "keyfile_dict": true, "service_account_json": true, " Secret ": true,
		"bucket": false, "region": false, "host": false, "key_path": false, "login": false,
	}
	for name, want := range tests {
		if got := secrets.IsSensitiveName(name); got != want {
			t.Errorf("IsSensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}
