package spacelift

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/pkg/managerdir"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/policies"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/service/artifact"
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
	for _, sub := range []string{"infra", "manager", "policies"} {
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

// tool finds a binary make tools builds, in PATH or bin/; its absence is a
// broken install, not a reason to skip.
func tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(t), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found in PATH or bin/: run make tools", name)
	}
	return p
}

var (
	zipOnce sync.Once
	zipData []byte
	zipErr  error
)

// artifactZip is the real service built by the real packager, once per
// test binary; every version the tests deploy is a copy of it.
func artifactZip(t testing.TB) []byte {
	zipOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		a, err := artifact.Build(ctx, artifact.BuildOptions{Version: "latest", Commit: sha1, Arch: runtime.GOARCH,
			SourceDir: filepath.Join(repoRoot(t), "service")})
		if err != nil {
			zipErr = err
			return
		}
		zipData = a.Zip
	})
	if zipErr != nil {
		t.Fatalf("build artifact: %v", zipErr)
	}
	return zipData
}

// harness is the Spacelift stand-in on the real data plane: a sandbox
// (S3, Lambda emulators, API Gateway) whose listener also serves the
// engine's provider API, so runs are real tofu runs end to end.
type harness struct {
	t       testing.TB
	repo    *gitRepo
	sb      *sandbox.Sandbox
	eng     *Engine
	dataDir string
	cancel  context.CancelFunc
	// managerEnv is the manager stack's TF_VAR_*s.
	managerEnv map[string]string
}

const managerID = "manager-hello-service"

func testManagerEnv() map[string]string {
	return map[string]string{
		"TF_VAR_service": "hello-service", "TF_VAR_preview_domain": "localhost", "TF_VAR_hosted_zone_id": "Z0SANDBOX",
		"TF_VAR_aws_region": "us-east-1", "TF_VAR_artifact_bucket": sandbox.DefaultBucket, "TF_VAR_aws_integration_id": "-",
		"TF_VAR_repository": "monorepo", "TF_VAR_space_id": "root", "TF_VAR_opentofu_version": "1.10.6",
		// One stack per environment unless a test asks for the data stack:
		// these tests are about the manager and one stack's runs.
		"TF_VAR_data_stack": "false",
	}
}

func newHarness(t testing.TB) *harness {
	h := &harness{t: t, repo: newGitRepo(t), dataDir: t.TempDir(), managerEnv: testManagerEnv()}
	h.start()
	return h
}

func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := sandbox.Open(ctx, sandbox.Config{Addr: "127.0.0.1:0", DataDir: h.dataDir, RIEPath: tool(h.t, "aws-lambda-rie")})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	tmp := filepath.Join(h.dataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		h.t.Fatal(err)
	}
	eng, err := New(ctx, sb.DB(), h.repo, evaluator(h.t), Config{Repository: "sandbox/monorepo", DefaultBranch: "main",
		Manager: managerID, ManagerEnv: h.managerEnv,
		Tofu:   Tofu{Path: tool(h.t, "tofu"), ProvidersDir: filepath.Dir(tool(h.t, "terraform-provider-spacelift"))},
		APIURL: sb.URL() + "/spacelift", RunEnv: sb.AWSEnv(), TempDir: tmp})
	if err != nil {
		cancel()
		sb.Close()
		h.t.Fatal(err)
	}
	sb.Handle("/spacelift/", http.StripPrefix("/spacelift", eng.ProviderHandler()))
	served := make(chan error, 1)
	go func() { served <- sb.Serve(ctx) }()
	if err := eng.Start(ctx); err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.sb, h.eng = sb, eng
	var once sync.Once
	h.cancel = func() {
		once.Do(func() {
			cancel()
			eng.Wait()
			<-served
			sb.Close()
		})
	}
	h.t.Cleanup(h.cancel)
}

// upload puts the artifact under <version>.zip, as the packager does.
func (h *harness) upload(versions ...string) {
	h.t.Helper()
	for _, v := range versions {
		if err := h.sb.S3().Put(h.sb.Bucket(), v+".zip", artifactZip(h.t)); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) push(ev PushEvent) {
	h.t.Helper()
	if err := h.eng.HandlePush(context.Background(), ev); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := h.eng.WaitIdle(ctx); err != nil {
		h.t.Fatalf("runs did not settle: %v\n%s", err, h.dump())
	}
}

// dump is every run with its log, for failure messages.
func (h *harness) dump() string {
	var b strings.Builder
	runs, _ := h.eng.Runs(context.Background(), "", 30)
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		fmt.Fprintf(&b, "%s %s %s %s: %s\n", r.ID, r.StackID, r.Type, r.State, r.Cause)
		logs, _ := h.eng.Logs(context.Background(), r.ID)
		for _, l := range logs {
			b.WriteString("    " + l.Line + "\n")
		}
	}
	return b.String()
}

