package spacelift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"preview-environments/policies"
	"preview-environments/previewctl/internal/sandbox/slapi"
)

// Source reads the sandbox's git host: branch heads and trees at commits.
type Source interface {
	Head(ctx context.Context, repository, branch string) (string, error)
	// Export writes the tree of subdir at ref into dest (which exists and is
	// empty), at the files' paths from the repository root.
	Export(ctx context.Context, repository, ref, subdir, dest string) error
}

// Policies evaluates the real Rego policies (policies.Evaluator).
type Policies interface {
	Trigger(ctx context.Context, in policies.TriggerInput) ([]string, error)
	Push(ctx context.Context, in policies.PushInput) (policies.PushDecision, error)
}

// PushEvent is a push to the git host.
type PushEvent struct {
	Repository    string
	Branch        string
	Tag           string
	Before, After string
	AffectedFiles []string
	Author        string
	Message       string
}

// Event tells subscribers (the dashboard) that something changed.
type Event struct {
	Kind    string    `json:"kind"` // "run", "stack", "evaluation", "log"
	StackID string    `json:"stack_id,omitempty"`
	RunID   string    `json:"run_id,omitempty"`
	State   string    `json:"state,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// Config names the manager stack and what its environments share.
type Config struct {
	// Repository is the monorepo on the git host (owner/repo).
	Repository    string
	DefaultBranch string
	// Manager is the manager stack's ID, as setup/ names it.
	Manager string
	// ManagerEnv are the manager stack's environment variables, as setup/
	// sets them (TF_VAR_* of manager/'s root variables). The value of
	// TF_VAR_aws_integration_id is replaced by the ID of the AWS
	// integration the engine creates as setup/ would.
	ManagerEnv map[string]string
	// Tofu runs every run.
	Tofu Tofu
	// APIURL is where the sandbox serves Handler's provider API
	// (ProviderHandler), e.g. http://127.0.0.1:8080/spacelift: runs get it
	// as SPACELIFT_API_KEY_ENDPOINT and as their state backend.
	APIURL string
	// RunEnv is added to every run's environment: the AWS endpoints of the
	// sandbox and its credentials.
	RunEnv map[string]string
	// SmartSanitization reports variable values in plain text in run
	// changes (OpenTofu's default) instead of sanitized() hashes.
	SmartSanitization bool
	// Workers bounds how many runs execute at once (one per stack at most).
	Workers int
	Logger  *slog.Logger
	TempDir string
}

// Engine is the Spacelift stand-in.
type Engine struct {
	cfg   Config
	st    *store
	src   Source
	pol   Policies
	log   *slog.Logger
	kick  chan struct{}
	mu    sync.Mutex
	busy  map[string]bool // stack ID -> a run is executing
	subs  map[chan Event]struct{}
	idle  *sync.Cond
	nbusy int
	wg    sync.WaitGroup
	// tokens are the API tokens of the runs under way.
	tokens    map[string]runToken
	cliConfig string
}

// Policy types the engine evaluates (spacelift_policy.type).
const (
	PolicyTypePush    = "GIT_PUSH"
	PolicyTypeTrigger = "TRIGGER"
)

// New opens the engine on the sandbox database and makes sure the manager
// stack exists, as setup/ would have created it.
func New(ctx context.Context, db *sql.DB, src Source, pol Policies, cfg Config) (*Engine, error) {
	if cfg.Manager == "" || cfg.Repository == "" || cfg.DefaultBranch == "" {
		return nil, errors.New("spacelift: Config needs Manager, Repository and DefaultBranch")
	}
	if cfg.Tofu.Path == "" || cfg.Tofu.ProvidersDir == "" {
		return nil, errors.New("spacelift: Config.Tofu needs the tofu binary and the sandbox providers' directory")
	}
	for _, p := range []string{"terraform-provider-spacelift", "terraform-provider-aws"} {
		if _, err := os.Stat(filepath.Join(cfg.Tofu.ProvidersDir, p)); err != nil {
			return nil, fmt.Errorf("spacelift: sandbox provider %s: %w (make tools builds it)", p, err)
		}
	}
	if cfg.APIURL == "" || cfg.TempDir == "" {
		return nil, errors.New("spacelift: Config needs APIURL and TempDir")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := newStore(ctx, db)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, st: st, src: src, pol: pol, log: cfg.Logger,
		kick: make(chan struct{}, 1), busy: map[string]bool{}, subs: map[chan Event]struct{}{},
		tokens: map[string]runToken{}, cliConfig: filepath.Join(cfg.TempDir, "tofu.tfrc")}
	e.idle = sync.NewCond(&e.mu)
	if err := writeCLIConfig(e.cliConfig, cfg.Tofu.ProvidersDir); err != nil {
		return nil, err
	}
	if err := e.ensureManager(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// ensureManager makes sure the manager stack exists with what setup/ gives
// it: project root manager/, the policies folder as an additional glob,
// autodeploy, the trigger policy, an AWS integration and the TF_VAR_*
// values of manager/'s root variables.
func (e *Engine) ensureManager(ctx context.Context) error {
	name := e.cfg.Manager
	spec := slapi.StackSpec{Name: name, Slug: e.cfg.Manager, Description: "Manages one stack per preview environment",
		Repository: repoOf(e.cfg.Repository), Namespace: ownerOf(e.cfg.Repository), Branch: e.cfg.DefaultBranch,
		ProjectRoot: "manager", AdditionalProjectGlobs: []string{"policies/**"}, Labels: []string{"preview-environments-manager"},
		Autodeploy: true, ManageState: true, TerraformWorkflowTool: "OPEN_TOFU"}
	if _, err := e.GetStack(ctx, e.cfg.Manager); errors.Is(err, slapi.ErrNotFound) {
		if _, err := e.CreateStack(ctx, spec); err != nil {
			return fmt.Errorf("create manager stack: %w", err)
		}
	} else if err != nil {
		return err
	} else if _, err := e.UpdateStack(ctx, e.cfg.Manager, spec); err != nil {
		return fmt.Errorf("update manager stack: %w", err)
	}
	pol := slapi.PolicySpec{Name: name + ": trigger environments", Type: PolicyTypeTrigger, Body: policies.TriggerSource(),
		EngineType: "REGO_V1", Labels: []string{"preview-environments"}}
	pid := Slug(pol.Name)
	if _, err := e.GetPolicy(ctx, pid); errors.Is(err, slapi.ErrNotFound) {
		if _, err := e.CreatePolicy(ctx, pol); err != nil {
			return fmt.Errorf("create trigger policy: %w", err)
		}
	} else if err != nil {
		return err
	} else if _, err := e.UpdatePolicy(ctx, pid, pol); err != nil {
		return err
	}
	if _, err := e.GetPolicyAttachment(ctx, pid, e.cfg.Manager); errors.Is(err, slapi.ErrNotFound) {
		if _, err := e.AttachPolicy(ctx, pid, e.cfg.Manager); err != nil {
			return err
		}
	}
	integration, err := e.ensureAWSIntegration(ctx, name+"-aws")
	if err != nil {
		return err
	}
	for k, v := range e.cfg.ManagerEnv {
		if k == "TF_VAR_aws_integration_id" {
			v = integration
		}
		if _, err := e.PutEnvVar(ctx, e.cfg.Manager, k, slapi.EnvVarSpec{Value: v}); err != nil {
			return fmt.Errorf("manager variable %s: %w", k, err)
		}
	}
	return nil
}

// ensureAWSIntegration finds the integration setup/ would have created by
// name, or creates it, and returns its ID.
func (e *Engine) ensureAWSIntegration(ctx context.Context, name string) (string, error) {
	var id string
	err := e.st.db.QueryRowContext(ctx, `SELECT id FROM sl_aws_integrations WHERE json_extract(spec, '$.name') = ?`, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read AWS integrations: %w", err)
	}
	in, err := e.CreateAWSIntegration(ctx, slapi.AWSIntegrationSpec{Name: name,
		RoleARN: "arn:aws:iam::000000000000:role/" + name, Region: "us-east-1", DurationSeconds: 900})
	if err != nil {
		return "", fmt.Errorf("create AWS integration: %w", err)
	}
	if _, err := e.AttachAWSIntegration(ctx, in.ID, slapi.AWSAttachmentSpec{StackID: e.cfg.Manager, Read: true, Write: true}); err != nil {
		return "", err
	}
	return in.ID, nil
}

// Start recovers from a crash and starts the scheduler; it returns at once.
// Runs that were executing when the sandbox died are failed (as a lost
// worker fails them on Spacelift) and queued again, so the stacks converge.
func (e *Engine) Start(ctx context.Context) error {
	active, err := e.st.activeRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range active {
		_ = e.st.appendLog(ctx, r.ID, "interrupted: the sandbox stopped while this run was "+strings.ToLower(r.State))
		if _, err := e.st.setRunState(ctx, r.ID, StateFailed); err != nil {
			return err
		}
		if _, err := e.enqueue(ctx, Run{StackID: r.StackID, Type: r.Type, Branch: r.Branch, Commit: r.Commit,
			TriggeredBy: r.TriggeredBy, Cause: "resumed after restart: " + r.ID + " was interrupted"}); err != nil {
			return err
		}
	}
	// A push the sandbox missed while it was down still has to reach the
	// manager: compare what it tracks with its branch head.
	if err := e.reconcileManager(ctx); err != nil {
		e.log.Warn("reconcile manager", "err", err)
	}
	e.wg.Add(1)
	go e.loop(ctx)
	e.signal()
	return nil
}

func (e *Engine) reconcileManager(ctx context.Context) error {
	m, err := e.st.stack(ctx, e.cfg.Manager)
	if err != nil {
		return err
	}
	head, err := e.src.Head(ctx, m.Repository, m.Branch)
	if err != nil {
		return fmt.Errorf("head of %s: %w", m.Branch, err)
	}
	if head == m.TrackedCommit {
		return nil
	}
	queued, err := e.st.queuedRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range queued {
		if r.StackID == m.ID {
			return nil
		}
	}
	_, err = e.enqueue(ctx, Run{StackID: m.ID, Type: RunTracked, Branch: m.Branch, Commit: head,
		Cause: "reconcile: " + m.Branch + " is at " + short(head) + ", the stack tracked " + short(m.TrackedCommit)})
	return err
}

// Wait blocks until the scheduler has stopped (after ctx passed to Start is done).
func (e *Engine) Wait() { e.wg.Wait() }

func (e *Engine) signal() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *Engine) loop(ctx context.Context) {
	defer e.wg.Done()
	var workers sync.WaitGroup
	defer workers.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		}
		queued, err := e.st.queuedRuns(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("list queued runs", "err", err)
			}
			continue
		}
		for _, r := range queued {
			e.mu.Lock()
			if e.busy[r.StackID] || e.nbusy >= e.cfg.Workers {
				e.mu.Unlock()
				continue
			}
			e.busy[r.StackID] = true
			e.nbusy++
			e.mu.Unlock()
			workers.Add(1)
			go func(r Run) {
				defer workers.Done()
				e.execute(ctx, r)
				e.mu.Lock()
				delete(e.busy, r.StackID)
				e.nbusy--
				e.idle.Broadcast()
				e.mu.Unlock()
				e.signal()
			}(r)
		}
		e.mu.Lock()
		e.idle.Broadcast()
		e.mu.Unlock()
	}
}

// Idle reports whether no run is queued or executing.
func (e *Engine) Idle(ctx context.Context) (bool, error) {
	e.mu.Lock()
	n := e.nbusy
	e.mu.Unlock()
	if n > 0 {
		return false, nil
	}
	q, err := e.st.queuedRuns(ctx)
	if err != nil {
		return false, err
	}
	return len(q) == 0, nil
}

// WaitIdle waits until no run is queued or executing.
func (e *Engine) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		idle, err := e.Idle(ctx)
		if err != nil {
			return err
		}
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (e *Engine) enqueue(ctx context.Context, r Run) (Run, error) {
	r, err := e.st.insertRun(ctx, r)
	if err != nil {
		return r, err
	}
	e.emit(Event{Kind: "run", StackID: r.StackID, RunID: r.ID, State: r.State, Detail: r.Cause})
	e.signal()
	return r, nil
}

// Subscribe returns a channel of events and a function that cancels it.
// Slow subscribers lose events rather than stall runs.
func (e *Engine) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
	}
}

func (e *Engine) emit(ev Event) {
	ev.At = time.Now().UTC()
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// HandlePush decides, for every stack on the pushed repository, whether the
// push starts a tracked run: through the push policy where one is attached,
// else with Spacelift's default rule (affected files under the project root
// or an additional glob, on the stack's branch).
func (e *Engine) HandlePush(ctx context.Context, p PushEvent) error {
	stacks, err := e.st.stacks(ctx)
	if err != nil {
		return err
	}
	for _, s := range stacks {
		if s.Repository != p.Repository || s.State == StackDeleting {
			continue
		}
		track, why, err := e.decidePush(ctx, s, p)
		if err != nil {
			return err
		}
		if !track {
			continue
		}
		if _, err := e.enqueue(ctx, Run{StackID: s.ID, Type: RunTracked, Branch: p.Branch, Commit: p.After,
			Cause: fmt.Sprintf("push %s to %s: %s", short(p.After), p.Branch, why)}); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) decidePush(ctx context.Context, s Stack, p PushEvent) (bool, string, error) {
	attached := false
	for _, id := range s.Policies {
		attached = attached || s.PolicyTypes[id] == PolicyTypePush
	}
	if !attached {
		affected := p.Tag == "" && affects(s, p.AffectedFiles)
		track := affected && p.Branch == s.Branch
		why := "default push rule: "
		switch {
		case p.Tag != "":
			why += "tag pushes are ignored"
		case !affected:
			why += "no affected file under " + s.ProjectRoot
		case !track:
			why += "branch " + p.Branch + " is not the stack's " + s.Branch
		default:
			why += "affects " + s.ProjectRoot + " on the tracked branch"
		}
		if track || p.Branch == s.Branch {
			e.recordEvaluation(ctx, PolicyEvaluation{Policy: "push (default)", StackID: s.ID,
				Summary:  fmt.Sprintf("push %s to %s, %d file(s)", short(p.After), p.Branch, len(p.AffectedFiles)),
				Decision: map[bool]string{true: "track", false: "ignore"}[track] + " (" + why + ")"})
		}
		return track, why, nil
	}
	in := policies.PushInput{
		Push: policies.Push{AffectedFiles: nonNil(p.AffectedFiles), Author: p.Author, Branch: p.Branch,
			CreatedAt: time.Now().UnixNano(), Hash: p.After, Message: p.Message, Tag: p.Tag},
		Stack:      e.policyStack(s, nil),
		InProgress: []policies.InProgressRun{},
	}
	d, err := e.pol.Push(ctx, in)
	if err != nil {
		return false, "", fmt.Errorf("push policy for stack %s: %w", s.ID, err)
	}
	decision := "ignore"
	switch {
	case d.Ignore:
	case d.Track:
		decision = "track"
	case d.Propose:
		decision = "propose (the sandbox runs no proposed runs)"
	}
	if len(d.Reasons) > 0 {
		decision += ": " + strings.Join(d.Reasons, "; ")
	}
	// Only record decisions about the stack's own branch: every other push
	// is ignored by construction and would drown the log.
	if p.Branch == s.Branch {
		e.recordEvaluation(ctx, PolicyEvaluation{Policy: "push", StackID: s.ID,
			Summary:  fmt.Sprintf("push %s to %s, %d file(s)", short(p.After), p.Branch, len(p.AffectedFiles)),
			Decision: decision})
	}
	return d.Track && !d.Ignore, "push policy: " + decision, nil
}

func affects(s Stack, files []string) bool {
	root := strings.Trim(s.ProjectRoot, "/")
	for _, f := range files {
		f = strings.Trim(f, "/")
		if root == "" || f == root || strings.HasPrefix(f, root+"/") {
			return true
		}
		for _, g := range s.AdditionalGlobs {
			if globMatch(g, f) {
				return true
			}
		}
	}
	return false
}

// globMatch supports the doublestar forms stacks use: a trailing /** and
// path.Match patterns per segment.
func globMatch(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		return name == prefix || strings.HasPrefix(name, prefix+"/")
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

func (e *Engine) recordEvaluation(ctx context.Context, ev PolicyEvaluation) {
	rec, err := e.st.addEvaluation(ctx, ev)
	if err != nil {
		e.log.Warn("record policy evaluation", "err", err)
		return
	}
	e.emit(Event{Kind: "evaluation", StackID: rec.StackID, RunID: rec.RunID, Detail: rec.Policy + ": " + rec.Decision})
}

// execute runs one run to a terminal state.
func (e *Engine) execute(ctx context.Context, r Run) {
	// The scheduler listed r as queued, but it may have been canceled
	// since: a canceled run never starts.
	if cur, err := e.st.run(ctx, r.ID); err != nil || cur.State != StateQueued {
		return
	}
	stack, err := e.st.stack(ctx, r.StackID)
	if errors.Is(err, ErrNotFound) {
		e.transition(ctx, r.ID, r.StackID, StateSkipped)
		_ = e.st.appendLog(ctx, r.ID, "skipped: the stack no longer exists")
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
	final, changes := e.runTofu(ctx, r, stack, rl)
	rl.flush()
	if ctx.Err() != nil {
		return // the sandbox is stopping: Start fails and requeues this run next time
	}
	if err := e.st.setRunChanges(ctx, r.ID, changes); err != nil {
		logf("error: %v", err)
		final = StateFailed
	}
	if final == StateFinished && r.Type == RunTracked {
		if err := e.st.setTrackedCommit(ctx, stack.ID, r.Commit); err != nil {
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
		_ = e.st.setStackState(ctx, stack.ID, StateFailed)
		e.emit(Event{Kind: "stack", StackID: stack.ID, State: StateFailed})
		return
	}
	e.transition(ctx, r.ID, stack.ID, final)
	cur, err := e.st.stack(ctx, stack.ID)
	if err == nil && cur.State != StackDeleting {
		if final == StateFailed {
			_ = e.st.setStackState(ctx, stack.ID, StateFailed)
		} else {
			_ = e.st.setStackState(ctx, stack.ID, StackActive)
		}
	}
	e.afterTerminal(ctx, r.ID, stack)
}

// transition moves a run to a new state; false when the database refused
// (the run is then left for the restart recovery).
func (e *Engine) transition(ctx context.Context, runID, stackID, state string) bool {
	if _, err := e.st.setRunState(ctx, runID, state); err != nil {
		if ctx.Err() == nil {
			e.log.Error("run state", "run", runID, "state", state, "err", err)
		}
		return false
	}
	e.emit(Event{Kind: "run", StackID: stackID, RunID: runID, State: state})
	return true
}

// afterTerminal evaluates the trigger policies attached to the stack whose
// run just ended, and queues a tracked run on every stack they name.
func (e *Engine) afterTerminal(ctx context.Context, runID string, stack Stack) {
	attached := false
	for _, id := range stack.Policies {
		attached = attached || stack.PolicyTypes[id] == PolicyTypeTrigger
	}
	if !attached {
		return
	}
	r, err := e.st.run(ctx, runID)
	if err != nil {
		e.log.Error("read run", "run", runID, "err", err)
		return
	}
	stacks, err := e.st.stacks(ctx)
	if err != nil {
		e.log.Error("list stacks", "err", err)
		return
	}
	in := policies.TriggerInput{Run: e.policyRun(r), Stack: e.policyStack(stack, nil), Workflow: []policies.WorkflowRun{}}
	for _, s := range stacks {
		q := 0
		in.Stacks = append(in.Stacks, e.policyStack(s, &q))
	}
	ids, err := e.pol.Trigger(ctx, in)
	if err != nil {
		_ = e.st.appendLog(ctx, runID, "trigger policy failed: "+err.Error())
		e.recordEvaluation(ctx, PolicyEvaluation{Policy: "trigger", StackID: stack.ID, RunID: runID,
			Summary: "evaluation failed", Decision: err.Error()})
		return
	}
	envChanges := 0
	for _, c := range r.Changes {
		if c.Phase == "apply" && c.Type == "spacelift_environment_variable" {
			envChanges++
		}
	}
	decision := "trigger nothing"
	if len(ids) > 0 {
		decision = "trigger " + strings.Join(ids, ", ")
	}
	e.recordEvaluation(ctx, PolicyEvaluation{Policy: "trigger", StackID: stack.ID, RunID: runID,
		Summary: fmt.Sprintf("%s %s run %s: %d change(s), %d to environment variables, %d stack(s)",
			strings.ToLower(r.State), strings.ToLower(r.Type), r.ID, len(r.Changes), envChanges, len(stacks)),
		Decision: decision})
	byID := map[string]Stack{}
	for _, s := range stacks {
		byID[s.ID] = s
	}
	for _, id := range ids {
		target, ok := byID[id]
		if !ok {
			continue // Spacelift ignores IDs that name no stack
		}
		head, err := e.src.Head(ctx, target.Repository, target.Branch)
		if err != nil {
			_ = e.st.appendLog(ctx, runID, fmt.Sprintf("trigger %s: head of %s: %v", id, target.Branch, err))
			continue
		}
		trig := runID
		_ = e.st.appendLog(ctx, runID, fmt.Sprintf("trigger policy: triggered %s at %s", id, short(head)))
		if _, err := e.enqueue(ctx, Run{StackID: id, Type: RunTracked, Branch: target.Branch, Commit: head,
			TriggeredBy: trig, Cause: "trigger policy after " + runID + " on " + stack.ID + " changed its variables"}); err != nil {
			e.log.Error("queue triggered run", "stack", id, "err", err)
		}
	}
}

// policyStack renders a stack as policy input.
func (e *Engine) policyStack(s Stack, queued *int) policies.Stack {
	ps := policies.Stack{
		AdditionalProjectGlobs: nonNil(s.AdditionalGlobs), Administrative: s.Administrative, Autodeploy: s.Autodeploy,
		Branch: s.Branch, Contexts: []string{}, ID: s.ID, Labels: nonNil(s.Labels), Name: s.Name,
		Namespace: ownerOf(s.Repository), ProjectRoot: s.ProjectRoot, Repository: repoOf(s.Repository),
		Space: policies.Space{ID: "root", Labels: []string{}, Name: "root"}, State: s.State,
		TerraformWorkflowTool: "OPEN_TOFU", QueuedRuns: queued,
		WorkerPool: &policies.WorkerPool{Labels: []string{}, Public: true},
	}
	if s.TrackedCommit != "" {
		ps.TrackedCommit = &policies.Commit{Branch: s.Branch, Hash: s.TrackedCommit}
	}
	return ps
}

func (e *Engine) policyRun(r Run) policies.Run {
	pr := policies.Run{
		Branch: r.Branch, Commit: &policies.Commit{Branch: r.Branch, Hash: r.Commit}, CreatedAt: r.CreatedAt.UnixNano(),
		Flags: []string{}, ID: r.ID, State: r.State, Type: r.Type, UpdatedAt: r.UpdatedAt.UnixNano(),
		UserProvidedMetadata: []string{}, Command: "", Changes: []policies.Change{},
	}
	if r.TriggeredBy != "" {
		t := r.TriggeredBy
		pr.TriggeredBy = &t
	}
	for _, h := range r.History {
		pr.StatesHistory = append(pr.StatesHistory, policies.StateChange{NewState: h.State})
	}
	for _, c := range r.Changes {
		pr.Changes = append(pr.Changes, policies.Change{Action: c.Action, Phase: c.Phase, Entity: policies.Entity{
			Address: c.Address, Name: c.Name, Type: c.Type, EntityVendor: "terraform", EntityType: "resource",
			Data: map[string]any{"values": e.sanitizeValues(c.Values, c.Sensitive)},
		}})
	}
	return pr
}

// sanitizeValues applies Spacelift's default sanitization (every string,
// at any depth, hashed) unless the sandbox runs in smart mode, where only
// the attributes the plan marks sensitive are, and stack IDs arrive in
// plain text.
func (e *Engine) sanitizeValues(v map[string]any, sensitive []string) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if !e.cfg.SmartSanitization || slices.Contains(sensitive, k) {
			out[k] = sanitizeAll(x)
			continue
		}
		out[k] = x
	}
	return out
}

func sanitizeAll(x any) any {
	switch t := x.(type) {
	case string:
		return policies.Sanitized(t)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = sanitizeAll(v)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, v := range t {
			l[i] = sanitizeAll(v)
		}
		return l
	}
	return x
}

func ownerOf(repo string) string { o, _, _ := strings.Cut(repo, "/"); return o }
func repoOf(repo string) string {
	if _, r, ok := strings.Cut(repo, "/"); ok {
		return r
	}
	return repo
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	if sha == "" {
		return "(none)"
	}
	return sha
}
