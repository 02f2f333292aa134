//go:build !linux

package osproc

// startOf is unknown off Linux: the pid alone is checked.
func startOf(int) (string, bool) { return "", false }

// ReadStat is unknown off Linux.
func ReadStat(int) (Stat, bool) { return Stat{}, false }
