package proctable

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestListSeesAChildAndItsParent(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	procs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(procs, func(p Process) bool { return p.PID == cmd.Process.Pid })
	if i < 0 {
		t.Fatalf("child %d not listed", cmd.Process.Pid)
	}
	if p := procs[i]; p.PPID != os.Getpid() || len(p.Args) != 2 || p.Args[0] != "sleep" || p.IsEmulator() {
		t.Fatalf("child listed as %+v, want ppid %d and args [sleep 30]", p, os.Getpid())
	}
}

func TestZombiesAreLeftOut(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Not reaped yet: once it exits it is a zombie, which List must skip.
	for i := 0; i < 200; i++ {
		st, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
		if err == nil && containsState(string(st), "Z") {
			break
		}
		sleepMS(5)
	}
	procs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(procs, func(p Process) bool { return p.PID == pid }) {
		t.Fatalf("zombie %d listed", pid)
	}
	cmd.Wait()
}
