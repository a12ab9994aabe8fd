// Package demo narrates the whole pull-request lifecycle on an in-process
// sandbox platform: a PR that changes the service gets a live URL, a push
// redeploys it through the trigger policy, a PR that changes infra/ shows
// its infra at its URL, and closing both runs the destructors until the
// URLs answer 404. It is what `previewctl demo` and `make demo` run, and it
// checks every claim it prints: a step whose outcome is not observed fails
// with the CI log, the Spacelift run logs and the last HTTP response.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// What the demo's PRs change.
const (
	GreetingBranch = "demo/greeting"
	Greeting1      = "Hello from the demo"
	Greeting2      = "Hello again from the demo"
	InfraBranch    = "demo/infra-greeting"
	InfraGreeting  = "Hello from the data stack"
)

// DefaultAddr is tried first; a busy port falls back to a free one.
const DefaultAddr = sandbox.DefaultAddr

// marker names a data directory the demo created, so that it only ever
// wipes its own.
const marker = ".previewctl-demo"

const steps = 4

// Config configures Run.
type Config struct {
	// RepoRoot is the monorepo whose working tree becomes main.
	RepoRoot string
	// Addr is the loopback listen address; "" tries DefaultAddr and falls
	// back to a free port when it is taken.
	Addr string
	// DataDir is wiped at the start and, unless Keep or a failure, removed
	// at the end; "" means <RepoRoot>/.sandbox/demo.
	DataDir string
	// RIEPath is the aws-lambda-rie binary ("" looks it up in PATH).
	RIEPath string
	// Keep leaves the sandbox serving after the lifecycle until ctx ends.
	Keep bool
	// Kept, if set, is called once the lifecycle passed and the sandbox
	// keeps serving (Keep only), with its address.
	Kept func(addr string)
	// Out receives the narration; Terminal makes it friendlier for people.
	Out      io.Writer
	Terminal bool
	// StepTimeout bounds each wait (default 2 minutes).
	StepTimeout time.Duration
}

// Run starts the platform, narrates the lifecycle and stops the platform
// (unless Keep). A non-nil error means a step failed; its report has been
// printed to Out already.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.RepoRoot == "" {
		return errors.New("demo: RepoRoot is empty")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 2 * time.Minute
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(cfg.RepoRoot, ".sandbox", "demo")
	}
	n := &narrator{out: cfg.Out, tty: cfg.Terminal, began: time.Now()}

	addr, busy, err := pickAddr(cfg.Addr)
	if err != nil {
		return err
	}
	if busy {
		n.info("%s is busy; using %s instead", DefaultAddr, addr)
	}
	if err := freshDir(cfg.DataDir); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(cfg.DataDir, "platform.log"))
	if err != nil {
		return fmt.Errorf("demo: platform log: %w", err)
	}
	defer logFile.Close()

	n.info("starting the sandbox on %s (state in %s)", addr, cfg.DataDir)
	progress := &lineWriter{fn: func(l string) { n.info("%s", l) }}
	p, err := platform.Open(ctx, platform.Config{
		Sandbox:     sandbox.Config{Addr: addr, DataDir: cfg.DataDir, RIEPath: cfg.RIEPath, Progress: progress, Verbose: cfg.Terminal},
		RepoRoot:    cfg.RepoRoot,
		WaitTimeout: cfg.StepTimeout,
		Progress:    progress,
		Log:         slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return fmt.Errorf("demo: start the sandbox: %w", err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- p.Serve(serveCtx) }()
	defer func() {
		stopServe()
		if serr := <-served; serr != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("demo: sandbox: %w", serr)
		}
		if cerr := p.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("demo: stop the sandbox: %w", cerr)
		}
		logFile.Close()
		switch {
		case err != nil:
			fmt.Fprintf(cfg.Out, "state kept for inspection in %s (platform.log, functions.log, state.db)\n", cfg.DataDir)
		case !cfg.Keep:
			if rerr := os.RemoveAll(cfg.DataDir); rerr != nil {
				err = fmt.Errorf("demo: remove %s: %w", cfg.DataDir, rerr)
			}
		}
	}()
	select {
	case <-p.Ready():
	case serr := <-served:
		served <- serr
		return fmt.Errorf("demo: sandbox stopped before it was ready: %w", serr)
	case <-ctx.Done():
		return ctx.Err()
	}

	d := &driver{p: p, n: n, cfg: cfg, http: platform.LocalhostClient(p.SB.Addr())}
	if err := d.lifecycle(ctx); err != nil {
		d.report(ctx, err)
		return err
	}
	n.ok("demo passed in %s", seconds(time.Since(n.began)))
	if !cfg.Keep {
		return nil
	}
	fmt.Fprintf(cfg.Out, "\nThe sandbox keeps running at %s (PID %d); its dashboard is %s/\n", p.SB.URL(), os.Getpid(), p.SB.URL())
	fmt.Fprintf(cfg.Out, "  previewctl sandbox status --addr %s\n", p.SB.Addr())
	fmt.Fprintf(cfg.Out, "  previewctl sandbox pr open --addr %s --branch my/change --file service/handler/handler.go=./handler.go\n", p.SB.Addr())
	fmt.Fprintf(cfg.Out, "Stop it with Ctrl-C (or kill %d); its state stays in %s.\n", os.Getpid(), cfg.DataDir)
	if cfg.Kept != nil {
		cfg.Kept(p.SB.Addr())
	}
	<-ctx.Done()
	fmt.Fprintf(cfg.Out, "stopping the sandbox; its state stays in %s\n", cfg.DataDir)
	return nil
}