func (h *harness) log(runID string) string {
	h.t.Helper()
	logs, err := h.eng.Logs(context.Background(), runID)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l.Line + "\n")
	}
	return b.String()
}

// get asks the gateway for an environment's root, as a browser on
// <id>.hello-service.localhost would.
func (h *harness) get(id string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.sb.URL()+"/", nil)
	req.Host = id + ".hello-service.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", req.Host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
		h.t.Fatalf("no run on %s: %v\n%s", stackID, err, h.dump())
	}
	return runs[0]
}

// applied lists a run's apply-phase changes as "action address".
func applied(r Run) []string {
	var out []string
	for _, c := range r.Changes {
		if c.Phase == "apply" {
			out = append(out, c.Action+" "+c.Address)
		}
	}
	return out
}

func envAddr(id string) string {
	return "module.hello_service.module.environments.module.env_" + id
}

func TestManagerCreatesAndTriggersOnlyChangedEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload(sha1, sha2, "latest")
	pathA, fileA := envFile(t, "acme", "shop", 1, sha1, "main")
	pathB, fileB := envFile(t, "acme", "shop", 2, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{pathA: fileA, pathB: fileB}))
	h.settle()

	idA, idB := envfile.ID("acme", "shop", 1), envfile.ID("acme", "shop", 2)
	for _, id := range []string{idA, idB} {
		if code, body := h.get(id); code != http.StatusOK {
			t.Fatalf("environment %s answers %d %q\n%s", id, code, body, h.dump())
		}
		run := h.lastRun("hello-service-" + id)
		if run.State != StateFinished || run.TriggeredBy == "" || !strings.Contains(run.Cause, "trigger policy") {
			t.Fatalf("environment run %+v was not a finished run caused by the trigger policy", run)
		}
		// The log is tofu's own.
		if l := h.log(run.ID); !strings.Contains(l, "aws_lambda_function.handler: Creation complete") {
			t.Fatalf("environment run log is not tofu's apply output:\n%s", l)
		}
	}
	stack, err := h.eng.Stack(context.Background(), "hello-service-"+idA)
	if err != nil {
		t.Fatal(err)
	}
	if stack.Env["TF_VAR_code_version"] != sha1 || stack.Env["TF_VAR_domain_name"] != "hello-service.localhost" ||
		stack.Branch != "main" || stack.ProjectRoot != "infra" || stack.EnvironmentID != idA {
		t.Fatalf("stack from the template: %+v", stack)
	}

	// A push that only changes A's code_version replaces exactly that
	// variable, and the trigger policy runs A alone.
	bBefore := h.lastRun("hello-service-" + idB)
	pathA2, fileA2 := envFile(t, "acme", "shop", 1, sha2, "main")
	if pathA2 != pathA {
		t.Fatalf("file name changed with the version: %s vs %s", pathA2, pathA)
	}
	h.push(h.repo.commit("main", map[string][]byte{pathA: fileA2}))
	h.settle()
	m := h.lastRun(managerID)
	want := []string{ActionReplaced + " " + envAddr(idA) + `.spacelift_environment_variable.tf_vars["code_version"]`}
	if got := applied(m); !slices.Equal(got, want) {
		t.Fatalf("manager run applied %v, want %v", got, want)
	}
	if bAfter := h.lastRun("hello-service-" + idB); bAfter.ID != bBefore.ID {
		t.Fatalf("B ran again (%s) though nothing of it changed", bAfter.ID)
	}
	a := h.lastRun("hello-service-" + idA)
	if a.TriggeredBy != m.ID || a.State != StateFinished {
		t.Fatalf("A's run %+v, want a finished run triggered by %s", a, m.ID)
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

// TestTemplateChangePlansExactlyTheNewResources is a fork's change to the
// template reaching the real engine: one more TF_VAR for every environment.
// The manager's plan holds exactly the new variables, one per environment,
// and the trigger policy runs every environment stack, whose infra/ plan
// then picks the value up.
func TestTemplateChangePlansExactlyTheNewResources(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	pathA, fileA := envFile(t, "acme", "shop", 31, "latest", "main")
	pathB, fileB := envFile(t, "acme", "shop", 32, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{pathA: fileA, pathB: fileB}))
	h.settle()

	const tmpl = "manager/hello-service/template/main.tf"
	src, err := os.ReadFile(filepath.Join(repoRoot(t), tmpl))
	if err != nil {
		t.Fatal(err)
	}
	anchor := "    aws_region      = var.shared.aws_region\n"
	if !strings.Contains(string(src), anchor) {
		t.Fatalf("%s no longer holds the line this test extends", tmpl)
	}
	changed := strings.Replace(string(src), anchor, anchor+"    log_retention_days = 14\n", 1)
	h.push(h.repo.commit("main", map[string][]byte{tmpl: []byte(changed)}))
	h.settle()

	m := h.lastRun(managerID)
	if m.State != StateFinished {
		t.Fatalf("manager run %s\n%s", m.State, h.log(m.ID))
	}
	var want []string
	for _, id := range []string{envfile.ID("acme", "shop", 31), envfile.ID("acme", "shop", 32)} {
		want = append(want, ActionAdded+" "+envAddr(id)+`.spacelift_environment_variable.tf_vars["log_retention_days"]`)
	}
	got := applied(m)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("manager run applied %v, want exactly %v", got, want)
	}
	for _, id := range []string{envfile.ID("acme", "shop", 31), envfile.ID("acme", "shop", 32)} {
		r := h.lastRun("hello-service-" + id)
		if r.TriggeredBy != m.ID || r.State != StateFinished {
			t.Fatalf("environment %s: last run %+v, want one triggered by %s", id, r, m.ID)
		}
		var retention bool
		for _, c := range r.Changes {
			if c.Phase == "apply" && c.Type == "aws_cloudwatch_log_group" && c.Action == ActionChanged {
				retention = fmt.Sprint(c.Values["retention_in_days"]) == "14"
			}
		}
		if !retention {
			t.Fatalf("environment %s did not update its log group to 14 days: %+v", id, r.Changes)
		}
	}
}

