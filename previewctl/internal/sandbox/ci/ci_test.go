package ci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/service/artifact"
	"preview-environments/update-file-action/updatefile"
)

// The CI steps against fakes of Deps: a git host that exports canned trees,
// a contents API and an artifact bucket that record what they are asked,
// environments on an httptest server whose answers each test scripts, a
// fixed clock. The store is real SQLite.

const (
	owner   = "sandbox"
	repo    = "preview-environments"
	service = "hello-service"
	shaA    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB    = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaMain = "cccccccccccccccccccccccccccccccccccccccc"
)

var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeGit exports manager/ with the real template and service/ with a
// go.mod; it lists the PRs and changed files it is given.
type fakeGit struct {
	template []byte
	mu       sync.Mutex
	exports  []string // "<ref> <subdir>"
	prs      []githost.PR
	changed  map[string][]string // by head sha
}

func (g *fakeGit) Export(ctx context.Context, owner, repo, ref, subdir, destDir string) error {
	g.mu.Lock()
	g.exports = append(g.exports, ref+" "+subdir)
	g.mu.Unlock()
	files := map[string][]byte{}
	switch subdir {
	case "manager":
		files["manager/"+service+"/template/variables.tf"] = g.template
		files["manager/"+service+"/environments/variables.tf"] = []byte("variable \"shared\" {\n  type = any\n}\n")
	case "service":
		files["service/go.mod"] = []byte("module " + artifact.ModulePath + "\n")
	default:
		return fmt.Errorf("fake git: nothing to export at %s", subdir)
	}
	for name, b := range files {
		p := filepath.Join(destDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (g *fakeGit) Head(ctx context.Context, owner, repo, branch string) (string, error) {
	if branch != "main" {
		return "", githost.ErrNotFound
	}
	return shaMain, nil
}

func (g *fakeGit) ListPRs(ctx context.Context, owner, repo, state string) ([]githost.PR, error) {
	return g.prs, nil
}

func (g *fakeGit) ChangedFiles(ctx context.Context, owner, repo, baseRef, headSHA string) ([]string, error) {
	return g.changed[headSHA], nil
}

// fakeContents records the contents API requests; hook, if set, answers.
type fakeContents struct {
	mu   sync.Mutex
	reqs []updatefile.Request
	hook func(ctx context.Context, req updatefile.Request) error
}

func (f *fakeContents) Apply(ctx context.Context, req updatefile.Request) (updatefile.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, req); err != nil {
			return updatefile.Result{}, err
		}
	}
	op := updatefile.Created
	if req.Delete {
		op = updatefile.Deleted
	}
	return updatefile.Result{Operation: op, Branch: req.Branch, CommitSHA: "dddddddddd", Attempts: 1}, nil
}

func (f *fakeContents) requests() []updatefile.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// fakeArtifacts records builds and uploads; keys in have are in the bucket.
type fakeArtifacts struct {
	mu      sync.Mutex
	builds  []artifact.BuildOptions
	uploads []string
	have    map[string]bool
	hook    func(ctx context.Context, opts artifact.BuildOptions) error
}

func (f *fakeArtifacts) Build(ctx context.Context, opts artifact.BuildOptions) (*artifact.Artifact, error) {
	f.mu.Lock()
	f.builds = append(f.builds, opts)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, opts); err != nil {
			return nil, err
		}
	}
	return &artifact.Artifact{Version: opts.Version, Commit: opts.Commit, Zip: []byte("zip of " + opts.Version),
		SHA256Hex: strings.Repeat("5", 64)}, nil
}

func (f *fakeArtifacts) Upload(ctx context.Context, key string, zip []byte) (artifact.UploadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, key)
	return artifact.UploadResult{Bucket: "preview-artifacts", Key: key}, nil
}

func (f *fakeArtifacts) Stat(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.have[key] {
		return nil
	}
	return errors.New("NotFound")
}

