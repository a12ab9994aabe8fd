package spacelift

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/spacelift/tofurun"
)

type logFunc func(format string, args ...any)

// execute runs one run to a terminal state.
func (e *Engine) execute(ctx context.Context, r Run) {
	// The scheduler listed r as queued, but it may have been canceled
	// since: a canceled run never starts.
	if cur, err := e.st.Run(ctx, r.ID); err != nil || cur.State != StateQueued {
		return
	}
	stack, err := e.st.Stack(ctx, r.StackID)
	if errors.Is(err, ErrNotFound) {
		e.transition(ctx, r.ID, r.StackID, StateSkipped)
		_ = e.st.AppendLog(ctx, r.ID, "skipped: the stack no longer exists")
		return
	}
	if err != nil {
		e.log.Error("read stack", "stack", r.StackID, "err", err)
		return
	}
	rl := newRunLog(ctx, e, r.ID)
	defer rl.flush()
	logf := rl.printf
	for _, s := range []string{StatePreparing, StateInitializing} {
		if !e.transition(ctx, r.ID, stack.ID, s) {
			return
		}
	}
	logf("%s run on %s at %s (%s)", strings.ToLower(r.Type), stack.ID, short(r.Commit), r.Cause)
	// References set inputs from the upstreams' outputs. A tracked run
	// without all of them fails before it starts, as Spacelift's job
	// assignment does; a destroy goes ahead with what there is (its
	// upstream may never have applied, and the environment must still go).
	inputs, missing, err := e.inputs(ctx, stack.ID)
	if err != nil {
		logf("error: %v", err)
		e.transition(ctx, r.ID, stack.ID, StateFailed)
		return
	}
	if len(missing) > 0 {
		if r.Type == RunTracked {
			logf("job assignment failed: the following inputs are missing: %s", strings.Join(missing, ", "))
			rl.flush()
			e.transition(ctx, r.ID, stack.ID, StateFailed)
			_ = e.st.SetStackState(ctx, stack.ID, StateFailed)
			e.afterUpstream(ctx, r, stack, StateFailed, nil, nil)
			return
		}
		logf("warning: inputs missing, the destroy runs without them: %s", strings.Join(missing, ", "))
	}
	if len(inputs) > 0 {
		env := make(map[string]string, len(stack.Env)+len(inputs))
		for k, v := range stack.Env {
			env[k] = v
		}
		for _, k := range slices.Sorted(maps.Keys(inputs)) {
			env[k] = inputs[k]
			logf("input %s from a stack dependency reference", k)
		}
		stack.Env = env
	}
	var before map[string]any
	if r.Type == RunTracked {
		if before, err = e.Outputs(ctx, stack.ID); err != nil {
			logf("error: %v", err)
			e.transition(ctx, r.ID, stack.ID, StateFailed)
			return
		}
	}
	final, changes := e.runTofu(ctx, r, stack, rl)
	rl.flush()
	if ctx.Err() != nil {
		return // the sandbox is stopping: Start fails and requeues this run next time
	}
	if err := e.st.SetRunChanges(ctx, r.ID, changes); err != nil {
		logf("error: %v", err)
		final = StateFailed
	}
	if final == StateFinished && r.Type == RunTracked {
		if err := e.st.SetTrackedCommit(ctx, stack.ID, r.Commit); err != nil {
			logf("error: %v", err)
		}
	}
	if r.Type == RunDestroy {
		e.transition(ctx, r.ID, stack.ID, final)
		if final == StateFinished {
			e.finishDestroy(ctx, stack, logf)
			return
		}
		// The destructor that waits sees the stack leave DELETING and
		// fails the manager run; the stack and its variables are kept.
		_ = e.st.SetStackState(ctx, stack.ID, StateFailed)
		e.emit(Event{Kind: "stack", StackID: stack.ID, State: StateFailed})
		return
	}
	e.transition(ctx, r.ID, stack.ID, final)
	cur, err := e.st.Stack(ctx, stack.ID)
	if err == nil && cur.State != StackDeleting {
		if final == StateFailed {
			_ = e.st.SetStackState(ctx, stack.ID, StateFailed)
		} else {
			_ = e.st.SetStackState(ctx, stack.ID, StackActive)
		}
	}
	if r.Type == RunTracked {
		after, err := e.Outputs(ctx, stack.ID)
		if err != nil {
			e.log.Error("read outputs", "stack", stack.ID, "err", err)
		}
		e.afterUpstream(ctx, r, stack, final, before, after)
	}
	e.afterTerminal(ctx, r.ID, stack)
}

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
	if err := os.WriteFile(filepath.Join(root, tofurun.BackendOverrideFile), []byte(tofurun.BackendOverrideHCL), 0o644); err != nil {
		logf("error: backend override: %v", err)
		return StateFailed, nil
	}
	token, revoke := e.tokens.Issue(s.ID, r.ID)
	defer revoke()
	// One run per stack at a time: a lock still held now was left by a
	// tofu that was killed, never by a live one.
	if err := e.st.UnlockState(ctx, s.ID, ""); err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	home := filepath.Join(work, ".home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		logf("error: workspace: %v", err)
		return StateFailed, nil
	}
	t := tofurun.Cmd{Dir: root, Env: e.runEnv(s, token, home), Log: rl.line, Bin: e.cfg.Tofu.Path, Quit: 30 * time.Second}

	if _, err := t.Run(ctx, false, "init", "-input=false", "-no-color"); err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	if !e.transition(ctx, r.ID, s.ID, StatePlanning) {
		return StateFailed, nil
	}
	// -detailed-exitcode lets the plan's own exit say whether there is
	// anything to apply, so a no-op run needs no `tofu show` at all, and a
	// run with changes reads the plan's JSON while it applies (below).
	plan := []string{"plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=spacelift.plan"}
	if destroy {
		plan = append(plan, "-destroy")
	}
	_, err = t.Run(ctx, false, plan...)
	hasChanges, err := tofurun.PlanHasChanges(err)
	if err != nil {
		logf("error: %v", err)
		if s.ID == e.cfg.Manager {
			logf("plan failed: nothing was changed; live environments keep serving")
		}
		return StateFailed, nil
	}
	if !hasChanges {
		// A no-op tracked run goes from planning to FINISHED, as on
		// Spacelift; a destroy of nothing is done.
		return StateFinished, nil
	}
	next := StateApplying
	if destroy {
		next = StateDestroying
	}
	if !e.transition(ctx, r.ID, s.ID, next) {
		return StateFailed, nil
	}
	// The plan-phase changes come from `tofu show -json` of the saved plan.
	// It only reads the plan file and the providers' schemas, so it runs
	// beside the apply rather than before it: on a manager with a hundred
	// environments that is a second off every run. (A plan whose only
	// changes are outputs applies too, as `tofu apply` would: the outputs
	// reach the state, and from there the stack's dependents.)
	type shown struct {
		changes []Change
		err     error
	}
	showc := make(chan shown, 1)
	go func() {
		planJSON, err := t.Run(ctx, true, "show", "-json", "-no-color", "spacelift.plan")
		if err != nil {
			showc <- shown{err: err}
			return
		}
		changes, err := tofurun.PlanChanges(planJSON)
		showc <- shown{changes, err}
	}()
	// The apply-phase changes are reported in the order tofu completed
	// them, read from its own output, so a reader (or a test) sees the real
	// operation order: a destructor before the variables its destroy needs.
	var order tofurun.CompletionOrder
	at := t
	at.Log = func(line string) { order.See(line); rl.line(line) }
	_, applyErr := at.Run(ctx, false, "apply", "-input=false", "-no-color", "spacelift.plan")
	sh := <-showc
	changes := sh.changes
	if sh.err != nil {
		logf("error: %v", sh.err)
	}
	// The state is read back even after a failed apply: what did apply is
	// recorded, and the outputs reflect it.
	raw, err := e.st.ReadState(ctx, s.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		logf("error: read state back: %v", err)
		return StateFailed, changes
	}
	values, outputs, err := tofurun.StateValues(raw)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, changes
	}
	if applyErr != nil {
		logf("error: %v", applyErr)
		return StateFailed, changes
	}
	if err := e.st.SaveOutputs(ctx, s.ID, outputs); err != nil {
		logf("error: %v", err)
		return StateFailed, changes
	}
	if sh.err != nil {
		// Applied, outputs saved, but the run cannot say what changed.
		return StateFailed, changes
	}
	return StateFinished, append(changes, order.Sort(tofurun.ApplyChanges(changes, values))...)
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
	// flushMu orders the batches' writes.
	flushMu sync.Mutex
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
	// Several writers flush (a command's stdout and stderr, the apply and
	// the show beside it): one at a time, so batches reach the store in
	// the order they were taken.
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	lines := l.buf
	l.buf = nil
	l.last = time.Now()
	l.mu.Unlock()
	if len(lines) == 0 {
		return
	}
	if err := l.e.st.AppendLogs(l.ctx, l.runID, lines); err != nil && l.ctx.Err() == nil {
		l.e.log.Warn("run log", "run", l.runID, "err", err)
	}
	l.e.emit(Event{Kind: "log", RunID: l.runID})
}

// runEnv is the environment of a run's tofu processes (tofurun.Env).
func (e *Engine) runEnv(s Stack, token, home string) []string {
	return tofurun.Env(tofurun.RunEnv{CLIConfig: e.cliConfig, Home: home, APIURL: e.cfg.APIURL, StackID: s.ID,
		Token: token, Shared: e.cfg.RunEnv, Stack: s.Env})
}