// TestTemplateErrorFailsWithTofuDiagnostic: a template that tofu rejects
// fails the manager run with tofu's own diagnostic (file and line), and the
// live environment keeps serving.
func TestTemplateErrorFailsWithTofuDiagnostic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	path, file := envFile(t, "acme", "shop", 41, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	id := envfile.ID("acme", "shop", 41)
	if code, _ := h.get(id); code != http.StatusOK {
		t.Fatalf("environment not live before the bad change\n%s", h.dump())
	}

	for _, tc := range []struct {
		name, file, from, to, want string
	}{
		{"unknown attribute", "manager/hello-service/template/main.tf", "  autodeploy   = true\n",
			"  autodeploy   = true\n  auto_deploy_typo = true\n", `An argument named "auto_deploy_typo" is not expected here`},
		{"bad reference", "manager/hello-service/template/main.tf", "  stack_id = spacelift_stack.this.id\n",
			"  stack_id = spacelift_stack.that.id\n", "Reference to undeclared resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(h.repo.dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(src), tc.from) {
				t.Fatalf("%s no longer holds %q", tc.file, tc.from)
			}
			bad := strings.Replace(string(src), tc.from, tc.to, 1)
			h.push(h.repo.commit("main", map[string][]byte{tc.file: []byte(bad)}))
			h.settle()
			m := h.lastRun(managerID)
			l := h.log(m.ID)
			if m.State != StateFailed || !strings.Contains(l, tc.want) || !strings.Contains(l, "main.tf line") {
				t.Fatalf("manager run %s, want FAILED with tofu's diagnostic %q naming main.tf and the line:\n%s", m.State, tc.want, l)
			}
			if code, _ := h.get(id); code != http.StatusOK {
				t.Fatalf("the live environment stopped serving after a failed plan: %d", code)
			}
			h.push(h.repo.commit("main", map[string][]byte{tc.file: src}))
			h.settle()
			if m := h.lastRun(managerID); m.State != StateFinished {
				t.Fatalf("manager run after the fix %s:\n%s", m.State, h.log(m.ID))
			}
		})
	}
}