func (f *fakeArtifacts) built() []artifact.BuildOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.builds)
}

// envs serves the environments: answer says what environment id answers to
// its n-th request (from 1).
type envs struct {
	mu     sync.Mutex
	counts map[string]int
	answer func(id string, n int) (status int, body string)
}

func (e *envs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(r.URL.Path, "/")
	e.mu.Lock()
	e.counts[id]++
	n, answer := e.counts[id], e.answer
	e.mu.Unlock()
	code, body := http.StatusNotFound, `{"message":"no environment"}`
	if answer != nil {
		code, body = answer(id, n)
	}
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

func (e *envs) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[id]
}

func (e *envs) set(answer func(id string, n int) (int, string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answer, e.counts = answer, map[string]int{}
}

type rig struct {
	ci        *CI
	git       *fakeGit
	contents  *fakeContents
	artifacts *fakeArtifacts
	envs      *envs
	url       func(id string) string
	progress  *bytes.Buffer
}

func newRig(t *testing.T, ready <-chan struct{}) *rig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "manager", service, "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{git: &fakeGit{template: tmpl}, contents: &fakeContents{}, artifacts: &fakeArtifacts{},
		envs: &envs{counts: map[string]int{}}, progress: &bytes.Buffer{}}
	srv := httptest.NewServer(r.envs)
	t.Cleanup(srv.Close)
	r.url = func(id string) string { return srv.URL + "/" + id + "/" }
	r.ci, err = New(ctx, Config{Owner: owner, Repo: repo, Service: service, Branch: "main", Arch: artifact.ArchAMD64,
		TTL: 48 * time.Hour, WaitTimeout: 2 * time.Second, TempDir: dir},
		Deps{Git: r.git, Contents: r.contents, Artifacts: r.artifacts, EnvironmentURL: r.url, HTTP: srv.Client(),
			DB: db, Ready: ready, Now: func() time.Time { return now }, Progress: r.progress})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pr(n int, head, headRef string) githost.PR {
	return githost.PR{Owner: owner, Repo: repo, Number: n, HeadRef: headRef, HeadSHA: head, BaseRef: "main", State: githost.StateOpen}
}

func prEvent(action string, p githost.PR, files ...string) githost.Event {
	return githost.Event{Type: githost.EventPullRequest, Owner: owner, Repo: repo,
		PullRequest: &githost.PullRequestEvent{Action: action, PR: p, Files: files}}
}

