package spacelift

import (
	"archive/tar"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/pkg/managerdir"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/policies"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/state"
)

// repoRoot is the monorepo root: the tests run the real template and the
// real infra/ HCL, not copies that could drift.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// gitRepo is a real git repository standing in for the git host.
type gitRepo struct {
	t   testing.TB
	dir string
	mu  sync.Mutex
}

func (g *gitRepo) git(args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+g.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newGitRepo(t testing.TB) *gitRepo {
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.git("init", "-q", "-b", "main")
	root := repoRoot(t)
	for _, sub := range []string{"infra", "manager"} {
		copyTree(t, filepath.Join(root, sub), filepath.Join(g.dir, sub))
	}
	g.git("add", "-A")
	g.git("commit", "-q", "-m", "import")
	return g
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(p, ".tf") && filepath.Base(filepath.Dir(p)) == "environments" && envfile.IsEnvFileName(d.Name()) {
			return nil // tests write their own environments
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commit writes (or, with nil content, removes) files on a branch and
// returns the push event the git host would send.
func (g *gitRepo) commit(branch string, files map[string][]byte) PushEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	before := g.git("rev-parse", "HEAD")
	if g.git("rev-parse", "--abbrev-ref", "HEAD") != branch {
		if strings.Contains(g.git("branch", "--list", branch), branch) {
			g.git("checkout", "-q", branch)
		} else {
			g.git("checkout", "-q", "-b", branch)
		}
		before = g.git("rev-parse", "HEAD")
	}
	var names []string
	for name, b := range files {
		p := filepath.Join(g.dir, name)
		if b == nil {
			os.Remove(p)
		} else {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				g.t.Fatal(err)
			}
		}
		names = append(names, name)
	}
	g.git("add", "-A")
	g.git("commit", "-q", "--allow-empty", "-m", "change")
	after := g.git("rev-parse", "HEAD")
	g.git("checkout", "-q", "main")
	slices.Sort(names)
	return PushEvent{Repository: "sandbox/monorepo", Branch: branch, Before: before, After: after, AffectedFiles: names}
}

func (g *gitRepo) Head(_ context.Context, repo, branch string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cmd := exec.Command("git", "rev-parse", "--verify", "refs/heads/"+branch)
	cmd.Dir = g.dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("branch %s: %w", branch, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (g *gitRepo) Export(ctx context.Context, repo, ref, subdir, dest string) error {
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", ref, "--", subdir)
	cmd.Dir = g.dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git archive %s %s: %w", ref, subdir, err)
	}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dest, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		if _, err := os.Stat(filepath.Dir(p)); err != nil {
			os.MkdirAll(filepath.Dir(p), 0o755)
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
}

func (g *gitRepo) ReadTree(ctx context.Context, repo, ref, subdir string) (map[string][]byte, error) {
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", ref, "--", subdir)
	cmd.Dir = g.dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git archive %s %s: %w", ref, subdir, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			files[h.Name] = b
		}
	}
}

// recordingPlane records what the engine asks of the data plane, in order.
// Deploy can be held to model a slow first run.
type recordingPlane struct {
	mu      sync.Mutex
	calls   []string
	live    map[string]Function
	hold    chan struct{}
	failFor string
}

func newPlane() *recordingPlane { return &recordingPlane{live: map[string]Function{}} }

func (p *recordingPlane) Deploy(ctx context.Context, f Function) error {
	p.mu.Lock()
	hold := p.hold
	p.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.EnvironmentID == p.failFor {
		return errors.New("artifact missing")
	}
	p.calls = append(p.calls, "deploy "+f.EnvironmentID+" "+f.ArtifactKey)
	p.live[f.EnvironmentID] = f
	return nil
}

func (p *recordingPlane) Remove(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "remove "+id)
	delete(p.live, id)
	return nil
}

func (p *recordingPlane) snapshot() ([]string, map[string]Function) {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := map[string]Function{}
	for k, v := range p.live {
		live[k] = v
	}
	return slices.Clone(p.calls), live
}

var (
	evalOnce sync.Once
	evalErr  error
	eval     *policies.Evaluator
)

func evaluator(t testing.TB) *policies.Evaluator {
	evalOnce.Do(func() { eval, evalErr = policies.New(context.Background()) })
	if evalErr != nil {
		t.Fatal(evalErr)
	}
	return eval
}

