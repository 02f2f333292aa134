//go:build linux

package osproc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// startOf returns the Start of a running pid, from /proc: field 22 of
// /proc/PID/stat is the start time in clock ticks since boot, which with
// the boot id and the pid namespace names one process for the life of the
// host. false when no such process runs (an exited one waiting to be
// reaped does not).
func startOf(pid int) (string, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so fields are counted from the last ')'; starttime is the 20th
	// field after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", false
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 20 || f[0][0] == 'Z' || f[0][0] == 'X' {
		return "", false
	}
	return hostScope() + "/" + string(f[19]), true
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
