package windsock

import (
	"strings"
	"testing"
)

func TestCheckKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id      string
		key     bool // CheckKey accepts it
		pathSeg bool // CheckPathID accepts it
	}{
		{"etl_daily", true, true},
		{"a.b-c_1", true, true},
		{"données", true, true},
		{strings.Repeat("é", MaxIDLength), true, true},
		{strings.Repeat("é", MaxIDLength+1), false, false},
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{"...", true, true},
		{"a/b", false, false},
		{`a\b`, false, false},
		{"a\nb", false, false},
		{"a\x00b", false, false},
		{"bad\xffutf8", false, false},
		{"run:2024+00", false, true},
		{"with space", false, true},
	}
	for _, tt := range tests {
		if err := CheckKey("dag_id", tt.id); (err == nil) != tt.key {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", tt.id, err, tt.key)
		} else if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("CheckKey(%q) code = %q", tt.id, ErrorCode(err))
		}
		if err := CheckPathID("run_id", tt.id); (err == nil) != tt.pathSeg {
			t.Errorf("CheckPathID(%q) = %v, want ok=%v", tt.id, err, tt.pathSeg)
		}
	}
}
