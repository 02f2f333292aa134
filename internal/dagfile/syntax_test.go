package dagfile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/operator"
)

// TestSyntaxErrorPosition checks that a YAML mistake is reported where it
// is, not where the enclosing block starts: yaml.v3 alone said "line 4"
// for the first file, whose mistake is the mis-indented retries on line 8.
func TestSyntaxErrorPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // line:column: message
	}{
		{
			name: "mis-indented key",
			src: `sales_daily:
  default_args:
    owner: sales
  tasks:
    extract:
      operator: airflow.operators.bash.BashOperator
      bash_command: python extract.py
     retries: 3
    load:
      operator: airflow.operators.bash.BashOperator
`,
			want: "8:6: YAML syntax error: did not find expected key",
		},
		{
			name: "colon inside a plain value",
			src: `sales_daily:
  default_args:
    owner: sales
    start_date: 2024-01-01
  schedule_interval: "@daily"
  tasks:
    extract:
      operator: airflow.operators.bash.BashOperator: x
`,
			want: "8:52: YAML syntax error: mapping values are not allowed in this context",
		},
		{
			name: "unterminated quote",
			src: `sales_daily:
  default_args:
    owner: sales
    start_date: 2024-01-01
  schedule_interval: "@daily"
  tasks:
    extract:
      operator: "airflow.operators.bash.BashOperator
    load:
      operator: airflow.operators.bash.BashOperator
`,
			want: "8:17: YAML syntax error: found unexpected end of stream",
		},
		{
			name: "tab indentation",
			src:  "sales_daily:\n  default_args:\n    owner: sales\n  tasks:\n    extract:\n      operator: bash\n      bash_command: echo\n\tretries: 3\n",
			want: "8:1: YAML syntax error: found a tab character that violates indentation",
		},
		{
			name: "unclosed flow list, multibyte text before",
			src:  "données:\n  tags: [été, hiver\n  tasks:\n    t:\n      operator: empty\n",
			// An unclosed bracket is found where its content starts.
			want: "2:10: YAML syntax error: did not find expected ',' or ']'",
		},
		{
			name: "error on the first line, no trailing newline",
			src:  "a: b: c",
			want: "1:5: YAML syntax error: mapping values are not allowed in this context",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := ParseFile("x.yaml", []byte(tt.src), NewDefaults(testNow), operator.Builtins())
			if len(f.Errors) != 1 {
				t.Fatalf("errors = %v", f.Errors)
			}
			e := f.Errors[0]
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message); got != tt.want {
				line := strings.Split(tt.src, "\n")[tt.want[0]-'1']
				t.Errorf("got  %s\nwant %s (line %q)", got, tt.want, line)
			}
		})
	}
}
