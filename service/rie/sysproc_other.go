//go:build !linux

package rie

import "syscall"

// Pdeathsig is Linux-only; elsewhere the process group still lets Stop kill
// the bootstrap with the emulator.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
