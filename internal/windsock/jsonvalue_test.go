package windsock

import (
	"encoding/json"
	"math/big"
	"testing"
)

func TestDecodeJSONKeepsIntegers(t *testing.T) {
	t.Parallel()
	var v struct {
		Conf  map[string]any `json:"conf"`
		Raw   json.Number    `json:"raw"`
		Any   any            `json:"any"`
		Items []any          `json:"items"`
	}
	src := `{"conf": {"n": 5, "id": 12345678901234567, "f": 5.0, "e": 1e3, "big": 123456789012345678901234567890, "nested": [{"k": -3}]},
		"raw": 7, "any": 9, "items": [1, 2.5, true, null]}`
	if err := DecodeJSON([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	if n, ok := v.Conf["n"].(int); !ok || n != 5 {
		t.Errorf("n = %#v, want int 5", v.Conf["n"])
	}
	if n, ok := v.Conf["id"].(int); !ok || n != 12345678901234567 {
		t.Errorf("id = %#v, want the exact int", v.Conf["id"])
	}
	if f, ok := v.Conf["f"].(float64); !ok || f != 5 {
		t.Errorf("f = %#v, want float64 5", v.Conf["f"])
	}
	if f, ok := v.Conf["e"].(float64); !ok || f != 1000 {
		t.Errorf("e = %#v, want float64 1000", v.Conf["e"])
	}
	if b, ok := v.Conf["big"].(*big.Int); !ok || b.String() != "123456789012345678901234567890" {
		t.Errorf("big = %#v, want the exact *big.Int", v.Conf["big"])
	}
	if k := v.Conf["nested"].([]any)[0].(map[string]any)["k"]; k != -3 {
		t.Errorf("nested k = %#v, want int -3", k)
	}
	if v.Raw != "7" || v.Any != 9 || v.Items[0] != 1 || v.Items[1] != 2.5 {
		t.Errorf("raw %#v any %#v items %#v", v.Raw, v.Any, v.Items)
	}
	if b, _ := json.Marshal(v.Conf); string(b) != `{"big":123456789012345678901234567890,"e":1000,"f":5,"id":12345678901234567,"n":5,"nested":[{"k":-3}]}` {
		t.Errorf("encoded again: %s", b)
	}
	if err := DecodeJSON([]byte(`{} x`), &v); err == nil {
		t.Error("trailing data accepted")
	}
}

func TestKeepFloatsRoundTrips(t *testing.T) {
	t.Parallel()
	in := map[string]any{"whole": 5.0, "f": 0.1, "n": 5, "list": []any{2.0, 3}, "none": nil}
	b, err := json.Marshal(KeepFloats(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"f":0.1,"list":[2.0,3],"n":5,"none":null,"whole":5.0}` {
		t.Errorf("encoded %s", b)
	}
	var back map[string]any
	if err := DecodeJSON(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, ok := back["whole"].(float64); !ok {
		t.Errorf("whole read back as %T", back["whole"])
	}
	if in["whole"] != 5.0 {
		t.Error("input changed")
	}
}

func TestMarshalDAGKeepsFloats(t *testing.T) {
	t.Parallel()
	d := &DAG{DagID: "d", Params: map[string]any{"scale": 2.0, "n": 3},
		Tasks: []*Task{{TaskID: "t", Args: map[string]any{"op_kwargs": map[string]any{"w": 5.0}}}}}
	b, err := MarshalDAG(d)
	if err != nil {
		t.Fatal(err)
	}
	var back DAG
	if err := DecodeJSON(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Params["scale"].(float64); !ok || back.Params["n"] != 3 {
		t.Errorf("params read back as %#v", back.Params)
	}
	if _, ok := back.Tasks[0].Args["op_kwargs"].(map[string]any)["w"].(float64); !ok {
		t.Errorf("task args read back as %#v", back.Tasks[0].Args)
	}
	if d.Params["scale"] != 2.0 || d.Tasks[0].Args["op_kwargs"].(map[string]any)["w"] != 5.0 {
		t.Error("MarshalDAG changed the DAG")
	}
}
