package windsock

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestExpandIndexArgs(t *testing.T) {
	t.Parallel()
	lit := func(s string) MapSource { return MapSource{Literal: json.RawMessage(s)} }
	xcom := func(id string) MapSource { return MapSource{XCom: &XComArg{TaskID: id, Key: XComReturnKey}} }
	for _, tc := range []struct {
		name string
		e    Expand
		in   MapInputs
		n    int
		want []string // fmt of IndexArgs per index
	}{
		{"list", Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{"x", lit(` [ "a", "b\"]", {"k": [1, "]"]} ] `)}}},
			nil, 3, []string{`map[x:a]`, `map[x:b"]]`, `map[x:map[k:[1 ]]]]`}},
		{"dict pairs in order", Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{"x", lit(`{"z": 1, "a": [2]}`)}}},
			nil, 2, []string{`map[x:[z 1]]`, `map[x:[a [2]]]`}},
		{"cross product, last fastest", Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{"a", lit(`[1,2]`)}, {"b", xcom("up")}}},
			MapInputs{"up": json.RawMessage(`["x","y","z"]`)}, 6,
			[]string{`map[a:1 b:x]`, `map[a:1 b:y]`, `map[a:1 b:z]`, `map[a:2 b:x]`, `map[a:2 b:y]`, `map[a:2 b:z]`}},
		{"expand_kwargs", Expand{Kind: ExpandListOfDicts, Kwargs: &MapSource{XCom: &XComArg{TaskID: "up"}}},
			MapInputs{"up": json.RawMessage(`[{"a": 1}, {"a": 2.0, "b": null}]`)}, 2, []string{`map[a:1]`, `map[a:2 b:<nil>]`}},
		{"empty", Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{"x", lit(`[]`)}, {"y", lit(`[1]`)}}}, nil, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := tc.e.Length(tc.in)
			if err != nil || n != tc.n {
				t.Fatalf("Length = %d, %v; want %d", n, err, tc.n)
			}
			for i, want := range tc.want {
				kw, err := tc.e.IndexArgs(i, tc.in)
				if err != nil || fmt.Sprint(kw) != want {
					t.Errorf("IndexArgs(%d) = %v, %v; want %s", i, kw, err, want)
				}
			}
			if _, err := tc.e.IndexArgs(tc.n, tc.in); err == nil {
				t.Errorf("IndexArgs(%d) past the end succeeded", tc.n)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	t.Parallel()
	e := Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{"x", MapSource{XCom: &XComArg{TaskID: "up"}}}}}
	if _, err := e.Length(MapInputs{}); err == nil || !strings.Contains(err.Error(), "did not push XCom") {
		t.Errorf("missing input: %v", err)
	}
	if _, err := e.Length(MapInputs{"up": json.RawMessage(`"abc"`)}); err == nil || !strings.Contains(err.Error(), "unmappable return type 'str'") {
		t.Errorf("string input: %v", err)
	}
	if _, err := e.Length(MapInputs{"up": json.RawMessage(`[1, "unterminated]`)}); err == nil {
		t.Error("malformed input accepted")
	}
	kw := Expand{Kind: ExpandListOfDicts, Kwargs: &MapSource{Literal: json.RawMessage(`[1]`)}}
	if _, err := kw.IndexArgs(0, nil); err == nil || !strings.Contains(err.Error(), "expects a list[dict], not list[int]") {
		t.Errorf("expand_kwargs of ints: %v", err)
	}
	for raw, want := range map[string]string{
		``:                           "XComForMappingNotPushed: did not push XCom for task mapping",
		`null`:                       "XComForMappingNotPushed",
		`3.5`:                        "UnmappableXComTypePushed: unmappable return type 'float'",
		`[1,2,3,4]`:                  "UnmappableXComLengthPushed: unmappable return value length: 4 > 3",
		`{"a":1}`:                    "",
		`[1,2,3]`:                    "",
		`{"a":1,"b":2,"c":3,"d":[]}`: "length: 4 > 3",
	} {
		err := CheckMappable(json.RawMessage(raw), 3)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckMappable(%q) = %v, want %q", raw, err, want)
		}
	}
	if err := CheckMappable(json.RawMessage("["+strings.Repeat("1,", 1024)+"1]"), 0); err == nil || !strings.Contains(err.Error(), "1025 > 1024") {
		t.Errorf("default max_map_length: %v", err)
	}
}

// BenchmarkIndexArgs1000 is one instance's arguments of a task mapped over
// 1,000 literal strings: paid once per try.
func BenchmarkIndexArgs1000(b *testing.B) {
	e := &Expand{Kind: ExpandDictOfLists, Args: []ExpandArg{{Name: "bash_command",
		MapSource: MapSource{Literal: json.RawMessage("[" + strings.Repeat(`"true",`, 999) + `"true"]`)}}}}
	for i := 0; i < b.N; i++ {
		if _, err := e.IndexArgs(i%1000, nil); err != nil {
			b.Fatal(err)
		}
	}
}
