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

func TestOfSandbox(t *testing.T) {
	const dir = "/data/sb"
	for _, tc := range []struct {
		name string
		p    Process
		want bool
	}{
		{"its emulator", Process{Args: []string{"/bin/aws-lambda-rie", "--x", "/data/sb/functions/f/v/bootstrap"}}, true},
		{"another sandbox's emulator", Process{Args: []string{"/bin/aws-lambda-rie", "/data/sb2/functions/f/bootstrap"}}, false},
		{"a bootstrap", Process{Args: []string{"/data/sb/functions/f/v/bootstrap"}}, true},
		{"a run's provider", Process{Args: []string{"/data/sb/tmp/run-1/manager/.terraform/providers/x/terraform-provider-aws_v5.100.0"}}, true},
		{"a run's tofu", Process{Args: []string{"/repo/bin/tofu", "plan"}, Cwd: "/data/sb/tmp/run-1/manager"}, true},
		{"a tofu elsewhere", Process{Args: []string{"/repo/bin/tofu", "plan"}, Cwd: "/home/me/infra"}, false},
		{"a prefix that is not the directory", Process{Args: []string{"/data/sbx/bootstrap"}}, false},
	} {
		if got := tc.p.OfSandbox(dir); got != tc.want {
			t.Errorf("%s: OfSandbox = %v, want %v", tc.name, got, tc.want)
		}
	}
}