// pickAddr returns addr, or DefaultAddr when free, else a free loopback
// port (busy=true).
func pickAddr(addr string) (string, bool, error) {
	if addr != "" {
		return addr, false, sandbox.CheckLoopback(addr, "--addr")
	}
	l, err := net.Listen("tcp", DefaultAddr)
	if err != nil {
		return "127.0.0.1:0", true, nil
	}
	l.Close()
	return DefaultAddr, false, nil
}

// freshDir empties dir for a new run. It refuses a non-empty directory the
// demo did not create: a mistyped path must never be wiped.
func freshDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("demo: data directory %s: %w", dir, err)
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("demo: data directory %s is not empty and was not made by the demo; refusing to wipe it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("demo: wipe %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: data directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, marker), []byte("made by previewctl demo; wiped on the next run\n"), 0o644); err != nil {
		return fmt.Errorf("demo: data directory: %w", err)
	}
	return nil
}

// driver runs the steps against one platform and remembers what a failure
// report needs.
type driver struct {
	p    *platform.Platform
	n    *narrator
	cfg  Config
	http *http.Client

	prs  []int    // PR numbers opened, for the report
	envs []string // their environment IDs
	last lastResponse
}

type lastResponse struct {
	mu   sync.Mutex
	url  string
	code int
	body string
	err  error
}

func (l *lastResponse) set(url string, code int, body string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.url, l.code, l.body, l.err = url, code, body, err
}

func (l *lastResponse) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.url == "":
		return "(no request made)"
	case l.err != nil:
		return fmt.Sprintf("GET %s: %v", l.url, l.err)
	}
	body := l.body
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	return fmt.Sprintf("GET %s: HTTP %d: %q", l.url, l.code, body)
}

