package rie

import "syscall"

// Own process group so Stop can kill the bootstrap with the emulator;
// Pdeathsig so a crashed caller does not leave emulators behind (the
// bootstrap then exits on its own when its Runtime API connection drops).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
