// Package tofurun runs OpenTofu for the sandbox's Spacelift stand-in: the
// CLI config whose filesystem mirror installs the sandbox's providers, the
// backend override, a run's process environment, one tofu process (in its
// own process group, interrupted and then killed on cancellation), and the
// reading of what tofu leaves: a saved plan's JSON as Spacelift's
// run.changes, the state file (format 4) as resource values and outputs,
// and the order in which an apply completed its resources. It knows nothing
// of queues, policies or stacks' lifecycles (package spacelift).
package tofurun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tofu is how runs execute OpenTofu: the real binary, with the sandbox's
// providers installed from a filesystem mirror by a CLI config of the
// engine's own, so nothing reaches a registry.
type Tofu struct {
	// Path is the tofu binary.
	Path string
	// ProvidersDir holds terraform-provider-spacelift and
	// terraform-provider-aws, the sandbox's providers.
	ProvidersDir string
}

// CheckProviders reports a sandbox provider missing from ProvidersDir.
func (t Tofu) CheckProviders() error {
	for _, p := range providerVersions {
		if _, err := os.Stat(filepath.Join(t.ProvidersDir, p.binary)); err != nil {
			return fmt.Errorf("sandbox provider %s: %w (make tools builds it)", p.binary, err)
		}
	}
	return nil
}

// BackendOverrideFile is the backend override every run's root gets, as
// Spacelift adds its own backend to stacks whose state it manages: the
// address and credentials come from TF_HTTP_* in the run's environment
// (see Env).
const BackendOverrideFile = "zz_spacelift_backend_override.tf"

// BackendOverrideHCL is BackendOverrideFile's content.
const BackendOverrideHCL = `# Written by the sandbox's Spacelift stand-in for this run: the stack's state
# lives in the stand-in, as Spacelift manages state for its stacks.
terraform {
  backend "http" {}
}
`

// Versions the sandbox providers are installed as: the real providers'
// versions the schema snapshots were taken from, which manager/'s and
// infra/'s version constraints accept.
var providerVersions = []struct{ source, binary, version string }{
	{"registry.terraform.io/spacelift-io/spacelift", "terraform-provider-spacelift", "1.53.5"},
	{"registry.terraform.io/hashicorp/aws", "terraform-provider-aws", "5.100.0"},
}

// WriteCLIConfig installs the sandbox providers into a filesystem mirror
// next to path (links to the binaries, in the unpacked layout tofu reads)
// and writes at path the CLI config every tofu process of the engine reads:
// that mirror for the two providers, and no direct installation of anything, so
// no run reaches a registry. A mirror rather than dev_overrides because
// tofu init refuses version constraints on overridden providers.
func WriteCLIConfig(path, providersDir string) error {
	mirror := filepath.Join(filepath.Dir(path), "providers")
	var includes []string
	for _, p := range providerVersions {
		bin, err := filepath.Abs(filepath.Join(providersDir, p.binary))
		if err != nil {
			return fmt.Errorf("provider %s: %w", p.binary, err)
		}
		dir := filepath.Join(mirror, filepath.FromSlash(p.source), p.version, runtime.GOOS+"_"+runtime.GOARCH)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("provider mirror: %w", err)
		}
		link := filepath.Join(dir, p.binary+"_v"+p.version)
		_ = os.Remove(link)
		if err := os.Symlink(bin, link); err != nil {
			return fmt.Errorf("provider mirror: %w", err)
		}
		includes = append(includes, fmt.Sprintf("%q", p.source))
	}
	cfg := "# Written by the sandbox: its providers stand in for the registry's.\n" +
		"provider_installation {\n" +
		"  filesystem_mirror {\n" +
		"    path    = " + fmt.Sprintf("%q", mirror) + "\n" +
		"    include = [" + strings.Join(includes, ", ") + "]\n" +
		"  }\n" +
		"  direct {\n" +
		"    exclude = [\"*/*/*\"]\n" +
		"  }\n" +
		"}\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("tofu CLI config: %w", err)
	}
	return writeFileAtomic(path, []byte(cfg))
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Cmd is one tofu invocation of a run.
type Cmd struct {
	Dir  string
	Env  []string
	Log  func(line string) // each line of output, as tofu printed it
	Bin  string
	Quit time.Duration // how long tofu gets to stop after an interrupt
}

// Run executes tofu with args and returns its stdout when capture is set
// (logging stderr), else logs both. tofu runs in its own process group: on
// cancellation it is interrupted as a person would (so it saves state and
// releases its lock), then the whole group, providers included, is killed.
func (t Cmd) Run(ctx context.Context, capture bool, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, t.Bin, args...)
	cmd.Dir = t.Dir
	cmd.Env = t.Env
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return interruptGroup(cmd) }
	cmd.WaitDelay = t.Quit
	var out bytes.Buffer
	var wg sync.WaitGroup
	pipe := func(r io.Reader) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			t.Log(sc.Text())
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if capture {
		cmd.Stdout = &out
	} else {
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go pipe(stdout)
	}
	wg.Add(1)
	go pipe(stderr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start tofu %s: %w", args[0], err)
	}
	wg.Wait()
	err = cmd.Wait()
	killGroup(cmd)
	if err != nil {
		if ctx.Err() != nil {
			return out.Bytes(), fmt.Errorf("tofu %s: %w (%v)", args[0], ctx.Err(), err)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &ExitError{Command: args[0], Code: ee.ExitCode()}
		}
		return out.Bytes(), fmt.Errorf("tofu %s: %w", args[0], err)
	}
	return out.Bytes(), nil
}

// ExitError is tofu's non-zero exit. Callers that ask for
// -detailed-exitcode read Code: 2 is a plan with changes, not a failure.
type ExitError struct {
	Command string
	Code    int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("tofu %s exited with status %d", e.Command, e.Code)
}

// PlanHasChanges reads the result of `tofu plan -detailed-exitcode`:
// exit 0 is no changes, 2 is changes present (resources or outputs), and
// anything else is the plan's failure, returned as is.
func PlanHasChanges(err error) (bool, error) {
	var ee *ExitError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &ee) && ee.Code == 2:
		return true, nil
	}
	return false, err
}

func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig: a sandbox killed with SIGKILL takes its tofu processes
	// with it (the providers die with tofu: see their main).
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func interruptGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
}

// killGroup removes whatever of the group is left (a provider that did not
// exit with tofu); the group ID is tofu's PID, which is not reused while
// the group has members.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
