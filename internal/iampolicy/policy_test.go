package iampolicy_test

import (
	"testing"

	"github.com/windsock/windsock/internal/iampolicy"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true},
		{"*", "arn:aws:airflow:us-east-1:1:environment/x", true},
		{"arn:aws:airflow:*:*:environment/prod-*", "arn:aws:airflow:eu-west-1:1:environment/prod-a", true},
		{"arn:aws:airflow:*:*:environment/prod-*", "arn:aws:airflow:eu-west-1:1:environment/dev-a", false},
		{"arn:aws:airflow:*:*:role/env/Op", "arn:aws:airflow:r:1:role/env/Op", true},
		{"arn:aws:airflow:*:*:role/env/Op", "arn:aws:airflow:r:1:role/env/Opx", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		if got := iampolicy.Match(c.pattern, c.value); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.value, got, c.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	p, err := iampolicy.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Action": ["airflow:Get*", "airflow:ListEnvironments"], "Resource": "*"},
	    {"Effect": "Allow", "Action": "airflow:CreateWebLoginToken", "Resource": "arn:aws:airflow:*:*:role/dev/*"},
	    {"Effect": "Deny", "Action": "airflow:*", "Resource": "arn:aws:airflow:*:*:environment/secret"},
	    {"Effect": "Allow", "NotAction": "airflow:DeleteEnvironment", "Resource": "arn:aws:airflow:*:*:environment/dev"}
	  ]}`))
	if err != nil {
		t.Fatal(err)
	}
	const env = "arn:aws:airflow:us-east-1:000000000000:environment/"
	cases := []struct {
		action, resource string
		want             iampolicy.Decision
	}{
		{"airflow:GetEnvironment", env + "prod", iampolicy.Allow},
		{"AIRFLOW:getenvironment", env + "prod", iampolicy.Allow},
		{"airflow:ListEnvironments", "*", iampolicy.Allow},
		{"airflow:CreateEnvironment", env + "prod", iampolicy.ImplicitDeny},
		{"airflow:GetEnvironment", env + "secret", iampolicy.ExplicitDeny},
		{"airflow:CreateWebLoginToken", "arn:aws:airflow:us-east-1:000000000000:role/dev/Admin", iampolicy.Allow},
		{"airflow:CreateWebLoginToken", "arn:aws:airflow:us-east-1:000000000000:role/prod/Admin", iampolicy.ImplicitDeny},
		{"airflow:UpdateEnvironment", env + "dev", iampolicy.Allow},
		{"airflow:DeleteEnvironment", env + "dev", iampolicy.ImplicitDeny},
	}
	for _, c := range cases {
		if got := p.Evaluate(c.action, c.resource); got != c.want {
			t.Errorf("Evaluate(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	var none *iampolicy.Policy
	if none.Evaluate("airflow:DeleteEnvironment", env+"x") != iampolicy.Allow {
		t.Error("no policy must mean full access")
	}
}

func TestParseRefusesWhatItCannotHonour(t *testing.T) {
	t.Parallel()
	bad := []string{
		`{}`,
		`not json`,
		`{"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}`,
		`{"Statement": {"Effect": "Allow", "Resource": "*"}}`,
		`{"Statement": {"Effect": "Allow", "Action": "*"}}`,
		`{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}}`,
		`{"Statement": [{"Effect": "Allow", "Action": 3, "Resource": "*"}]}`,
	}
	for _, doc := range bad {
		if _, err := iampolicy.Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s) accepted", doc)
		}
	}
	if _, err := iampolicy.Parse([]byte(`{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`)); err != nil {
		t.Errorf("single statement object: %v", err)
	}
}