func (r *rig) preview(t *testing.T, n int) Preview {
	t.Helper()
	pv, err := r.ci.Preview(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return pv
}

func (r *rig) log(t *testing.T, n int) []string {
	t.Helper()
	lines, err := r.ci.Log(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		if !l.At.Equal(now) {
			t.Errorf("log line %q at %v, want the clock's %v", l.Line, l.At, now)
		}
		out = append(out, l.Line)
	}
	return out
}

func envPath(n int) string {
	e := envfile.Environment{Service: service, Owner: owner, Repo: repo, PR: n, ID: envfile.ID(owner, repo, n)}
	return "manager/" + service + "/environments/" + envfile.FileName(e)
}

// A PR that changes service/ and infra/: package builds and uploads the
// head, render writes a file naming the head and the PR's branch, stamped by
// the clock, and the preview is live only once the URL serves the head.
func TestPreviewBuildsRendersAndWaits(t *testing.T) {
	r := newRig(t, nil)
	p := pr(7, shaA, "feature/x")
	id := envfile.ID(owner, repo, 7)
	var states []string
	r.artifacts.hook = func(ctx context.Context, opts artifact.BuildOptions) error {
		if _, err := os.Stat(filepath.Join(opts.SourceDir, "go.mod")); err != nil {
			t.Errorf("build of %s: no service/ checked out: %v", opts.Version, err)
		}
		pv, _ := r.ci.Preview(ctx, 7)
		states = append(states, pv.State)
		return nil
	}
	applied := make(chan struct{})
	r.contents.hook = func(ctx context.Context, req updatefile.Request) error {
		pv, _ := r.ci.Preview(ctx, 7)
		states = append(states, pv.State)
		close(applied)
		return nil
	}
	// The old code answers until the file is written, then the head, after
	// a few more requests (the engine's deploy).
	r.envs.set(func(gotID string, n int) (int, string) {
		select {
		case <-applied:
			if gotID == id && n > 3 {
				return 200, shaA + ": Hello"
			}
		default:
		}
		return 200, "latest: Hello"
	})
	r.ci.Handle(context.Background(), prEvent(githost.ActionOpened, p, "service/main.go", "infra/main.tf", "docs/x.md"))
	r.ci.Wait()

	if b := r.artifacts.built(); len(b) != 1 || b[0].Version != shaA || b[0].Commit != shaA || b[0].Arch != artifact.ArchAMD64 {
		t.Errorf("builds %+v, want one of %s for amd64", b, shaA)
	}
	if !slices.Equal(r.artifacts.uploads, []string{shaA + ".zip"}) {
		t.Errorf("uploads %v, want %s.zip", r.artifacts.uploads, shaA)
	}
	reqs := r.contents.requests()
	if len(reqs) != 1 {
		t.Fatalf("contents requests %+v, want one", reqs)
	}
	req := reqs[0]
	if req.Owner != owner || req.Repo != repo || req.Branch != "main" || req.Path != envPath(7) || req.Delete {
		t.Errorf("request %+v, want a write of %s on main", req, envPath(7))
	}
	e, err := envfile.Parse(req.Path, req.Content)
	if err != nil {
		t.Fatalf("written file: %v\n%s", err, req.Content)
	}
	if e.ID != id || e.PR != 7 || e.CodeVersion != shaA || e.InfraBranch != "feature/x" ||
		!e.CreatedAt.Equal(now) || !e.ExpiresAt.Equal(now.Add(48*time.Hour)) {
		t.Errorf("written environment %+v, want %s at %s on feature/x, created %v, expiring 48h later", e, id, shaA, now)
	}
	if !slices.Equal(states, []string{PreviewBuilding, PreviewRendering}) {
		t.Errorf("states seen by build and render: %v", states)
	}
	pv := r.preview(t, 7)
	if pv.State != PreviewLive || pv.Version != shaA || pv.HeadSHA != shaA || pv.EnvironmentID != id || pv.URL != r.url(id) ||
		!pv.UpdatedAt.Equal(now) || !strings.Contains(pv.Comment, "is live at "+r.url(id)) {
		t.Errorf("preview %+v, want live at %s serving %s", pv, r.url(id), shaA)
	}
	if r.envs.count(id) < 4 {
		t.Errorf("the URL was asked %d times: live before it served the head", r.envs.count(id))
	}
	log := strings.Join(r.log(t, 7), "\n")
	for _, want := range []string{"preview: PR #7 at aaaaaaa: code_version aaaaaaa, infra branch feature/x",
		"package: s3://preview-artifacts/" + shaA + ".zip (", "render: environment " + id + " file created (commit ddddddd, 1 attempt(s))",
		"wait: " + r.url(id) + " serves aaaaaaa after "} {
		if !strings.Contains(log, want) {
			t.Errorf("CI log lacks %q:\n%s", want, log)
		}
	}
}

// A PR that changes neither service/ nor infra/ runs latest on the base
// branch without a build; a URL that never serves latest fails the wait.
func TestPreviewWaitFails(t *testing.T) {
	r := newRig(t, nil)
	r.envs.set(func(string, int) (int, string) { return 200, "0123456: Hello" })
	r.ci.Handle(context.Background(), prEvent(githost.ActionOpened, pr(3, shaB, "docs"), "docs/readme.md"))
	r.ci.Wait()
	if b := r.artifacts.built(); len(b) != 0 {
		t.Errorf("builds %+v for a PR that does not change service/", b)
	}
	reqs := r.contents.requests()
	if len(reqs) != 1 {
		t.Fatalf("contents requests %+v, want one", reqs)
	}
	if e, err := envfile.Parse(reqs[0].Path, reqs[0].Content); err != nil || e.CodeVersion != "latest" || e.InfraBranch != "main" {
		t.Errorf("written environment %+v (%v), want latest on main", e, err)
	}
	pv := r.preview(t, 3)
	if pv.State != PreviewFailed || pv.Version != "latest" || !strings.HasPrefix(pv.Comment, "Preview failed at wait: ") ||
		!strings.Contains(pv.Comment, "0123456: Hello") {
		t.Errorf("preview %+v, want failed at wait with the last response", pv)
	}
}

// A newer event for a PR cancels the job in progress (GitHub's
// cancel-in-progress), which logs why and leaves the state to the new job.
func TestNewerEventSupersedes(t *testing.T) {
	r := newRig(t, nil)
	building := make(chan struct{})
	var buildErr error
	r.artifacts.hook = func(ctx context.Context, opts artifact.BuildOptions) error {
		close(building)
		<-ctx.Done() // a build that takes longer than the next push
		buildErr = ctx.Err()
		return buildErr
	}
	var applies []string
	r.contents.hook = func(ctx context.Context, req updatefile.Request) error {
		e, _ := envfile.Parse(req.Path, req.Content)
		applies = append(applies, e.CodeVersion)
		return nil
	}
	r.envs.set(func(string, int) (int, string) { return 200, "latest: Hello" })
	ctx := context.Background()
	r.ci.Handle(ctx, prEvent(githost.ActionOpened, pr(5, shaA, "f"), "service/main.go"))
	<-building
	r.ci.Handle(ctx, prEvent(githost.ActionSynchronize, pr(5, shaB, "f"), "docs/x.md"))
	r.ci.Wait()

	if !errors.Is(buildErr, context.Canceled) {
		t.Errorf("the first job's build ended with %v, want canceled", buildErr)
	}
	if !slices.Equal(applies, []string{"latest"}) {
		t.Errorf("files written at %v, want only the newer event's (latest)", applies)
	}
	if pv := r.preview(t, 5); pv.State != PreviewLive || pv.HeadSHA != shaB || pv.Version != "latest" {
		t.Errorf("preview %+v, want live at %s", pv, shaB)
	}
	log := r.log(t, 5)
	if !slices.Contains(log, "package: canceled (a newer event for this PR took over)") {
		t.Errorf("CI log lacks the cancellation:\n%s", strings.Join(log, "\n"))
	}
	for _, l := range log {
		if strings.Contains(l, "package failed") {
			t.Errorf("a superseded build is logged as a failure: %q", l)
		}
	}
}

// A closed PR's file is deleted; the preview is destroyed once the URL
// answers 404, and failed when removing the file fails.
func TestDestroy(t *testing.T) {
	r := newRig(t, nil)
	r.envs.set(func(_ string, n int) (int, string) {
		if n < 3 {
			return 200, "latest: Hello"
		}
		return 404, `{"message":"no environment"}`
	})
	closed := pr(9, shaA, "f")
	closed.State = githost.StateClosed
	r.ci.Handle(context.Background(), prEvent(githost.ActionClosed, closed))
	r.ci.Wait()
	reqs := r.contents.requests()
	if len(reqs) != 1 || !reqs[0].Delete || reqs[0].Path != envPath(9) || reqs[0].Branch != "main" {
		t.Fatalf("contents requests %+v, want a delete of %s on main", reqs, envPath(9))
	}
	id := envfile.ID(owner, repo, 9)
	if pv := r.preview(t, 9); pv.State != PreviewDestroyed || r.envs.count(id) != 3 {
		t.Errorf("preview %+v after %d requests, want destroyed at the first 404 (3rd request)", pv, r.envs.count(id))
	}

	r = newRig(t, nil)
	r.contents.hook = func(context.Context, updatefile.Request) error { return updatefile.ErrForbidden }
	r.ci.Handle(context.Background(), prEvent(githost.ActionClosed, closed))
	r.ci.Wait()
	if pv := r.preview(t, 9); pv.State != PreviewFailed || !strings.Contains(pv.Comment, "Removing the environment file failed: no permission") {
		t.Errorf("preview %+v, want failed naming the contents API's refusal", pv)
	}
}

// Events of other repositories, pushes to other branches and pushes that
// do not touch service/ start nothing; a push to main that does rebuilds
// latest.zip at its commit.
func TestHandleRoutesEvents(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	push := func(repo, branch string, files ...string) githost.Event {
		return githost.Event{Type: githost.EventPush, Owner: owner, Repo: repo,
			Push: &githost.PushEvent{Branch: branch, After: shaB, Files: files}}
	}
	other := prEvent(githost.ActionOpened, pr(1, shaA, "f"), "service/main.go")
	other.Repo = "elsewhere"
	r.ci.Handle(ctx, other)
	r.ci.Handle(ctx, push("elsewhere", "main", "service/main.go"))
	r.ci.Handle(ctx, push(repo, "feature", "service/main.go"))
	r.ci.Handle(ctx, push(repo, "main", "docs/x.md", "manager/x.tf"))
	r.ci.Handle(ctx, push(repo, "main", "docs/x.md", "service/go.mod"))
	r.ci.Wait()
	if b := r.artifacts.built(); len(b) != 1 || b[0].Version != "latest" || b[0].Commit != shaB {
		t.Errorf("builds %+v, want one of latest at %s", b, shaB)
	}
	if !slices.Equal(r.artifacts.uploads, []string{"latest.zip"}) {
		t.Errorf("uploads %v, want latest.zip", r.artifacts.uploads)
	}
	if reqs := r.contents.requests(); len(reqs) != 0 {
		t.Errorf("contents requests %+v for another repository's PR", reqs)
	}
}

// Jobs wait for Ready; a job whose context ends first does nothing.
func TestJobsWaitForReady(t *testing.T) {
	// Never ready: a job of a canceled context returns, so Wait does.
	r := newRig(t, make(chan struct{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.ci.Handle(ctx, prEvent(githost.ActionOpened, pr(4, shaA, "g"), "docs/x.md"))
	waited := make(chan struct{})
	go func() { r.ci.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still waits for a canceled job that was never ready")
	}
	if _, err := r.ci.Preview(context.Background(), 4); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("PR #4, canceled before Ready: preview error %v, want not found", err)
	}

	ready := make(chan struct{})
	r = newRig(t, ready)
	r.envs.set(func(string, int) (int, string) { return 200, "latest: Hello" })
	r.ci.Handle(context.Background(), prEvent(githost.ActionOpened, pr(2, shaA, "f"), "docs/x.md"))
	time.Sleep(100 * time.Millisecond)
	if reqs := r.contents.requests(); len(reqs) != 0 {
		t.Fatalf("a job ran before Ready: %+v", reqs)
	}
	close(ready)
	r.ci.Wait()
	if reqs := r.contents.requests(); len(reqs) != 1 || reqs[0].Path != envPath(2) {
		t.Errorf("contents requests %+v, want PR #2's file", reqs)
	}
	if pv := r.preview(t, 2); pv.State != PreviewLive {
		t.Errorf("PR #2: preview %+v, want live", pv)
	}
}

// Reconcile previews the open PRs not live at their head and destroys the
// closed ones not destroyed; it leaves the rest alone.
func TestReconcile(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	open1, open2, open3 := pr(1, shaA, "a"), pr(2, shaA, "b"), pr(3, shaB, "c")
	closed4, closed5 := pr(4, shaA, "d"), pr(5, shaA, "e")
	closed4.State, closed5.State = githost.StateClosed, githost.StateClosed
	r.git.prs = []githost.PR{open1, open2, open3, closed4, closed5}
	r.git.changed = map[string][]string{shaA: {"docs/a.md"}, shaB: {"docs/b.md"}}
	// #2 is live at its head, #3 live at an older head, #4 live but closed,
	// #5 closed and destroyed; #1 has no record.
	r.ci.setPreview(ctx, open2, "x", PreviewLive, "latest", "u", "")
	old3 := open3
	old3.HeadSHA = shaA
	r.ci.setPreview(ctx, old3, "x", PreviewLive, "latest", "u", "")
	r.ci.setPreview(ctx, closed4, "x", PreviewLive, "latest", "u", "")
	r.ci.setPreview(ctx, closed5, "x", PreviewDestroyed, "", "u", "")
	r.envs.set(func(id string, _ int) (int, string) {
		if id == envfile.ID(owner, repo, 4) {
			return 404, "{}"
		}
		return 200, "latest: Hello"
	})
	if err := r.ci.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	r.ci.Wait()
	var got []string
	for _, req := range r.contents.requests() {
		got = append(got, fmt.Sprintf("%s delete=%t", req.Path, req.Delete))
	}
	slices.Sort(got)
	want := []string{envPath(1) + " delete=false", envPath(3) + " delete=false", envPath(4) + " delete=true"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("contents requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for n, st := range map[int]string{1: PreviewLive, 2: PreviewLive, 3: PreviewLive, 4: PreviewDestroyed, 5: PreviewDestroyed} {
		if pv := r.preview(t, n); pv.State != st {
			t.Errorf("PR #%d: preview %s, want %s", n, pv.State, st)
		}
	}
	if pv := r.preview(t, 3); pv.HeadSHA != shaB {
		t.Errorf("PR #3 previewed at %s, want its head %s", pv.HeadSHA, shaB)
	}
}

// EnsureLatest builds latest.zip from main's head only when the bucket
// has none.
func TestEnsureLatest(t *testing.T) {
	r := newRig(t, nil)
	r.artifacts.have = map[string]bool{"latest.zip": true}
	if err := r.ci.EnsureLatest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := r.artifacts.built(); len(b) != 0 {
		t.Fatalf("built %+v though latest.zip is there", b)
	}
	r.artifacts.have = nil
	if err := r.ci.EnsureLatest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := r.artifacts.built(); len(b) != 1 || b[0].Version != "latest" || b[0].Commit != shaMain {
		t.Errorf("builds %+v, want latest at main's head %s", b, shaMain)
	}
	if !slices.Contains(r.git.exports, shaMain+" service") {
		t.Errorf("exports %v, want service/ at %s", r.git.exports, shaMain)
	}
	if p := r.progress.String(); !strings.Contains(p, "sandbox: building latest.zip from main at ccccccc (first start only)...") ||
		!strings.Contains(p, "sandbox: built latest.zip from main at ccccccc (") {
		t.Errorf("progress:\n%s", p)
	}
}

func TestMonorepoRule(t *testing.T) {
	for _, tc := range []struct {
		files        []string
		code, branch string
	}{
		{nil, "latest", "main"},
		{[]string{"docs/service/x.md"}, "latest", "main"},
		{[]string{"service/main.go"}, shaA, "main"},
		{[]string{"infra/main.tf"}, "latest", "head"},
		{[]string{"infra/main.tf", "service/go.mod"}, shaA, "head"},
	} {
		code, branch := MonorepoRule(tc.files, shaA, "head", "main")
		if code != tc.code || branch != tc.branch {
			t.Errorf("MonorepoRule(%v) = %s, %s; want %s, %s", tc.files, code, branch, tc.code, tc.branch)
		}
	}
}
