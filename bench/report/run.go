package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"preview-environments/bench/benchout"
)

// Status says whether a run happened and how it ended.
type Status int

const (
	Ran    Status = iota // go test exited 0
	Failed               // go test exited non-zero or could not start
	NotRun               // skipped, e.g. the time budget was spent
)

// Outcome is a run's result.
type Outcome struct {
	Run     Run
	Status  Status
	Reason  string // for Failed and NotRun
	Elapsed time.Duration
	Raw     []byte
	Out     benchout.Output
}

// Exec runs r from root with go test, copying its output to w as it comes
// (the person running make bench sees progress). Cancelling ctx stops the
// whole process group: go test and the test binary with the emulators it
// started.
func Exec(ctx context.Context, root string, r Run, w io.Writer) Outcome {
	o := Outcome{Run: r}
	if err := ctx.Err(); err != nil {
		o.Status, o.Reason = NotRun, "time budget spent before this run"
		return o
	}
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", r.Args()...)
	cmd.Dir = root
	// The workspace being measured, whatever GOWORK the caller had.
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	cmd.Stdout = io.MultiWriter(&buf, w)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	o.Elapsed = time.Since(start)
	if cmd.Process != nil {
		// Whatever the group left behind (it normally leaves nothing).
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	o.Raw = buf.Bytes()
	out, perr := benchout.Parse(bytes.NewReader(o.Raw))
	o.Out = out
	switch {
	case ctx.Err() != nil:
		o.Status, o.Reason = Failed, "stopped: time budget spent during this run"
	case err != nil:
		o.Status, o.Reason = Failed, fmt.Sprintf("go test: %v: %s", err, lastLines(o.Raw, 3))
	case perr != nil:
		o.Status, o.Reason = Failed, perr.Error()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && o.Reason == "" {
		o.Status, o.Reason = Failed, exitErr.Error()
	}
	return o
}

// lastLines is the tail of a failed run's output, for the report.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// WriteRaw writes every run's output, in order, to path: a file benchstat
// reads (it keys results by the "pkg:" lines go test prints).
func WriteRaw(path string, outcomes []Outcome) error {
	var b bytes.Buffer
	for _, o := range outcomes {
		if o.Status == NotRun {
			continue
		}
		fmt.Fprintf(&b, "# %s\n", o.Run.Command())
		b.Write(o.Raw)
		if len(o.Raw) > 0 && o.Raw[len(o.Raw)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return WriteAtomic(path, b.Bytes())
}

// WriteAtomic replaces path only once the new content is complete: a
// report is never left half-written.
func WriteAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
