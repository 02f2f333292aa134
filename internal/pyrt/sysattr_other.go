//go:build !linux

package pyrt

import "syscall"

func serverProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
