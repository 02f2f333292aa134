// Package osproc names a process of this host so that it can be told
// apart from a later process that reuses its pid: the pid with the time the
// process started, in the boot and pid namespace it started in. Schedulers
// use it to find at once the tries whose process died while the host runs
// on: a crashed scheduler, standalone or worker.
package osproc

import (
	"strings"
	"sync"
	"syscall"
)

// Identity is one process of this host.
type Identity struct {
	PID int
	// Start tells processes that had the same pid apart: on Linux,
	// "<boot id>/<pid namespace>/<start time in clock ticks since boot>";
	// "" when it cannot be read.
	Start string
}

// Stat is what this package reads of a process's /proc/PID/stat.
type Stat struct {
	// State is proc(5)'s state letter: R, S, D, Z (zombie), X (dead)...
	State byte
	// Pgrp is the process group id.
	Pgrp int
	// StartTicks is the start time in clock ticks since boot.
	StartTicks uint64
}

// Running reports whether the process has not exited: neither a zombie
// waiting to be reaped nor dead.
func (s Stat) Running() bool { return s.State != 'Z' && s.State != 'X' }

// Self returns this process's identity.
func Self() Identity {
	pid := syscall.Getpid()
	start, _ := startOf(pid)
	return Identity{PID: pid, Start: start}
}

// Gone reports whether the process id names has certainly ended: no
// process has its pid, or the one that has it started at another time (a
// reused pid). A process recorded in another boot or pid namespace (a host
// of the same name, a container) cannot be judged from here: it is not
// gone. With no start time recorded, the pid alone decides.
func (id Identity) Gone() bool {
	if id.PID <= 0 {
		return false
	}
	if id.Start == "" {
		err := syscall.Kill(id.PID, 0)
		return err != nil && err != syscall.EPERM
	}
	if here := selfScope(); here == "" || here != scope(id.Start) {
		return false
	}
	now, ok := startOf(id.PID)
	return !ok || now != id.Start
}

// selfScope is this process's boot and pid namespace ("" when unknown),
// read once: schedulers ask for every executor at every pass.
var selfScope = sync.OnceValue(func() string {
	start, _ := startOf(syscall.Getpid())
	return scope(start)
})

// scope is the boot and pid namespace part of a start.
func scope(start string) string {
	i := strings.LastIndexByte(start, '/')
	if i < 0 {
		return ""
	}
	return start[:i]
}