type harness struct {
	t      testing.TB
	repo   *gitRepo
	plane  *recordingPlane
	eng    *Engine
	dbPath string
	cancel context.CancelFunc
}

func testConfig(t testing.TB) Config {
	return Config{Repository: "sandbox/monorepo", DefaultBranch: "main", Manager: "manager-hello-service",
		Shared: Shared{SpaceID: "root", Repository: "monorepo", DomainName: "hello-service.localhost", HostedZoneID: "Z0",
			CertificateARN: "arn:aws:acm:us-east-1:000000000000:certificate/sandbox", AWSIntegrationID: "sandbox",
			ArtifactBucket: "artifacts", AWSRegion: "us-east-1", OpenTofuVersion: "1.10.6"},
		TempDir: t.TempDir(), DestroyTimeout: 20 * time.Second}
}

func newHarness(t testing.TB) *harness {
	h := &harness{t: t, repo: newGitRepo(t), plane: newPlane(), dbPath: filepath.Join(t.TempDir(), "state.db")}
	h.start()
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := state.Open(ctx, h.dbPath)
	if err != nil {
		h.t.Fatal(err)
	}
	eng, err := New(ctx, db, h.repo, evaluator(h.t), h.plane, testConfig(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.eng = eng
	h.cancel = func() { cancel(); eng.Wait(); db.Close() }
	h.t.Cleanup(h.cancel)
}

// interruptedManagerRun leaves, in the stopped harness's database, a manager
// run stuck in APPLYING at commit, as a sandbox killed mid-apply leaves it.
// The caller may write more of what the run had applied through the store,
// then closes db before restarting the harness.
func (h *harness) interruptedManagerRun(commit string) (Run, *store, *sql.DB) {
	h.t.Helper()
	ctx := context.Background()
	db, err := state.Open(ctx, h.dbPath)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := newStore(ctx, db)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := st.insertRun(ctx, Run{StackID: "manager-hello-service", Type: RunTracked, Branch: "main", Commit: commit, Cause: "push"})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range []string{StatePreparing, StateInitializing, StatePlanning, StateApplying} {
		if _, err := st.setRunState(ctx, r.ID, s); err != nil {
			h.t.Fatal(err)
		}
	}
	return r, st, db
}

func (h *harness) push(ev PushEvent) {
	h.t.Helper()
	if err := h.eng.HandlePush(context.Background(), ev); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.eng.WaitIdle(ctx); err != nil {
		h.t.Fatalf("runs did not settle: %v", err)
	}
}

func envFile(t testing.TB, owner, repo string, pr int, version, branch string) (string, []byte) {
	t.Helper()
	e, err := envfile.New("hello-service", owner, repo, pr, version, branch, time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), envfile.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := envfile.Render(e)
	if err != nil {
		t.Fatal(err)
	}
	return "manager/hello-service/environments/" + envfile.FileName(e), b
}

const (
	sha1 = "1111111111111111111111111111111111111111"
	sha2 = "2222222222222222222222222222222222222222"
)

func (h *harness) lastRun(stackID string) Run {
	h.t.Helper()
	runs, err := h.eng.Runs(context.Background(), stackID, 1)
	if err != nil || len(runs) == 0 {
		h.t.Fatalf("no run on %s: %v", stackID, err)
	}
	return runs[0]
}

func TestManagerCreatesAndTriggersOnlyChangedEnvironment(t *testing.T) {
	h := newHarness(t)
	pathA, fileA := envFile(t, "acme", "shop", 1, sha1, "main")
	pathB, fileB := envFile(t, "acme", "shop", 2, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{pathA: fileA, pathB: fileB}))
	h.settle()

	idA, idB := envfile.ID("acme", "shop", 1), envfile.ID("acme", "shop", 2)
	_, live := h.plane.snapshot()
	if got := live[idA]; got.ArtifactKey != sha1+".zip" {
		t.Fatalf("environment A serves %q, want %s.zip (live: %+v)", got.ArtifactKey, sha1, live)
	}
	if got := live[idB]; got.ArtifactKey != "latest.zip" {
		t.Fatalf("environment B serves %q, want latest.zip", got.ArtifactKey)
	}
	fa := live[idA]
	if fa.Env["PREVIEW_ENVIRONMENT_ID"] != idA || fa.Handler != "bootstrap" || fa.Timeout != 10*time.Second {
		t.Fatalf("function A not evaluated from infra/: %+v", fa)
	}
	wantRoutes := []Route{{"GET", "/"}, {"GET", "/hello"}}
	if !slices.Equal(fa.Routes, wantRoutes) {
		t.Fatalf("routes %v, want %v", fa.Routes, wantRoutes)
	}
	stackA := h.lastRun("hello-service-" + idA)
	if stackA.TriggeredBy == "" || !strings.Contains(stackA.Cause, "trigger policy") {
		t.Fatalf("environment run was not caused by the trigger policy: %+v", stackA)
	}

	// A push that only changes A's code_version redeploys A and leaves B alone.
	callsBefore, _ := h.plane.snapshot()
	pathA2, fileA2 := envFile(t, "acme", "shop", 1, sha2, "main")
	if pathA2 != pathA {
		t.Fatalf("file name changed with the version: %s vs %s", pathA2, pathA)
	}
	h.push(h.repo.commit("main", map[string][]byte{pathA: fileA2}))
	h.settle()
	calls, live := h.plane.snapshot()
	newCalls := calls[len(callsBefore):]
	if want := []string{"deploy " + idA + " " + sha2 + ".zip"}; !slices.Equal(newCalls, want) {
		t.Fatalf("after the version bump the data plane saw %v, want %v", newCalls, want)
	}
	if live[idB].ArtifactKey != "latest.zip" {
		t.Fatalf("B changed: %+v", live[idB])
	}
	m := h.lastRun("manager-hello-service")
	var replaced int
	for _, c := range m.Changes {
		if c.Phase == "apply" && c.Action == ActionReplaced {
			replaced++
		}
	}
	if replaced != 1 {
		t.Fatalf("manager run reported %d replaced variables, want 1 (code_version): %+v", replaced, m.Changes)
	}
	evals, err := h.eng.Evaluations(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evals) == 0 || evals[0].Policy != "trigger" || !strings.Contains(evals[0].Decision, "hello-service-"+idA) ||
		strings.Contains(evals[0].Decision, idB) {
		t.Fatalf("last policy evaluation %+v does not show A (and only A) triggered", evals)
	}
}

func TestDestroyRunsBeforeStackDeletion(t *testing.T) {
	h := newHarness(t)
	path, file := envFile(t, "acme", "shop", 7, sha1, "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	id := envfile.ID("acme", "shop", 7)
	stackID := "hello-service-" + id

	// By construction the variables and the stack cannot go before a
	// finished destroy run.
	if err := h.eng.st.deleteStack(context.Background(), stackID); !errors.Is(err, ErrDestroyPending) {
		t.Fatalf("deleteStack before destroy: %v, want ErrDestroyPending", err)
	}
	if err := h.eng.st.setStackState(context.Background(), stackID, StackDeleting); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.st.deleteEnvVar(context.Background(), stackID, "TF_VAR_code_version"); !errors.Is(err, ErrDestroyPending) {
		t.Fatalf("deleteEnvVar during destroy: %v, want ErrDestroyPending", err)
	}
	if err := h.eng.st.setStackState(context.Background(), stackID, StackActive); err != nil {
		t.Fatal(err)
	}

	h.push(h.repo.commit("main", map[string][]byte{path: nil}))
	h.settle()
	calls, live := h.plane.snapshot()
	if _, ok := live[id]; ok {
		t.Fatalf("environment still live after its file was removed: %v", calls)
	}
	if _, err := h.eng.Stack(context.Background(), stackID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stack still exists: %v", err)
	}
	m := h.lastRun("manager-hello-service")
	if m.State != StateFinished {
		t.Fatalf("manager run %s", m.State)
	}
	// The apply-phase changes list the destructor before the variables and
	// the stack, as the destroy order requires.
	var order []string
	for _, c := range m.Changes {
		if c.Phase == "apply" && c.Action == ActionDeleted {
			order = append(order, c.Type)
		}
	}
	if len(order) < 3 || order[0] != "spacelift_stack_destructor" || order[len(order)-1] != "spacelift_stack" {
		t.Fatalf("deletion order %v", order)
	}
}

func TestMalformedEnvironmentFileFailsRunAndKeepsLiveEnvironments(t *testing.T) {
	h := newHarness(t)
	path, file := envFile(t, "acme", "shop", 3, sha1, "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	id := envfile.ID("acme", "shop", 3)

	bad := "manager/hello-service/environments/acme-shop-4-" + envfile.ID("acme", "shop", 4) + ".tf"
	h.push(h.repo.commit("main", map[string][]byte{bad: []byte("module \"x\" {\n  source = \"../template\"\n  environment_id = \"${file(\"/etc/passwd\")}\"\n}\n")}))
	h.settle()
	m := h.lastRun("manager-hello-service")
	if m.State != StateFailed {
		t.Fatalf("manager run on a malformed file: %s, want FAILED", m.State)
	}
	logs, err := h.eng.Logs(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, l := range logs {
		text.WriteString(l.Line + "\n")
	}
	if !strings.Contains(text.String(), filepath.Base(bad)+":") {
		t.Fatalf("log does not name the file and line:\n%s", text.String())
	}
	calls, live := h.plane.snapshot()
	if _, ok := live[id]; !ok {
		t.Fatalf("live environment was removed: %v", calls)
	}
}

func TestClosedDuringFirstRunEndsDestroyed(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.plane.mu.Lock()
	h.plane.hold = release
	h.plane.mu.Unlock()
	path, file := envFile(t, "acme", "shop", 9, sha1, "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	id := envfile.ID("acme", "shop", 9)
	stackID := "hello-service-" + id
	// Wait until the environment's first run is applying (held in Deploy).
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, _ := h.eng.Runs(context.Background(), stackID, 1)
		if len(runs) == 1 && runs[0].State == StateApplying {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first run never reached APPLYING")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.push(h.repo.commit("main", map[string][]byte{path: nil}))
	time.Sleep(100 * time.Millisecond) // the manager run is now waiting on the destructor
	close(release)
	h.settle()
	calls, live := h.plane.snapshot()
	if _, ok := live[id]; ok {
		t.Fatalf("environment orphaned: calls %v", calls)
	}
	if want := []string{"deploy " + id + " " + sha1 + ".zip", "remove " + id}; !slices.Equal(calls, want) {
		t.Fatalf("data plane calls %v, want %v", calls, want)
	}
	if _, err := h.eng.Stack(context.Background(), stackID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stack survives: %v", err)
	}
}

func TestRestartResumesInterruptedRun(t *testing.T) {
	h := newHarness(t)
	path, file := envFile(t, "acme", "shop", 5, sha1, "main")
	ev := h.repo.commit("main", map[string][]byte{path: file})
	// Simulate a crash in the middle of a manager run: the run is stuck in
	// APPLYING in the database and the process is gone.
	h.cancel()
	ctx := context.Background()
	r, _, db := h.interruptedManagerRun(ev.After)
	db.Close()

	h.start()
	h.settle()
	old, err := h.eng.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.State != StateFailed {
		t.Fatalf("interrupted run is %s, want FAILED", old.State)
	}
	_, live := h.plane.snapshot()
	if _, ok := live[envfile.ID("acme", "shop", 5)]; !ok {
		t.Fatal("the environment was not created after the restart")
	}
}

func TestPushPolicyTracksOnlyOwnBranchAndRoot(t *testing.T) {
	h := newHarness(t)
	h.repo.commit("feature/x", map[string][]byte{"infra/README.md": []byte("v1\n")})
	path, file := envFile(t, "acme", "shop", 11, "latest", "feature/x")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	stackID := "hello-service-" + envfile.ID("acme", "shop", 11)
	before, _ := h.eng.Runs(context.Background(), stackID, 100)

	for _, tc := range []struct {
		name   string
		branch string
		files  map[string][]byte
		runs   int
	}{
		{"outside the project root", "feature/x", map[string][]byte{"docs/x.md": []byte("x")}, 0},
		{"another branch", "feature/y", map[string][]byte{"infra/README.md": []byte("y")}, 0},
		{"own branch, infra changed", "feature/x", map[string][]byte{"infra/README.md": []byte("v2\n")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.push(h.repo.commit(tc.branch, tc.files))
			h.settle()
			after, _ := h.eng.Runs(context.Background(), stackID, 100)
			if got := len(after) - len(before); got != tc.runs {
				t.Fatalf("%d new run(s), want %d", got, tc.runs)
			}
			before = after
		})
	}
}
