//go:build linux

package osproc

import (
	"os"
	"testing"
)

// TestParseStat: fields are counted from the last ')', whatever the
// command name holds.
func TestParseStat(t *testing.T) {
	t.Parallel()
	tail := " 1 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10"
	for _, c := range []struct {
		line    string
		want    Stat
		ok      bool
		running bool
	}{
		{"12 (bash) S" + tail, Stat{State: 'S', Pgrp: 7, StartTicks: 98765}, true, true},
		{"12 (a) (b c)) R" + tail, Stat{State: 'R', Pgrp: 7, StartTicks: 98765}, true, true},
		{"12 (sleep) Z" + tail, Stat{State: 'Z', Pgrp: 7, StartTicks: 98765}, true, false},
		{"12 (short) S 1 7", Stat{}, false, false},
		{"no parenthesis", Stat{}, false, false},
	} {
		got, ok := parseStat([]byte(c.line))
		if got != c.want || ok != c.ok || (ok && got.Running() != c.running) {
			t.Errorf("parseStat(%q) = %+v %v, want %+v %v", c.line, got, ok, c.want, c.ok)
		}
	}
	self, ok := ReadStat(os.Getpid())
	if !ok || !self.Running() || self.StartTicks == 0 {
		t.Fatalf("ReadStat(self) = %+v %v", self, ok)
	}
}
