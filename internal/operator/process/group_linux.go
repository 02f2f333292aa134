package process

import (
	"os"
	"strconv"
	"syscall"

	"github.com/windsock/windsock/internal/osproc"
)

// groupRunning reports whether a process of group pgid is still running.
// Exited members waiting to be reaped by init (zombies) still answer
// kill(-pgid, 0) but hold nothing, so /proc is read to tell them apart;
// this runs only after a cancellation, and only while the group exists.
func groupRunning(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	return len(groupMembers(pgid, 0, 1)) > 0
}

// KillGroupExcept sends SIGKILL to every running member of process group
// pgid but keep: what a task left behind in the group of a process that
// lives on (a reused Python worker). It returns how many it killed.
func KillGroupExcept(pgid, keep int) int {
	if syscall.Kill(-pgid, 0) != nil {
		return 0
	}
	n := 0
	for _, pid := range groupMembers(pgid, keep, -1) {
		if pid > 1 { // never -1 (unknown), which kill(2) reads as "every process"
			_ = syscall.Kill(pid, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// groupMembers returns up to limit (all when negative) running members of
// group pgid other than skip, from /proc.
func groupMembers(pgid, skip, limit int) []int {
	var out []int
	d, err := os.Open("/proc")
	if err != nil {
		return []int{-1} // unknown: taken for running, never killed
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return []int{-1}
	}
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == skip {
			continue
		}
		if st, ok := osproc.ReadStat(pid); ok && st.Pgrp == pgid && st.Running() {
			if out = append(out, pid); len(out) == limit {
				return out
			}
		}
	}
	return out
}
