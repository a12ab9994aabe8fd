// Package rie runs a Lambda bootstrap under AWS's Runtime Interface Emulator
// (aws-lambda-rie) on loopback and invokes it.
//
// The emulator crashes when one process gets two invocations at once (a known
// upstream bug), so a Process serialises its invocations; run several
// Processes for concurrency. Each emulator runs in its own process group with
// a parent-death signal, so neither it nor its bootstrap outlives the caller.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Binary is the emulator's executable name, looked up in PATH (make puts bin/ first).
const Binary = "aws-lambda-rie"

// invokePath is the emulator's Lambda Invoke API path for its single function.
const invokePath = "/2015-03-31/functions/function/invocations"

// Options configure one emulator process.
type Options struct {
	// BootstrapPath is the Lambda's executable (the `bootstrap` from the zip).
	BootstrapPath string
	// Env holds KEY=VALUE pairs the function sees. The emulator forwards its
	// whole environment to the function, so the caller's environment is NOT
	// inherited: a function must not see the host's credentials by accident.
	Env []string
	// RIEPath is the emulator binary; empty means Binary looked up in PATH.
	RIEPath string
	// Stdout and Stderr receive the emulator's and the function's logs
	// (the function's slog lines arrive on Stdout). Nil discards them.
	Stdout, Stderr io.Writer
	// StartTimeout bounds how long Start waits for the emulator to listen
	// (default 10s).
	StartTimeout time.Duration
	// LogLevel is the emulator's own log level (default "error").
	LogLevel string
}

// Process is one running emulator with its bootstrap.
type Process struct {
	addr   string // emulator (Invoke API) address, 127.0.0.1:port
	cmd    *exec.Cmd
	client *http.Client

	mu       sync.Mutex // one invocation at a time: the emulator crashes otherwise
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// ErrNotFound is returned when the emulator binary is missing.
var ErrNotFound = errors.New(Binary + " not found in PATH: run make tools")

// Start launches the emulator for opts.BootstrapPath on two free loopback
// ports and waits until it accepts connections. ctx bounds the start only;
// call Stop to end the process.
func Start(ctx context.Context, opts Options) (*Process, error) {
	if opts.BootstrapPath == "" {
		return nil, errors.New("rie: BootstrapPath is empty")
	}
	boot, err := filepath.Abs(opts.BootstrapPath)
	if err != nil {
		return nil, fmt.Errorf("rie: bootstrap %q: %w", opts.BootstrapPath, err)
	}
	if fi, err := os.Stat(boot); err != nil {
		return nil, fmt.Errorf("rie: bootstrap %q: %w", boot, err)
	} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("rie: bootstrap %q is not an executable file", boot)
	}
	riePath := opts.RIEPath
	if riePath == "" {
		if riePath, err = exec.LookPath(Binary); err != nil {
			return nil, ErrNotFound
		}
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 10 * time.Second
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "error"
	}

	// Free ports are picked then released, so another process may grab one
	// first; the emulator then exits at once and we try fresh ports.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := start(ctx, riePath, boot, opts)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, riePath, boot string, opts Options) (*Process, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("rie: pick loopback ports: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	apiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	cmd := exec.Command(riePath,
		"--log-level", opts.LogLevel,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=UTC"}, opts.Env...)
	cmd.Stdout = orDiscard(opts.Stdout)
	cmd.Stderr = orDiscard(opts.Stderr)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rie: start %s: %w", riePath, err)
	}
	p := &Process{
		addr: addr,
		cmd:  cmd,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			DisableCompression:  true,
		}},
		done: make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	if err := p.waitListening(ctx, opts.StartTimeout); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitListening(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	delay := 200 * time.Microsecond
	for {
		c, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("rie: emulator exited before listening on %s: %v", p.addr, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("rie: waiting for emulator on %s: %w", p.addr, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("rie: emulator not listening on %s after %s", p.addr, timeout)
		case <-time.After(delay):
		}
		if delay < 5*time.Millisecond {
			delay *= 2
		}
	}
}

// Addr is the emulator's Invoke API address (127.0.0.1:port).
func (p *Process) Addr() string { return p.addr }

// Pid is the emulator's process id (also its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the emulator process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// InvokeError is a non-200 answer from the emulator.
type InvokeError struct {
	Status int
	Body   []byte
}

func (e *InvokeError) Error() string {
	return fmt.Sprintf("rie: invoke: status %d: %s", e.Status, bytes.TrimSpace(e.Body))
}

// Invoke sends payload (the event JSON) to the function and returns the
// emulator's answer body: the function's JSON result, or its error JSON
// (errorMessage, errorType) when the emulator reports that with 200, as
// Lambda's Invoke API does. Any other status is an *InvokeError. Calls on
// one Process are serialised.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return nil, fmt.Errorf("rie: invoke %s: emulator has exited: %v", p.addr, p.waitErr)
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+p.addr+invokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("rie: invoke %s: %w", p.addr, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke %s: %w", p.addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke %s: read response: %w", p.addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &InvokeError{Status: resp.StatusCode, Body: body}
	}
	return body, nil
}

// Stop kills the emulator and its bootstrap and waits for the emulator to
// exit. It is safe to call more than once.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		p.client.CloseIdleConnections()
		// The emulator starts the bootstrap in a process group of its own,
		// so its children's groups are killed first, then the emulator's.
		for _, pid := range children(p.cmd.Process.Pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
