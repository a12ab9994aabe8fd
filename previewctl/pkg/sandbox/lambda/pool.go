package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"preview-environments/service/rie"
)

// ErrTimeout is returned (wrapped) when an invocation runs past its
// function's timeout; the emulator that ran it is discarded.
var ErrTimeout = errors.New("function timed out")

// errDraining tells Manager.Invoke the function was replaced between lookup
// and invoke; it retries on the current version.
var errDraining = errors.New("function version is draining")

// FunctionError is a function's own error result (Lambda's X-Amz-Function-Error).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return "function error " + e.Type + ": " + e.Message }

// Process is one running emulator; *rie.Process satisfies it.
type Process interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
	Stop()
	Pid() int
	Done() <-chan struct{}
}

// Launcher starts an emulator for the bootstrap at bootstrapPath with exactly
// the environment env.
type Launcher func(ctx context.Context, bootstrapPath string, env []string) (Process, error)

type proc struct {
	p        Process
	lastUsed time.Time
}

// Function is one deployed version of a function with its pool of
// emulators. Processes start on demand, at most Spec.PoolSize at once; a
// request that finds them all busy waits for one, as Lambda's reserved
// concurrency queues (here, rather than throttling with 429).
type Function struct {
	Spec Spec
	dir  string
	m    *Manager

	slots chan struct{} // a token per busy-or-starting process

	mu       sync.Mutex
	idle     []*proc // LIFO: the warmest process goes first
	closing  bool
	inflight sync.WaitGroup
}

func newFunction(m *Manager, spec Spec, dir string) *Function {
	return &Function{Spec: spec, dir: dir, m: m, slots: make(chan struct{}, spec.PoolSize)}
}

// Dir is where the version's zip is unpacked.
func (f *Function) Dir() string { return f.dir }

// Warm reports how many emulator processes are idle and ready.
func (f *Function) Warm() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.idle)
}

// Invoke runs one invocation on a free process of the pool.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return nil, errDraining
	}
	f.inflight.Add(1)
	f.mu.Unlock()
	defer f.inflight.Done()

	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("function %s: waiting for a free process: %w", f.Spec.Name, ctx.Err())
	}
	defer func() { <-f.slots }()

	for attempt := 0; ; attempt++ {
		out, err, retry := f.invokeOnce(ctx, payload)
		// A first invoke on a fresh emulator can fail in the emulator itself
		// (its runtime did not come up, e.g. a port taken between pick and
		// bind); like Lambda re-running a failed init, try one fresh process.
		if !retry || attempt > 0 || ctx.Err() != nil {
			return out, err
		}
		f.m.log.Warn("fresh emulator failed its first invoke; retrying on a new one", "function", f.Spec.Name, "err", err)
	}
}

func (f *Function) invokeOnce(ctx context.Context, payload []byte) ([]byte, error, bool) {
	p, err := f.take(ctx)
	if err != nil {
		return nil, err, false
	}
	fresh := p.lastUsed.IsZero()
	ictx, cancel := context.WithTimeout(ctx, f.Spec.Timeout)
	out, err := p.p.Invoke(ictx, payload)
	timedOut := errors.Is(ictx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		// Whatever state the emulator is in (mid-invoke, crashed), it cannot
		// safely take another invoke: discard it.
		f.m.stop(p.p)
		if ctx.Err() == nil && timedOut {
			return nil, fmt.Errorf("function %s: after %s: %w", f.Spec.Name, f.Spec.Timeout, ErrTimeout), false
		}
		// Retry only when the runtime produced nothing: a function that
		// crashed with an error report must not run twice.
		var ie *rie.InvokeError
		silent := !errors.As(err, &ie) || len(bytes.TrimSpace(ie.Body)) == 0
		return nil, fmt.Errorf("function %s: %w", f.Spec.Name, err), fresh && silent
	}
	out, err = classify(f.Spec, out)
	if errors.Is(err, ErrTimeout) {
		// The emulator reset its runtime after its own timeout; an invoke
		// right after that can hang, so start afresh like Lambda does.
		f.m.stop(p.p)
		return nil, err, false
	}
	p.lastUsed = time.Now()
	f.mu.Lock()
	f.idle = append(f.idle, p)
	f.mu.Unlock()
	return out, err, false
}

// classify turns the emulator's in-band error answers into errors: the
// function's error JSON and the emulator's own timeout text.
func classify(spec Spec, out []byte) ([]byte, error) {
	if bytes.HasPrefix(out, []byte(`{"errorMessage"`)) || bytes.HasPrefix(out, []byte(`{"errorType"`)) {
		fe := &FunctionError{}
		if err := json.Unmarshal(out, fe); err == nil {
			return nil, fmt.Errorf("function %s: %w", spec.Name, fe)
		}
	}
	if bytes.HasPrefix(out, []byte("Task timed out after")) {
		return nil, fmt.Errorf("function %s: %s: %w", spec.Name, bytes.TrimSpace(out), ErrTimeout)
	}
	return out, nil
}

// take returns an idle process or starts one; the caller holds a slot.
func (f *Function) take(ctx context.Context) (*proc, error) {
	f.mu.Lock()
	for n := len(f.idle); n > 0; n = len(f.idle) {
		p := f.idle[n-1]
		f.idle = f.idle[:n-1]
		select {
		case <-p.p.Done(): // died while idle (killed from outside): drop it
			f.m.stop(p.p) // its bootstrap may still be alive in the group
			continue
		default:
		}
		f.mu.Unlock()
		return p, nil
	}
	f.mu.Unlock()
	p, err := f.m.launch(ctx, f)
	if err != nil {
		return nil, err
	}
	return &proc{p: p}, nil
}

// reapIdle stops processes idle for longer than d.
func (f *Function) reapIdle(d time.Duration) {
	cut := time.Now().Add(-d)
	f.mu.Lock()
	var old []*proc
	keep := f.idle[:0]
	for _, p := range f.idle {
		if p.lastUsed.Before(cut) {
			old = append(old, p)
		} else {
			keep = append(keep, p)
		}
	}
	f.idle = keep
	f.mu.Unlock()
	for _, p := range old {
		f.m.stop(p.p)
	}
}

// drain refuses new invocations, waits for the ones under way, then stops
// every process and removes the unpacked files when removeDir is set.
func (f *Function) drain(removeDir bool) {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	f.inflight.Wait()
	f.mu.Lock()
	idle := f.idle
	f.idle = nil
	f.mu.Unlock()
	for _, p := range idle {
		f.m.stop(p.p)
	}
	if removeDir {
		os.RemoveAll(f.dir)
	}
}
