package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
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
	want := []byte(strconv.Itoa(pgid))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold anything, so
		// parse from the last parenthesis.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) >= 3 && bytes.Equal(f[2], want) && f[0][0] != 'Z' && f[0][0] != 'X' {
			pid, err := strconv.Atoi(name)
			if err != nil || pid == skip {
				continue
			}
			if out = append(out, pid); len(out) == limit {
				return out
			}
		}
	}
	return out
}
