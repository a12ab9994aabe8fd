//go:build linux

package lifeline

import (
	"os"
	"syscall"
)

func hold() {
	// PR_SET_PDEATHSIG: the kernel sends SIGKILL when the parent exits.
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	// The parent may have died before the call: then we were reparented.
	if os.Getppid() == 1 {
		os.Exit(1)
	}
}
