//go:build linux

package lifeline

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary plays three parts: the test (grandparent), a "tofu"
// that starts a "provider" and prints its PID, and the provider, which
// holds the lifeline and sleeps.
func TestMain(m *testing.M) {
	switch os.Getenv("LIFELINE_ROLE") {
	case "tofu":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "LIFELINE_ROLE=provider")
		if err := cmd.Start(); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "provider":
		Hold()
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestProviderDiesWithKilledParent(t *testing.T) {
	tofu := exec.Command(os.Args[0], "-test.run=^$")
	tofu.Env = append(os.Environ(), "LIFELINE_ROLE=tofu")
	out, err := tofu.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tofu.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no provider PID from the fake tofu: %v", err)
	}
	pid, err := strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the provider reach Hold
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("provider %d is not running before the kill: %v", pid, err)
	}
	if err := tofu.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = tofu.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil {
			return // gone
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && zombie(b) {
			return // dead, waiting for init to reap it
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("provider %d outlived its killed parent by 5 s", pid)
		}
	}
}

func zombie(stat []byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2] == 'Z'
		}
	}
	return false
}
