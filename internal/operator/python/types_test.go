package python

import (
	"context"
	"math/big"
	"strings"
	"testing"
)

// TestCallableReceivesPythonTypes checks that numbers reach the callable
// with the type Python's json would give them: an int stays an int (big
// ones exact), a float a float even when whole (5.0), a bool a bool, in
// op_args, op_kwargs, templates_dict and the context.
func TestCallableReceivesPythonTypes(t *testing.T) {
	t.Parallel()
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	lambda := `lambda n, whole, ratio, huge, flag, nested, templates_dict, params: ` +
		`(type(n).__name__, type(whole).__name__, type(ratio).__name__, huge, type(flag).__name__, ` +
		`type(nested["k"]).__name__, type(templates_dict["t"]).__name__, type(params["p"]).__name__, n, whole)`
	tc, log := setup(t, map[string]any{
		"python_callable": lambda,
		"op_args":         []any{12345678901234567, 5.0},
		"op_kwargs":       map[string]any{"ratio": 0.25, "huge": huge, "flag": true, "nested": map[string]any{"k": 2.0}},
		"templates_dict":  map[string]any{"t": 3},
	})
	tc.Template["params"] = map[string]any{"p": 1.0}
	res, err := New(Options{}).Execute(context.Background(), tc)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log)
	}
	want := `["int","float","float",123456789012345678901234567890,"bool","float","int","float",12345678901234567,5.0]`
	if got := jsonOf(t, res.ReturnValue); got != want {
		t.Errorf("return value %s, want %s", got, want)
	}
	if !strings.Contains(log.String(), "Done. Returned value was: ('int', 'float', 'float', 123456789012345678901234567890, 'bool', 'float', 'int', 'float', 12345678901234567, 5.0)") {
		t.Errorf("log:\n%s", log)
	}
}
