package spacelift

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

type logFunc func(format string, args ...any)

// runTofu is every run of every stack: the stack's project root at the
// run's commit, run by the real OpenTofu with the stack's environment
// variables, its state in the stand-in, and the sandbox's providers. A
// tracked run plans and applies; a destroy run plans a destroy and applies
// it. The manager is not special here: its run creates, updates and deletes
// environment stacks through the spacelift provider, exactly as on
// Spacelift, and a deleted destructor queues the destroy run it waits for.
func (e *Engine) runTofu(ctx context.Context, r Run, s Stack, rl *runLog) (string, []Change) {
	logf := rl.printf
	destroy := r.Type == RunDestroy
	work, err := os.MkdirTemp(e.cfg.TempDir, "run-*")
	if err != nil {
		logf("error: workspace: %v", err)
		return StateFailed, nil
	}
	defer os.RemoveAll(work)
	if err := e.checkout(ctx, s, r.Commit, work); err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	root := filepath.Join(work, filepath.FromSlash(strings.Trim(s.ProjectRoot, "/")))
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		logf("error: project root %q does not exist at %s", s.ProjectRoot, short(r.Commit))
		return StateFailed, nil
	}
	if err := os.WriteFile(filepath.Join(root, overrideFile), []byte(overrideHCL), 0o644); err != nil {
		logf("error: backend override: %v", err)
		return StateFailed, nil
	}
	token, revoke := e.issueToken(s.ID, r.ID)
	defer revoke()
	// One run per stack at a time: a lock still held now was left by a
	// tofu that was killed, never by a live one.
	if err := e.st.unlockState(ctx, s.ID, ""); err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	home := filepath.Join(work, ".home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		logf("error: workspace: %v", err)
		return StateFailed, nil
	}
	t := tofuCmd{dir: root, env: e.runEnv(s, token, home), log: rl.line, bin: e.cfg.Tofu.Path, quit: 30 * time.Second}

	if _, err := t.run(ctx, false, "init", "-input=false", "-no-color"); err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	if !e.transition(ctx, r.ID, s.ID, StatePlanning) {
		return StateFailed, nil
	}
	plan := []string{"plan", "-input=false", "-no-color", "-out=spacelift.plan"}
	if destroy {
		plan = append(plan, "-destroy")
	}
	if _, err := t.run(ctx, false, plan...); err != nil {
		logf("error: %v", err)
		if s.ID == e.cfg.Manager {
			logf("plan failed: nothing was changed; live environments keep serving")
		}
		return StateFailed, nil
	}
	planJSON, err := t.run(ctx, true, "show", "-json", "-no-color", "spacelift.plan")
	if err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	changes, err := planChanges(planJSON)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	if len(changes) == 0 {
		// A no-op tracked run goes from planning to FINISHED, as on
		// Spacelift; a destroy of nothing is done.
		return StateFinished, nil
	}
	next := StateApplying
	if destroy {
		next = StateDestroying
	}
	if !e.transition(ctx, r.ID, s.ID, next) {
		return StateFailed, changes
	}
	// The apply-phase changes are reported in the order tofu completed
	// them, read from its own output, so a reader (or a test) sees the real
	// operation order: a destructor before the variables its destroy needs.
	var order completionOrder
	at := t
	at.log = func(line string) { order.see(line); rl.line(line) }
	_, applyErr := at.run(ctx, false, "apply", "-input=false", "-no-color", "spacelift.plan")
	// The state is read back even after a failed apply: what did apply is
	// recorded, and the outputs reflect it.
	raw, err := e.st.readState(ctx, s.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		logf("error: read state back: %v", err)
		return StateFailed, changes
	}
	values, outputs, err := rawStateValues(raw)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, changes
	}
	if applyErr != nil {
		logf("error: %v", applyErr)
		return StateFailed, changes
	}
	if err := e.st.saveOutputs(ctx, s.ID, outputs); err != nil {
		logf("error: %v", err)
		return StateFailed, changes
	}
	return StateFinished, append(changes, order.sort(applyChanges(changes, values))...)
}

// completionOrder records the order of tofu's "<address>: ... complete"
// lines.
type completionOrder struct {
	mu  sync.Mutex
	pos map[string]int
	n   int
}

var completeRE = regexp.MustCompile(`^(\S+): (Creation|Modifications|Destruction) complete`)

