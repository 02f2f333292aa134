//go:build unix && !linux

package process

import "syscall"

// groupRunning reports whether any process of group pgid exists.
func groupRunning(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
