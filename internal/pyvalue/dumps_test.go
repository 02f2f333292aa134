package pyvalue

import (
	"math"
	"math/big"
	"testing"
)

// TestDumps: expected texts are what CPython 3.11's json.dumps prints for
// the same value (checked with /usr/bin/python3).
func TestDumps(t *testing.T) {
	big17, _ := new(big.Int).SetString("123456789012345678901", 10)
	cases := []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{true, "true"},
		{5, "5"},
		{5.0, "5.0"},
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{math.NaN(), "NaN"},
		{big17, "123456789012345678901"},
		{"é\"\\\n\x01😀", `"\u00e9\"\\\n\u0001\ud83d\ude00"`},
		{[]any{1, "a", nil}, `[1, "a", null]`},
		{map[string]any{"n": 5, "id": 12345678901234567, "w": 5.0, "x": map[string]any{"k": []any{}}}, `{"id": 12345678901234567, "n": 5, "w": 5.0, "x": {"k": []}}`},
	}
	for _, c := range cases {
		if got := Dumps(c.in); got != c.want {
			t.Errorf("Dumps(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}