// StepError is a failed step.
type StepError struct {
	Step int
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %d/%d: %v", e.Step, steps, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

func (d *driver) lifecycle(ctx context.Context) error {
	owner, repo := d.p.Config().Owner, d.p.Config().Repo

	// The service answers with the greeting it reads from its
	// environment's data bucket (infra/data/greeting.txt on the infra
	// branch): a code change shows as the new sha, an infra/data change
	// as the new greeting.
	greeting, err := d.readMain(ctx, DataGreetingPath)
	if err != nil {
		return &StepError{1, err}
	}
	hello := strings.TrimSpace(string(greeting))

	// 1. A PR that changes the service's code.
	began := time.Now()
	d.n.step(1, steps, "open a PR that changes the service's code")
	src, err := d.readMain(ctx, HandlerPath)
	if err != nil {
		return &StepError{1, err}
	}
	edited, err := SetGreeting(src, Greeting1)
	if err != nil {
		return &StepError{1, err}
	}
	pr, err := d.p.OpenPR(ctx, GreetingBranch, "Demo: change the service", map[string][]byte{HandlerPath: edited})
	if err != nil {
		return &StepError{1, err}
	}
	id := d.track(pr)
	url := d.p.EnvironmentURL(id)
	d.n.info("PR #%d opened from %s at %s (changes %s)", pr.Number, pr.HeadRef, short(pr.HeadSHA), HandlerPath)
	want := pr.HeadSHA + ": " + hello
	if err := d.waitServes(ctx, pr, url+"hello", want); err != nil {
		return &StepError{1, err}
	}
	if err := d.showStacks(ctx, id); err != nil {
		return &StepError{1, err}
	}
	d.n.ok("environment %s serves %q (%s after the PR opened)", id, want, seconds(time.Since(began)))
	d.n.info("try it (curl resolves *.localhost to loopback):")
	d.n.command("curl " + url + "hello")

	// 2. A second commit: the manager applies the new code_version and the
	// trigger policy redeploys the service stack alone.
	began = time.Now()
	d.n.step(2, steps, "push a second commit to PR #%d", pr.Number)
	if edited, err = SetGreeting(src, Greeting2); err != nil {
		return &StepError{2, err}
	}
	pushed, err := d.p.PushPR(ctx, pr.Number, "Demo: change the service again", map[string][]byte{HandlerPath: edited})
	if err != nil {
		return &StepError{2, err}
	}
	if pushed.HeadSHA == pr.HeadSHA {
		return &StepError{2, fmt.Errorf("the push did not move PR #%d's head from %s", pr.Number, short(pr.HeadSHA))}
	}
	d.n.info("pushed %s to %s", short(pushed.HeadSHA), pushed.HeadRef)
	want = pushed.HeadSHA + ": " + hello
	if err := d.waitServes(ctx, pushed, url+"hello", want); err != nil {
		return &StepError{2, err}
	}
	if err := d.showTrigger(ctx, id); err != nil {
		return &StepError{2, err}
	}
	d.n.ok("environment %s serves %q (%s after the push)", id, want, seconds(time.Since(began)))

	// 3. A PR that changes infra/data only: code_version stays latest, both
	// stacks run from the PR's branch, the data stack first.
	began = time.Now()
	d.n.step(3, steps, "open a PR that changes the data stack's greeting (%s)", DataGreetingPath)
	ipr, err := d.p.OpenPR(ctx, InfraBranch, "Demo: greet from the data stack", map[string][]byte{DataGreetingPath: []byte(InfraGreeting + "\n")})
	if err != nil {
		return &StepError{3, err}
	}
	iid := d.track(ipr)
	iurl := d.p.EnvironmentURL(iid)
	d.n.info("PR #%d opened from %s at %s (changes %s to %q)", ipr.Number, ipr.HeadRef, short(ipr.HeadSHA), DataGreetingPath, InfraGreeting)
	want = "latest: " + InfraGreeting
	if err := d.waitServes(ctx, ipr, iurl+"hello", want); err != nil {
		return &StepError{3, err}
	}
	st, err := d.stackOf(ctx, iid)
	if err != nil {
		return &StepError{3, err}
	}
	if st.Branch != InfraBranch {
		return &StepError{3, fmt.Errorf("stack %s runs infra/ from %q, want the PR's branch %q", st.ID, st.Branch, InfraBranch)}
	}
	if pv, err := d.p.Preview(ctx, ipr.Number); err != nil || pv.Version != "latest" {
		return &StepError{3, fmt.Errorf("PR #%d's preview is %+v (%v), want code_version latest", ipr.Number, pv, err)}
	}
	if err := d.showStacks(ctx, iid); err != nil {
		return &StepError{3, err}
	}
	d.n.info("stacks of %s run from branch %s with code_version latest", iid, st.Branch)
	d.n.ok("environment %s serves %q (%s after the PR opened)", iid, want, seconds(time.Since(began)))
	d.n.command("curl " + iurl + "hello")

	// 4. Close both: destructors destroy, then the stacks go.
	began = time.Now()
	d.n.step(4, steps, "close PRs #%d and #%d", pr.Number, ipr.Number)
	type closing struct {
		number    int
		id, stack string
		url       string
	}
	var all []closing
	for _, c := range []struct {
		number int
		id     string
	}{{pr.Number, id}, {ipr.Number, iid}} {
		s, err := d.stackOf(ctx, c.id)
		if err != nil {
			return &StepError{4, err}
		}
		if _, err := d.p.ClosePR(ctx, c.number); err != nil {
			return &StepError{4, err}
		}
		all = append(all, closing{c.number, c.id, s.ID, d.p.EnvironmentURL(c.id)})
	}
	for _, c := range all {
		run, err := d.waitDestroyed(ctx, owner, repo, c.number, c.stack, c.url)
		if err != nil {
			return &StepError{4, err}
		}
		d.n.ok("PR #%d: destroy run %s %s, stack %s deleted, %s answers 404", c.number, run.ID, run.State, c.stack, c.url)
	}
	d.n.info("both environments gone %s after the PRs closed", seconds(time.Since(began)))
	return nil
}

func (d *driver) track(pr githost.PR) string {
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	d.prs = append(d.prs, pr.Number)
	d.envs = append(d.envs, id)
	return id
}

// readMain reads a file of the sandbox's main branch: the tree the PRs
// branch from, so their edits apply to exactly what they change.
func (d *driver) readMain(ctx context.Context, path string) ([]byte, error) {
	f, err := d.p.Git.ReadFile(ctx, d.p.Config().Owner, d.p.Config().Repo, platform.DefaultBranch, path)
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", path, platform.DefaultBranch, err)
	}
	return f.Content, nil
}

