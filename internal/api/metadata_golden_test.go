package api

import (
	"bytes"
	"encoding/json"
	goflag "flag"
	"os"
	"path/filepath"
	"testing"
)

// updateGolden rewrites the golden files instead of comparing with them:
// go test ./internal/api -run Golden -update
var updateGolden = goflag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares a JSON response body with testdata/golden/<name>.json,
// both indented the same way so the files stay readable and diffs small.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("golden %s: body is not JSON: %v\n%s", name, err, body)
	}
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("golden %s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}
