package pyvalue

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"
)

// The expected texts are what CPython 3.11 prints for the same values
// (repr, and ast.literal_eval(ast.parse(text, mode="eval"))).

func TestRepr(t *testing.T) {
	t.Parallel()
	big30, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{5, "5"},
		{int64(-7), "-7"},
		{12345678901234567, "12345678901234567"},
		{big30, "123456789012345678901234567890"},
		{5.0, "5.0"},
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{1.5e-5, "1.5e-05"},
		{0.0001, "0.0001"},
		{123456789.123, "123456789.123"},
		{1e22, "1e+22"},
		{math.Copysign(0, -1), "-0.0"},
		{2.5e-7, "2.5e-07"},
		{1.2345678901234568e+16, "1.2345678901234568e+16"},
		{math.Inf(1), "inf"},
		{json.Number("5"), "5"},
		{json.Number("5.0"), "5.0"},
		{json.Number("1e16"), "1e+16"},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
		{`both ' and "`, `'both \' and "'`},
		{"tab\there", `'tab\there'`},
		{"nl\n", `'nl\n'`},
		{"é ünï", "'é ünï'"},
		{"\x00\x7f", `'\x00\x7f'`},
		{"\u2028", `'\u2028'`},
		{[]any{1, 2.5, "x", nil, true}, "[1, 2.5, 'x', None, True]"},
		{map[string]any{"total": 55, "n": 10}, "{'n': 10, 'total': 55}"},
		{map[string]any{"a": []any{1, map[string]any{"b": nil}}}, "{'a': [1, {'b': None}]}"},
		{[]string{"a", "b"}, "['a', 'b']"},
		{map[string]int{"x": 1}, "{'x': 1}"},
	}
	for _, c := range cases {
		if got := Repr(c.in); got != c.want {
			t.Errorf("Repr(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := Str("plain 'text'"); got != "plain 'text'" {
		t.Errorf("Str of a string = %s, want it unquoted", got)
	}
	if got := Str(map[string]any{"n": 5}); got != "{'n': 5}" {
		t.Errorf("Str of a dict = %s", got)
	}
}

func TestLiteralEval(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		ok   bool
		repr string // Repr of the value, when ok
	}{
		{"5", true, "5"},
		{"-5", true, "-5"},
		{"12345678901234567", true, "12345678901234567"},
		{"123456789012345678901234567890", true, "123456789012345678901234567890"},
		{"0.1", true, "0.1"},
		{"1e16", true, "1e+16"},
		{"1E5", true, "100000.0"},
		{"5.0", true, "5.0"},
		{"-0.0", true, "-0.0"},
		{"1.5e300", true, "1.5e+300"},
		{"0x1F", true, "31"},
		{"0o17", true, "15"},
		{"0b101", true, "5"},
		{"1_000", true, "1000"},
		{"007", false, ""},
		{"00", true, "0"},
		{"'a'", true, "'a'"},
		{`"a'b"`, true, `"a'b"`},
		{"'a' 'b'", true, "'ab'"},
		{`r'a\nb'`, true, `'a\\nb'`},
		{`'a\nb'`, true, `'a\nb'`},
		{`'\x41\u00e9'`, true, "'Aé'"},
		{"'''tri'ple'''", true, `"tri'ple"`},
		{"[1, 2.5, 'x', None, True]", true, "[1, 2.5, 'x', None, True]"},
		{"(1, 2)", true, "[1, 2]"},
		{"1, 2", true, "[1, 2]"},
		{"(1,)", true, "[1]"},
		{"()", true, "[]"},
		{"[1,]", true, "[1]"},
		{"{'n': 10, 'total': 55}", true, "{'n': 10, 'total': 55}"},
		{"{'a':1,}", true, "{'a': 1}"},
		{"{1: 'a'}", true, "{'1': 'a'}"},
		{"{'a': [1, {'b': None}]}", true, "{'a': [1, {'b': None}]}"},
		{"None", true, "None"},
		{"True", true, "True"},
		{"5 ", true, "5"},
		{"#c\n5", true, "5"},
		{"5 # c", true, "5"},
		{" 5", false, ""},
		{"x=5", false, ""},
		{"hello", false, ""},
		{"n=5 id=12345678901234567", false, ""},
		{"{1, 2}", false, ""},
		{"1+2j", false, ""},
		{"b'x'", false, ""},
		{"[1, 2", false, ""},
		{"'open", false, ""},
		{"", false, ""},
	}
	for _, c := range cases {
		v, ok := LiteralEval(c.in)
		if ok != c.ok {
			t.Errorf("LiteralEval(%q) ok = %v, want %v (value %s)", c.in, ok, c.ok, Repr(v))
			continue
		}
		if ok && Repr(v) != c.repr {
			t.Errorf("LiteralEval(%q) = %s, want %s", c.in, Repr(v), c.repr)
		}
	}
	if v, _ := LiteralEval("{'n': 5}"); v.(map[string]any)["n"] != 5 {
		t.Errorf("an int in a dict is %T, want int", v.(map[string]any)["n"])
	}
}

func TestLiteralEvalDeepNestingFails(t *testing.T) {
	t.Parallel()
	deep := ""
	for range 10000 {
		deep += "["
	}
	if _, ok := LiteralEval(deep); ok {
		t.Fatal("deeply nested text evaluated")
	}
}