// get fetches url once through the sandbox and records the answer.
func (d *driver) get(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		d.last.set(url, 0, "", err)
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	d.last.set(url, resp.StatusCode, string(b), err)
	return resp.StatusCode, string(b), err
}

const poll = 25 * time.Millisecond

// waitServes waits until url answers 200 with exactly want, showing the
// preview's states on the way; a preview that failed for this head fails
// the wait at once.
func (d *driver) waitServes(ctx context.Context, pr githost.PR, url, want string) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.StepTimeout)
	defer cancel()
	seen := ""
	for {
		if pv, err := d.p.Preview(ctx, pr.Number); err == nil && pv.HeadSHA == pr.HeadSHA {
			if pv.State != seen {
				seen = pv.State
				d.n.detail("preview %s: %s", pv.State, pv.Comment)
			}
			if pv.State == platform.PreviewFailed {
				return fmt.Errorf("PR #%d's preview failed: %s", pr.Number, pv.Comment)
			}
		}
		if code, body, err := d.get(ctx, url); err == nil && code == http.StatusOK && body == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not serve %q after %s (preview state %q): %w", url, want, d.cfg.StepTimeout, seen, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// stackOf finds the environment stack the manager created for id.
func (d *driver) stackOf(ctx context.Context, id string) (spacelift.Stack, error) {
	stacks, err := d.p.Engine.Stacks(ctx)
	if err != nil {
		return spacelift.Stack{}, err
	}
	for _, s := range stacks {
		if s.EnvironmentID == id && s.Role == spacelift.RoleService {
			return s, nil
		}
	}
	return spacelift.Stack{}, fmt.Errorf("no Spacelift stack for environment %s", id)
}

// showStacks prints the environment's stacks in the order their latest
// runs ran, with what each depends on: the data stack's run finished
// before the service's started.
func (d *driver) showStacks(ctx context.Context, id string) error {
	wctx, cancel := context.WithTimeout(ctx, d.cfg.StepTimeout)
	defer cancel()
	if err := d.p.Engine.WaitIdle(wctx); err != nil {
		return fmt.Errorf("runs of environment %s did not settle: %w", id, err)
	}
	stacks, err := d.p.Engine.Stacks(ctx)
	if err != nil {
		return err
	}
	type ran struct {
		stack spacelift.Stack
		run   spacelift.Run
	}
	var group []ran
	for _, s := range stacks {
		if s.EnvironmentID != id {
			continue
		}
		runs, err := d.p.Engine.Runs(ctx, s.ID, 1)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return fmt.Errorf("stack %s has no run", s.ID)
		}
		group = append(group, ran{s, runs[0]})
	}
	// In the order they started: runs queued together (one trigger-policy
	// decision) share a creation time, and the dependency decides which
	// one ran first.
	sort.Slice(group, func(i, j int) bool {
		return group[i].run.Entered(spacelift.StatePreparing).Before(group[j].run.Entered(spacelift.StatePreparing))
	})
	for _, g := range group {
		dep := ""
		if len(g.stack.DependsOn) > 0 {
			dep = ", depends on " + strings.Join(g.stack.DependsOn, ", ")
		}
		d.n.info("stack %s (%s%s): run %s %s", g.stack.ID, g.stack.Role, dep, g.run.ID, g.run.State)
	}
	return nil
}

// showTrigger prints why the environment redeployed: its latest run was
// queued by the trigger policy after a manager run, and that policy
// evaluation named the environment's stack.
func (d *driver) showTrigger(ctx context.Context, id string) error {
	wctx, cancel := context.WithTimeout(ctx, d.cfg.StepTimeout)
	defer cancel()
	// The URL can serve the new code while its run is still APPLYING; the
	// story is told once the engine is idle.
	if err := d.p.Engine.WaitIdle(wctx); err != nil {
		return fmt.Errorf("Spacelift stand-in not idle: %w", err)
	}
	st, err := d.stackOf(ctx, id)
	if err != nil {
		return err
	}
	runs, err := d.p.Engine.Runs(ctx, st.ID, 10)
	if err != nil {
		return err
	}
	var run *spacelift.Run
	for i := range runs {
		if runs[i].Type == spacelift.RunTracked && runs[i].State == spacelift.StateFinished {
			run = &runs[i]
			break
		}
	}
	if run == nil || run.TriggeredBy == "" || !strings.HasPrefix(run.Cause, "trigger policy") {
		return fmt.Errorf("the latest finished run of stack %s was not queued by the trigger policy: %+v", st.ID, run)
	}
	evals, err := d.p.Engine.Evaluations(ctx, 200)
	if err != nil {
		return err
	}
	for _, ev := range evals {
		if ev.Policy == "trigger" && ev.RunID == run.TriggeredBy && strings.Contains(ev.Decision, st.ID) {
			d.n.info("trigger policy fired on stack %s after run %s (%s): %s", ev.StackID, ev.RunID, ev.Summary, ev.Decision)
			d.n.info("stack %s: run %s %s, because: %s", st.ID, run.ID, run.State, run.Cause)
			return nil
		}
	}
	return fmt.Errorf("no trigger policy evaluation after run %s names stack %s", run.TriggeredBy, st.ID)
}