func (o *completionOrder) see(line string) {
	m := completeRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pos == nil {
		o.pos = map[string]int{}
	}
	// A replacement completes twice; its last step is where it ended.
	o.n++
	o.pos[m[1]] = o.n
}

// sort orders changes by completion; changes tofu did not report keep
// their plan order, after the others.
func (o *completionOrder) sort(changes []Change) []Change {
	o.mu.Lock()
	defer o.mu.Unlock()
	rank := func(c Change) int {
		if p, ok := o.pos[c.Address]; ok {
			return p
		}
		return math.MaxInt
	}
	slices.SortStableFunc(changes, func(a, b Change) int { return cmp.Compare(rank(a), rank(b)) })
	return changes
}

// checkout writes the directories a run needs at commit into work. The
// git host exports into an empty directory only, so each part goes
// through a staging directory of its own.
func (e *Engine) checkout(ctx context.Context, s Stack, commit, work string) error {
	for i, dir := range checkoutDirs(s) {
		stage := filepath.Join(work, fmt.Sprintf(".stage-%d", i))
		if err := os.Mkdir(stage, 0o755); err != nil {
			return fmt.Errorf("check out %s: %w", dir, err)
		}
		if err := e.src.Export(ctx, s.Repository, commit, dir, stage); err != nil {
			return fmt.Errorf("check out %s at %s: %w", dir, short(commit), err)
		}
		dst := filepath.Join(work, filepath.FromSlash(dir))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("check out %s: %w", dir, err)
		}
		if err := os.Rename(filepath.Join(stage, filepath.FromSlash(dir)), dst); err != nil {
			return fmt.Errorf("check out %s at %s: %w", dir, short(commit), err)
		}
		if err := os.RemoveAll(stage); err != nil {
			return fmt.Errorf("check out %s: %w", dir, err)
		}
	}
	return nil
}

// checkoutDirs are the parts of the repository a run needs: the project
// root and the directories of its additional globs (the manager reads the
// policies through file()).
func checkoutDirs(s Stack) []string {
	dirs := []string{strings.Trim(s.ProjectRoot, "/")}
	for _, g := range s.AdditionalGlobs {
		d := g
		if i := strings.IndexAny(d, "*?["); i >= 0 {
			d = d[:i]
		}
		d = strings.Trim(d, "/")
		if d != "" && d != dirs[0] && !strings.HasPrefix(d, dirs[0]+"/") {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// runLog collects a run's lines and writes them in batches: a manager run
// over a thousand environments prints tens of thousands of lines, and one
// transaction per line was most of its cost.
type runLog struct {
	e     *Engine
	ctx   context.Context
	runID string
	mu    sync.Mutex
	buf   []string
	last  time.Time
}

func newRunLog(ctx context.Context, e *Engine, runID string) *runLog {
	return &runLog{e: e, ctx: ctx, runID: runID, last: time.Now()}
}

func (l *runLog) line(s string) {
	l.mu.Lock()
	l.buf = append(l.buf, s)
	flush := len(l.buf) >= 500 || time.Since(l.last) > 200*time.Millisecond
	l.mu.Unlock()
	if flush {
		l.flush()
	}
}

func (l *runLog) printf(format string, args ...any) {
	l.line(fmt.Sprintf(format, args...))
	l.flush()
}

func (l *runLog) flush() {
	l.mu.Lock()
	lines := l.buf
	l.buf = nil
	l.last = time.Now()
	l.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	if err := l.e.st.appendLogs(l.ctx, l.runID, lines); err != nil && l.ctx.Err() == nil {
		l.e.log.Warn("run log", "run", l.runID, "err", err)
	}
	l.e.emit(Event{Kind: "log", RunID: l.runID})
}

// finishDestroy deletes a stack whose destroy run has finished: only now
// may its variables, attachments and the stack itself go, which is what
// the provider's destructor waits for.
func (e *Engine) finishDestroy(ctx context.Context, s Stack, logf logFunc) {
	if err := e.st.deleteStack(ctx, s.ID); err != nil {
		logf("error: %v", err)
		return
	}
	logf("stack %s deleted after its destroy run", s.ID)
	e.emit(Event{Kind: "stack", StackID: s.ID, State: "DELETED"})
}

// StackID is the stack a change belongs to (from its values).
func (c Change) StackID() string {
	if v, ok := c.Values["stack_id"].(string); ok {
		return v
	}
	if v, ok := c.Values["id"].(string); ok {
		return v
	}
	return ""
}
