package cli

import (
	"strings"
	"testing"
)

func TestMaskCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		argv, want string
		values     []string
	}{
		{"airflow users create -u a -p s3cret -r Admin", "airflow users create -u a -p ******** -r Admin", nil},
		{"airflow users create --password=s3cret", "airflow users create --password=********", nil},
		{"airflow users create -u a -ps3cret -r Admin", "airflow users create -u a -p******** -r Admin", nil},
		{"airflow users reset-password -u a --password s3cret", "airflow users reset-password -u a --password ********", nil},
		// -p is --port outside the users commands.
		{"airflow webserver -p 8080", "airflow webserver -p 8080", nil},
		{"airflow connections add c --conn-password s3cret", "airflow connections add c --conn-password ********", nil},
		{"airflow connections add c --conn-uri postgres://u:s3cret@h:5432/db", "airflow connections add c --conn-uri postgres://u:********@h:5432/db", nil},
		{"airflow connections add c --conn-uri=http://h/x", "airflow connections add c --conn-uri=http://h/x", nil},
		{`airflow connections add c --conn-json {"password":"s3cret"}`, "airflow connections add c --conn-json ********", nil},
		{`airflow connections add c --conn-extra {"timeout":3}`, `airflow connections add c --conn-extra {"timeout":3}`, nil},
		// A conf or JSON value keeps its shape, its secrets masked at any depth.
		{`airflow dags trigger d -c {"table":"t","db":{"password":"s3cret"}}`, `airflow dags trigger d -c {"db":{"password":"***"},"table":"t"}`, nil},
		{`airflow dags trigger d --conf={"token":{"access_token":"s3cret"}}`, `airflow dags trigger d --conf={"token":{"access_token":"***"}}`, nil},
		{`airflow variables set cfg {"api_key":"s3cret","n":5}`, `airflow variables set cfg {"api_key":"***","n":5}`, nil},
		{"airflow variables set --description d api_token s3cret", "airflow variables set --description d api_token ********", []string{"s3cret"}},
	} {
		got := strings.Join(maskCommandLine(strings.Fields(tc.argv), tc.values...), " ")
		if got != tc.want {
			t.Errorf("maskCommandLine(%s)\n got %s\nwant %s", tc.argv, got, tc.want)
		}
	}
}

func TestPythonList(t *testing.T) {
	t.Parallel()
	if got := pythonList([]string{"airflow", "dags", "it's", `a\b`}); got != `['airflow', 'dags', "it's", 'a\\b']` {
		t.Errorf("pythonList = %s", got)
	}
}
