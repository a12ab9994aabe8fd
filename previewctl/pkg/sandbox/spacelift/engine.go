package spacelift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"preview-environments/policies"
	"preview-environments/previewctl/internal/sandbox/slapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/providerapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
	"preview-environments/previewctl/pkg/sandbox/spacelift/tofurun"
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

// Engine is the Spacelift stand-in. It is also the provider's backend
// (slapi.Backend) and serves what runs call (ProviderHandler): both are
// the embedded providerapi.Backend's, on the same store.
type Engine struct {
	*providerapi.Backend
	cfg   Config
	st    *store.Store
	src   Source
	pol   Policies
	log   *slog.Logger
	kick  chan struct{}
	mu    sync.Mutex
	busy  map[string]string // stack ID -> type of the run executing on it
	subs  map[chan Event]struct{}
	idle  *sync.Cond
	nbusy int
	wg    sync.WaitGroup
	// tokens are the API tokens of the runs under way.
	tokens    *providerapi.Tokens
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
	if err := cfg.Tofu.CheckProviders(); err != nil {
		return nil, fmt.Errorf("spacelift: %w", err)
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
	st, err := store.New(ctx, db)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, st: st, src: src, pol: pol, log: cfg.Logger,
		kick: make(chan struct{}, 1), busy: map[string]string{}, subs: map[chan Event]struct{}{},
		tokens: providerapi.NewTokens(), cliConfig: filepath.Join(cfg.TempDir, "tofu.tfrc")}
	e.idle = sync.NewCond(&e.mu)
	e.Backend = providerapi.New(st, e.tokens, ownerOf(cfg.Repository), cfg.Logger, providerapi.Hooks{
		Destroy: e.requestDestroy,
		Changed: func(stackID, state string) { e.emit(Event{Kind: "stack", StackID: stackID, State: state}) },
	})
	if err := tofurun.WriteCLIConfig(e.cliConfig, cfg.Tofu.ProvidersDir); err != nil {
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
	id, err := e.st.AWSIntegrationByName(ctx, name)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
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
	active, err := e.st.ActiveRuns(ctx)
	if err != nil {
		return err
	}
	queued, err := e.st.QueuedRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range active {
		_ = e.st.AppendLog(ctx, r.ID, "interrupted: the sandbox stopped while this run was "+strings.ToLower(r.State))
		if _, err := e.st.SetRunState(ctx, r.ID, StateFailed); err != nil {
			return err
		}
		// A tracked run applies its stack's whole desired state at a
		// commit. Runs of a stack execute in queue order, so a tracked run
		// still queued for it was queued later, at a newer head: resuming
		// the interrupted one behind it would apply the older commit last
		// (a closed PR's environment back, an open one's gone). The newer
		// run supersedes it; without one, it resumes at the branch head.
		commit := r.Commit
		if r.Type == RunTracked {
			if i := slices.IndexFunc(queued, func(q Run) bool { return q.StackID == r.StackID && q.Type == RunTracked }); i >= 0 {
				_ = e.st.AppendLog(ctx, r.ID, "interrupted: superseded by "+queued[i].ID+", queued after it at "+short(queued[i].Commit))
				continue
			}
			if s, err := e.st.Stack(ctx, r.StackID); err == nil {
				if head, err := e.src.Head(ctx, s.Repository, s.Branch); err == nil {
					commit = head
				}
			}
		}
		if _, err := e.enqueue(ctx, Run{StackID: r.StackID, Type: r.Type, Branch: r.Branch, Commit: commit,
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
	m, err := e.st.Stack(ctx, e.cfg.Manager)
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
	queued, err := e.st.QueuedRuns(ctx)
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
		queued, err := e.st.QueuedRuns(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("list queued runs", "err", err)
			}
			continue
		}
		// A dependent's tracked run waits while an upstream has a tracked
		// run queued or executing; the upstream's end kicks the loop again.
		upstreams, err := e.st.Upstreams(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("list dependencies", "err", err)
			}
			continue
		}
		pending := map[string]bool{}
		for _, r := range queued {
			if r.Type == RunTracked {
				pending[r.StackID] = true
			}
		}
		e.mu.Lock()
		for id, typ := range e.busy {
			if typ == RunTracked {
				pending[id] = true
			}
		}
		e.mu.Unlock()
		for _, r := range queued {
			if r.Type == RunTracked && waitingOn(upstreams[r.StackID], pending) != "" {
				continue
			}
			e.mu.Lock()
			if e.busy[r.StackID] != "" || e.nbusy >= e.cfg.Workers {
				e.mu.Unlock()
				continue
			}
			e.busy[r.StackID] = r.Type
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
	q, err := e.st.QueuedRuns(ctx)
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
	rs, err := e.enqueueAll(ctx, []Run{r})
	if err != nil {
		return r, err
	}
	return rs[0], nil
}

// enqueueAll queues runs together (see store.Store.InsertRuns).
func (e *Engine) enqueueAll(ctx context.Context, runs []Run) ([]Run, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	rs, err := e.st.InsertRuns(ctx, runs)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		e.emit(Event{Kind: "run", StackID: r.StackID, RunID: r.ID, State: r.State, Detail: r.Cause})
	}
	e.signal()
	return rs, nil
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

// transition moves a run to a new state; false when the database refused
// (the run is then left for the restart recovery).
func (e *Engine) transition(ctx context.Context, runID, stackID, state string) bool {
	if _, err := e.st.SetRunState(ctx, runID, state); err != nil {
		if ctx.Err() == nil {
			e.log.Error("run state", "run", runID, "state", state, "err", err)
		}
		return false
	}
	e.emit(Event{Kind: "run", StackID: stackID, RunID: runID, State: state})
	return true
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

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