// TestDestroyOrderFromTofu reads the order in which tofu actually removed
// things when an environment file goes: the destructor (whose deletion runs
// the environment's destroy) before the variables and attachments the
// destroy needs, the stack last; and the environment's own destroy took
// the API's routes down before the function.
func TestDestroyOrderFromTofu(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	path, file := envFile(t, "acme", "shop", 51, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	id := envfile.ID("acme", "shop", 51)
	stackID := "hello-service-" + id

	h.push(h.repo.commit("main", map[string][]byte{path: nil}))
	h.settle()
	if _, err := h.eng.Stack(context.Background(), stackID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stack still exists: %v\n%s", err, h.dump())
	}
	if code, _ := h.get(id); code != http.StatusNotFound {
		t.Fatalf("destroyed environment answers %d, want 404", code)
	}
	m := h.lastRun(managerID)
	if m.State != StateFinished {
		t.Fatalf("manager run %s\n%s", m.State, h.log(m.ID))
	}
	done := completions(h.log(m.ID), envAddr(id)+".")
	pos := func(addr string) int {
		i := slices.Index(done, addr)
		if i < 0 {
			t.Fatalf("%s was not destroyed by the manager run; destroyed: %v", addr, done)
		}
		return i
	}
	d := pos("spacelift_stack_destructor.this")
	for _, after := range []string{`spacelift_environment_variable.tf_vars["code_version"]`, "spacelift_policy_attachment.push",
		"spacelift_aws_integration_attachment.aws", "spacelift_stack.this"} {
		if pos(after) < d {
			t.Fatalf("%s was destroyed before the destructor: %v", after, done)
		}
	}
	if pos("spacelift_stack.this") != len(done)-1 {
		t.Fatalf("the stack was not destroyed last: %v", done)
	}
	var destroy Run
	runs, _ := h.eng.Runs(context.Background(), stackID, 10)
	for _, r := range runs {
		if r.Type == RunDestroy {
			destroy = r
		}
	}
	if destroy.State != StateFinished {
		t.Fatalf("no finished destroy run on %s: %+v", stackID, runs)
	}
	gone := completions(h.log(destroy.ID), "")
	fn, mapping := slices.Index(gone, "aws_lambda_function.handler"), slices.Index(gone, "aws_api_gateway_base_path_mapping.this")
	if fn < 0 || mapping < 0 || mapping > fn {
		t.Fatalf("destroy order %v: want the base path mapping gone before the function", gone)
	}
}

// completions lists, in log order, the addresses tofu reported
// "Destruction complete" for, with prefix cut.
func completions(log, prefix string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		addr, _, ok := strings.Cut(l, ": Destruction complete")
		if !ok {
			continue
		}
		if a, ok := strings.CutPrefix(addr, prefix); ok {
			out = append(out, a)
		}
	}
	return out
}

func TestPushPolicyTracksOnlyOwnBranchAndRoot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	h.repo.commit("feature/x", map[string][]byte{"infra/README.md": []byte("v1\n")})
	path, file := envFile(t, "acme", "shop", 11, "latest", "feature/x")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	stackID := "hello-service-" + envfile.ID("acme", "shop", 11)
	before, _ := h.eng.Runs(context.Background(), stackID, 100)
	if len(before) == 0 || before[0].State != StateFinished {
		t.Fatalf("first run of %s: %+v\n%s", stackID, before, h.dump())
	}

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

// TestRestartResumesInterruptedRun: a manager run the sandbox died in (left
// APPLYING in the database, its state lock still held) is failed on
// restart and run again, and the environment it was creating comes up.
func TestRestartResumesInterruptedRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	h.settle()
	path, file := envFile(t, "acme", "shop", 5, "latest", "main")
	ev := h.repo.commit("main", map[string][]byte{path: file})
	h.cancel()

	ctx := context.Background()
	db, err := state.Open(ctx, filepath.Join(h.dataDir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.InsertRun(ctx, Run{StackID: managerID, Type: RunTracked, Branch: "main", Commit: ev.After, Cause: "push"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{StatePreparing, StateInitializing, StatePlanning, StateApplying} {
		if _, err := st.SetRunState(ctx, r.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	// The killed tofu's lock.
	if err := st.LockState(ctx, managerID, []byte(`{"ID":"killed-tofu","Operation":"OperationTypeApply"}`)); err != nil {
		t.Fatal(err)
	}
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
	resumed := h.lastRun(managerID)
	if resumed.State != StateFinished || !strings.HasPrefix(resumed.Cause, "resumed after restart: "+r.ID) {
		t.Fatalf("last manager run %+v, want the finished resumption of %s\n%s", resumed, r.ID, h.dump())
	}
	if code, _ := h.get(envfile.ID("acme", "shop", 5)); code != http.StatusOK {
		t.Fatalf("the environment was not created after the restart\n%s", h.dump())
	}
}

// TestLostStateConverges is a run killed after the provider created the
// stacks but before tofu saved state: the next run plans to create them
// again, and the provider adopts the identical objects instead of failing
// on the conflict, so the manager converges without orphans.
func TestLostStateConverges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.upload("latest")
	path, file := envFile(t, "acme", "shop", 61, "latest", "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	ctx := context.Background()
	if err := h.eng.st.DeleteState(ctx, managerID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.TriggerRun(ctx, managerID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	m := h.lastRun(managerID)
	if m.State != StateFinished {
		t.Fatalf("manager run after its state was lost: %s\n%s", m.State, h.log(m.ID))
	}
	stacks, err := h.eng.Stacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 2 {
		t.Fatalf("%d stacks after the re-run, want the manager and one environment: %+v", len(stacks), stacks)
	}
}