// waitDestroyed waits for the whole teardown of a closed PR: a finished
// DESTROY run, the stack deleted, the preview destroyed and the URL 404.
func (d *driver) waitDestroyed(ctx context.Context, owner, repo string, number int, stackID, url string) (spacelift.Run, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.StepTimeout)
	defer cancel()
	seen := ""
	var missing string
	for {
		var destroy spacelift.Run
		runs, err := d.p.Engine.Runs(ctx, stackID, 20)
		if err == nil {
			for _, r := range runs {
				if r.Type == spacelift.RunDestroy {
					destroy = r
					break
				}
			}
		}
		_, serr := d.p.Engine.Stack(ctx, stackID)
		pv, perr := d.p.Preview(ctx, number)
		if perr == nil && pv.State != seen {
			seen = pv.State
			d.n.detail("PR #%d preview %s: %s", number, pv.State, pv.Comment)
		}
		code, _, herr := d.get(ctx, url)
		switch {
		case destroy.ID == "" || destroy.State != spacelift.StateFinished:
			missing = fmt.Sprintf("no FINISHED destroy run on stack %s (latest destroy run: %q %s)", stackID, destroy.ID, destroy.State)
			if destroy.State == spacelift.StateFailed {
				return destroy, errors.New(missing)
			}
		case !errors.Is(serr, spacelift.ErrNotFound):
			missing = fmt.Sprintf("stack %s still exists (%v)", stackID, serr)
		case perr != nil || pv.State != platform.PreviewDestroyed:
			missing = fmt.Sprintf("PR #%d's preview is %q, not destroyed (%v)", number, pv.State, perr)
		case herr != nil || code != http.StatusNotFound:
			missing = fmt.Sprintf("%s answers %d (%v), not 404", url, code, herr)
		default:
			return destroy, nil
		}
		select {
		case <-ctx.Done():
			return destroy, fmt.Errorf("PR #%d not torn down after %s: %s: %w", number, d.cfg.StepTimeout, missing, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// report prints what a person needs to see why a step failed.
func (d *driver) report(ctx context.Context, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d.n.fail("%v", err)
	for _, number := range d.prs {
		log, lerr := d.p.CILog(ctx, number)
		var lines []string
		for _, l := range log {
			lines = append(lines, l.At.Format("15:04:05.000")+" "+l.Line)
		}
		if lerr != nil {
			lines = append(lines, "(reading the CI log failed: "+lerr.Error()+")")
		}
		d.n.block(fmt.Sprintf("CI log of PR #%d:", number), lines)
	}
	runs, rerr := d.p.Engine.Runs(ctx, "", 200)
	if rerr != nil {
		d.n.block("Spacelift runs:", []string{"(listing runs failed: " + rerr.Error() + ")"})
	}
	shown := 0
	for _, r := range runs {
		if shown == 8 || !d.relevant(r.StackID) {
			continue
		}
		shown++
		logs, _ := d.p.Engine.Logs(ctx, r.ID)
		lines := make([]string, 0, len(logs))
		for _, l := range logs {
			lines = append(lines, l.Line)
		}
		d.n.block(fmt.Sprintf("Spacelift run %s on %s: %s %s (%s):", r.ID, r.StackID, r.Type, r.State, r.Cause), lines)
	}
	d.n.block("last HTTP response:", []string{d.last.String()})
}

func (d *driver) relevant(stackID string) bool {
	if stackID == platform.ManagerStackID {
		return true
	}
	for _, id := range d.envs {
		if strings.Contains(stackID, id) {
			return true
		}
	}
	return false
}

// lineWriter turns writes into whole lines for the narrator.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.fn(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
