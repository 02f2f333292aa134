package plainpickle_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/plainpickle"
)

const python = "/usr/bin/python3"

// pickles asks Python to pickle expr with every protocol and returns the
// bytes per protocol.
func pickles(t *testing.T, expr string) [][]byte {
	t.Helper()
	if _, err := exec.LookPath(python); err != nil {
		t.Skip("no " + python)
	}
	script := "import pickle,sys\nv=" + expr + "\nfor p in range(6): print(pickle.dumps(v, protocol=p).hex())\n"
	out, err := exec.Command(python, "-c", script).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var res [][]byte
	for _, line := range strings.Fields(string(out)) {
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, b)
	}
	return res
}

func TestDecodePlainData(t *testing.T) {
	t.Parallel()
	cases := []struct{ expr, want string }{
		{`{}`, `{}`},
		{`None`, `null`},
		{`{"a": 1, "b": [1, 2.5, "x"], "c": None, "d": True, "e": False}`, `{"a":1,"b":[1,2.5,"x"],"c":null,"d":true,"e":false}`},
		{`{"neg": -7, "big": 2**40, "huge": 2**70, "small": -300}`, `{"big":1099511627776,"huge":1180591620717411303424,"neg":-7,"small":-300}`},
		{`("t", 1, (2, 3))`, `["t",1,[2,3]]`},
		{`["é ☃ 😀", "a\nb", "quote'\""]`, `["é ☃ 😀","a\nb","quote'\""]`},
		{`[{"k": "v"}] * 3`, `[{"k":"v"},{"k":"v"},{"k":"v"}]`},
		{`list(range(2000))[-2:]`, `[1998,1999]`},
		{`{"x": 1e300, "y": -0.5}`, `{"x":1e+300,"y":-0.5}`},
		{`"s" * 300`, `"` + strings.Repeat("s", 300) + `"`},
	}
	for _, c := range cases {
		for proto, b := range pickles(t, c.expr) {
			v, err := plainpickle.Decode(b)
			if err != nil {
				t.Errorf("%s protocol %d: %v", c.expr, proto, err)
				continue
			}
			got, _ := json.Marshal(v)
			if string(got) != c.want {
				t.Errorf("%s protocol %d: got %s, want %s", c.expr, proto, got, c.want)
			}
		}
	}
}

func TestDecodeRefusesObjects(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		`__import__("datetime").datetime(2020, 1, 2)`,
		`{"when": __import__("datetime").date(2020, 1, 2)}`,
		`{1, 2}`,
		`b"raw bytes"`,
		`{1: "int key"}`,
		`__import__("collections").OrderedDict(a=1)`,
	} {
		for proto, b := range pickles(t, expr) {
			_, err := plainpickle.Decode(b)
			if !errors.Is(err, plainpickle.ErrNotPlain) {
				t.Errorf("%s protocol %d: got %v, want ErrNotPlain", expr, proto, err)
			}
		}
	}
}

func TestDecodeRefusesCodeExecution(t *testing.T) {
	t.Parallel()
	// os.system("touch /tmp/x") as protocol 0 would run it in Python.
	evil := []byte("cos\nsystem\n(S'touch /tmp/plainpickle-pwned'\ntR.")
	if _, err := plainpickle.Decode(evil); !errors.Is(err, plainpickle.ErrNotPlain) {
		t.Fatalf("got %v, want ErrNotPlain", err)
	}
}

func TestDecodeMalformedAndHostile(t *testing.T) {
	t.Parallel()
	for name, b := range map[string][]byte{
		"empty":          {},
		"truncated":      {0x80, 0x04, 'X', 0xff, 0xff, 0, 0},
		"no stop":        {0x80, 0x04, '}'},
		"underflow":      {0x80, 0x04, 's', '.'},
		"bad memo":       {0x80, 0x04, 'h', 9, '.'},
		"self reference": {0x80, 0x02, ']', 'q', 0, 'h', 0, 'a', '.'},
		"unknown opcode": {0x80, 0x04, 0xfe, '.'},
	} {
		if _, err := plainpickle.Decode(b); err == nil {
			t.Errorf("%s: decoded, want an error", name)
		}
	}
}

func TestIsPickle(t *testing.T) {
	t.Parallel()
	for _, b := range pickles(t, `{}`)[2:] {
		if !plainpickle.IsPickle(b) {
			t.Errorf("%x: not recognised", b)
		}
	}
	if plainpickle.IsPickle([]byte(`{"a": 1}`)) {
		t.Error("JSON taken for a pickle")
	}
}

// TestEncodeReadByPython pickles plain data in Go and has Python unpickle
// it; the result must be the same value, and Decode must read it back.
func TestEncodeReadByPython(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath(python); err != nil {
		t.Skip("no " + python)
	}
	var v any
	doc := `{"a": 1, "b": [1, 2.5, "x", null, true, false], "neg": -300, "big": 12345678901234567890, "s": "é ☃", "empty": {}, "l": []}`
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := plainpickle.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", "import pickle,sys,json; print(json.dumps(pickle.loads(bytes.fromhex(sys.argv[1])), sort_keys=True))", hex.EncodeToString(b)).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	want := `{"a": 1, "b": [1, 2.5, "x", null, true, false], "big": 12345678901234567890, "empty": {}, "l": [], "neg": -300, "s": "\u00e9 \u2603"}`
	if strings.TrimSpace(string(out)) != want {
		t.Errorf("python read %s, want %s", out, want)
	}
	back, err := plainpickle.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(back); !strings.Contains(string(got), `"neg":-300`) || !strings.Contains(string(got), `"b":[1,2.5,"x",null,true,false]`) {
		t.Errorf("decoded %s", got)
	}
}
