// Package osproc names a process of this host so that it can be told
// apart from a later process that reuses its pid: the pid with the time the
// process started (and, on Linux, the boot it started in). Schedulers use
// it to find the tries whose process died with the host's other processes
// still running: a crashed scheduler, standalone or worker.
package osproc

import "syscall"

// Identity is one process of this host.
type Identity struct {
	PID int
	// Start tells processes that had the same pid apart: on Linux, the
	// boot id and the start time in clock ticks since boot; "" when it
	// cannot be read (the pid alone is then checked).
	Start string
}

// Self returns this process's identity.
func Self() Identity {
	pid := syscall.Getpid()
	start, _ := startOf(pid)
	return Identity{PID: pid, Start: start}
}

// Alive reports whether the process id names still runs: a process with
// its pid exists and, when id.Start is known, started when it did. An
// unknown start time on either side falls back to the pid alone.
func (id Identity) Alive() bool {
	if id.PID <= 0 {
		return false
	}
	if err := syscall.Kill(id.PID, 0); err != nil && err != syscall.EPERM {
		return false
	}
	if id.Start == "" {
		return true
	}
	now, ok := startOf(id.PID)
	if !ok {
		// Gone between the two looks, or unreadable: trust the pid only
		// when the start time cannot be read at all.
		return syscall.Kill(id.PID, 0) == nil && !readable()
	}
	return now == id.Start
}
