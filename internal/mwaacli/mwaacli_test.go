package mwaacli

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line string
		want []string
	}{
		{"dags list", []string{"dags", "list"}},
		{`dags trigger -c '{"k": "v"}' my_dag`, []string{"dags", "trigger", "-c", `{"k": "v"}`, "my_dag"}},
		{`variables set k "a \"quoted\" $HOME"`, []string{"variables", "set", "k", `a "quoted" $HOME`}},
		{`variables set k a\ b`, []string{"variables", "set", "k", "a b"}},
		{"  version  ", []string{"version"}},
		{`x ''`, []string{"x", ""}},
	}
	for _, c := range cases {
		got, err := Split(c.line)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", c.line, got, err, c.want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
}

func TestAllowed(t *testing.T) {
	for line, want := range map[string]bool{
		"dags list": true, "dags trigger -c {} d": true, "version": true, "cheat-sheet -v": true,
		"db reset": false, "users create": false, "dags": false, "": false, "-h": false,
	} {
		args, _ := Split(line)
		if got := Allowed(args); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", line, got, want)
		}
	}
}
