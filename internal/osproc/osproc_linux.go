//go:build linux

package osproc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// startOf returns the Start of a running pid, from /proc: the start time
// in clock ticks since boot, which with the boot id and the pid namespace
// names one process for the life of the host. false when no such process
// runs (an exited one waiting to be reaped does not).
func startOf(pid int) (string, bool) {
	st, ok := ReadStat(pid)
	if !ok || !st.Running() {
		return "", false
	}
	return hostScope() + "/" + strconv.FormatUint(st.StartTicks, 10), true
}

// ReadStat reads /proc/PID/stat; false when no such process exists.
func ReadStat(pid int) (Stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return parseStat(b)
}

// parseStat reads "pid (comm) state ppid pgrp ... starttime ...": comm
// may hold spaces and parentheses, so fields are counted from the last
// ')'; state is the first field after it, pgrp the third, starttime
// (field 22 of proc(5)) the twentieth.
func parseStat(b []byte) (Stat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return Stat{}, false
	}
	pgrp, err1 := strconv.Atoi(string(f[2]))
	start, err2 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil {
		return Stat{}, false
	}
	return Stat{State: f[0][0], Pgrp: pgrp, StartTicks: start}, true
}

// hostScope is this boot and pid namespace, read once: neither changes
// while the process lives, and the scheduler asks on every pass.
var hostScope = sync.OnceValue(func() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return bootID() + "/" + ns
})

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
