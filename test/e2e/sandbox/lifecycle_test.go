package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/test/e2e"
)

// start opens a platform for one test and shuts it down when the test ends,
// failed or not (after the scenario's own cleanup has closed its PR).
func start(t *testing.T, change ChangeFunc) *Backend {
	t.Helper()
	progress := &testLog{t: t}
	began := time.Now()
	b, err := Open(context.Background(), Config{DataDir: t.TempDir(), Change: change, Progress: progress})
	if errors.Is(err, ErrNoRIE) {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("start the sandbox: %v", err)
	}
	t.Logf("sandbox ready at %s in %s", b.Platform().SB.URL(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		progress.stop()
		if err := b.Shutdown(); err != nil {
			t.Errorf("shut the sandbox down: %v", err)
		}
	})
	return b
}

// testLog sends the platform's start-up lines to the test log until the
// test is over (t.Log after that panics).
type testLog struct {
	t       *testing.T
	mu      sync.Mutex
	stopped bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) stop() { l.mu.Lock(); l.stopped = true; l.mu.Unlock() }

// probe records what the backend says while the environment is live (just
// before the scenario pushes), so the test can check that Gone and
// Diagnostics see a live environment, not only a destroyed one.
type probe struct {
	*Backend
	t        testing.TB
	pr       e2e.PR // as the scenario passed it to Push
	liveGone error
	liveDiag string
}

// ciSettles bounds how long the CI's own status may lag what the scenario
// saw: its wait step polls the URL every 50 ms and then writes the status,
// so on a loaded machine a few seconds at most.
const ciSettles = 30 * time.Second

// waitPreview waits until the CI's status of PR n is state.
func waitPreview(ctx context.Context, t testing.TB, b *Backend, n int, state string) {
	t.Helper()
	err := e2e.WaitUntil(ctx, t, "preview "+state, ciSettles, e2e.SandboxBudget.Poll, func() error {
		pv, err := b.Platform().Preview(ctx, n)
		if err != nil {
			return err
		}
		if pv.State != state {
			return fmt.Errorf("preview of PR #%d is %s: %s", n, pv.State, pv.Comment)
		}
		return nil
	})
	if err != nil {
		t.Errorf("the scenario saw the URL change but the CI status did not follow: %v", err)
	}
}

func (p *probe) Push(ctx context.Context, pr e2e.PR, change e2e.ServiceChange) (string, error) {
	p.pr = pr
	waitPreview(ctx, p.t, p.Backend, pr.Number, platform.PreviewLive)
	p.liveGone = p.Backend.Gone(ctx, pr)
	p.liveDiag = p.Backend.Diagnostics(ctx, pr)
	return p.Backend.Push(ctx, pr, change)
}

// scenarioTimeout bounds a whole lifecycle: the sum of its waits plus a
// minute for the git and API calls between them.
func scenarioTimeout(b e2e.Budget) time.Duration {
	return b.Deploy + b.Redeploy + 2*b.Destroy + time.Minute
}

// TestLifecycleSandbox is the scenario on the embedded sandbox: the real
// CI steps, policies, environment files and infra/ HCL; the emulator runs
// the real bootstrap.
func TestLifecycleSandbox(t *testing.T) {
	b := start(t, nil)
	budget := e2e.SandboxBudget
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout(budget))
	defer cancel()
	ctx, stop := b.FailFast(ctx, budget.Poll)
	defer stop()

	// Bad input never reaches git: no PR, no branch.
	if _, err := b.OpenPR(ctx, e2e.ServiceChange{Marker: "../x"}); err == nil || !strings.Contains(err.Error(), `"../x"`) {
		t.Fatalf("OpenPR with marker ../x: %v, want an error naming the marker", err)
	}
	if prs, err := b.Platform().PRs(ctx); err != nil || len(prs) != 0 {
		t.Fatalf("after a refused OpenPR the sandbox has PRs %v (%v), want none", prs, err)
	}

	p := &probe{Backend: b, t: t}
	e2e.Run(ctx, t, p, budget)

	// While live, Gone named all three things that make an environment.
	pr := p.pr
	if pr.EnvironmentID != envfile.ID(pr.Owner, pr.Repo, pr.Number) {
		t.Errorf("PR %+v: environment ID is not the one envfile derives", pr)
	}
	if p.liveGone == nil {
		t.Fatal("Gone returned nil while the environment was live")
	}
	for _, want := range []string{"spacelift stack " + b.StackID(pr.EnvironmentID), "data plane still has environment", "gateway still answers 200"} {
		if !strings.Contains(p.liveGone.Error(), want) {
			t.Errorf("Gone while live = %q, want it to name %q", p.liveGone, want)
		}
	}
	for _, want := range []string{"preview: live", "CI log of PR #" + strconv.Itoa(pr.Number), "wait: ", "spacelift stack " + b.StackID(pr.EnvironmentID) + ": state",
		"FINISHED", "data plane: environment " + pr.EnvironmentID, "policy evaluations"} {
		if !strings.Contains(p.liveDiag, want) {
			t.Errorf("Diagnostics while live does not contain %q:\n%s", want, p.liveDiag)
		}
	}
	// Close deleted the branch over git smart HTTP, and is idempotent.
	heads, err := b.Platform().Git.Branches(ctx, pr.Owner, pr.Repo)
	if err != nil {
		t.Fatal(err)
	}
	if sha, ok := heads[pr.Branch]; ok {
		t.Errorf("branch %s still exists at %s after Close", pr.Branch, sha)
	}
	if _, ok := heads[platform.DefaultBranch]; !ok {
		t.Errorf("branch %s is gone too: %v", platform.DefaultBranch, heads)
	}
	if err := b.Close(ctx, pr); err != nil {
		t.Errorf("second Close: %v, want nil (idempotent)", err)
	}
	// A healthy lifecycle, branch deletion included, is nothing to warn about.
	if w := b.logs.lines(); len(w) > 0 {
		t.Errorf("the platform logged %d warning(s) during a healthy lifecycle:\n%s", len(w), strings.Join(w, "\n"))
	}
	// And after the scenario, the preview says so too.
	waitPreview(ctx, t, b, pr.Number, platform.PreviewDestroyed)
}

// failRecorder turns Fatal into a recorded failure, so a test can assert
// that the scenario fails, and why, without failing itself.
type failRecorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *failRecorder) record(s string) { r.mu.Lock(); r.failed = append(r.failed, s); r.mu.Unlock() }
func (r *failRecorder) Fatalf(f string, a ...any) {
	r.record(fmt.Sprintf(f, a...))
	runtime.Goexit()
}
func (r *failRecorder) Fatal(a ...any)            { r.record(fmt.Sprint(a...)); runtime.Goexit() }
func (r *failRecorder) Errorf(f string, a ...any) { r.record(fmt.Sprintf(f, a...)) }
func (r *failRecorder) Error(a ...any)            { r.record(fmt.Sprint(a...)) }
func (r *failRecorder) FailNow()                  { r.record("FailNow"); runtime.Goexit() }
func (r *failRecorder) Fail()                     { r.record("Fail") }

func (r *failRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failed, "\n")
}

// brokenBuildFile is a file in the handler package, which bootstrap
// imports, that does not parse.
func brokenBuildFile(key string) string { return "service/handler/e2e_" + key + ".go" }

// breakBuildOn commits a file that breaks the build of service/ for the
// markers that have suffix, and the harmless marker file for the others.
func breakBuildOn(suffix string) ChangeFunc {
	return func(key, marker string) map[string][]byte {
		if !strings.HasSuffix(marker, suffix) {
			return MarkerFile(key, marker)
		}
		return map[string][]byte{brokenBuildFile(key): []byte("package handler\n\n// " + marker + "\nfunc broken( {\n")}
	}
}

// TestScenarioFailureDiagnostics runs the scenario where the service change
// breaks the build, and checks that the failure a person reads names the
// step (package), the compiler's complaint and the file.
func TestScenarioFailureDiagnostics(t *testing.T) {
	// Short budgets: a parse error fails `go build` in seconds, and
	// FailFast stops the wait as soon as the CI marks the preview failed;
	// the budget only bounds a platform that never reports.
	budget := e2e.Budget{Deploy: 45 * time.Second, Redeploy: 45 * time.Second, Destroy: 20 * time.Second,
		Poll: e2e.SandboxBudget.Poll, CleanupTimeout: e2e.SandboxBudget.CleanupTimeout}
	tests := []struct {
		name    string
		breakOn string // marker suffix whose commit breaks the build
		want    []string
	}{
		{"open breaks the build", "-1", []string{"opened at", "wait until", "serves it", "stopped early",
			"package failed", "syntax error", "e2e_", "preview: failed", "spacelift stack hello-service-"}},
		{"push breaks the build", "-2", []string{"pushed", "wait until", "serves it", "stopped early",
			"package failed", "syntax error", "last HTTP response", "200 OK", "preview: failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := start(t, breakBuildOn(tt.breakOn))
			ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout(budget))
			defer cancel()
			ctx, stop := b.FailFast(ctx, budget.Poll)
			defer stop()
			rec := &failRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				e2e.Run(ctx, rec, b, budget)
			}()
			<-done
			got := rec.text()
			if got == "" {
				t.Fatal("the scenario passed although the service change breaks the build")
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("failure output does not contain %q:\n%s", w, got)
				}
			}
			if t.Failed() {
				return
			}
			t.Logf("failure output, as a person reads it:\n%s", got)
		})
	}
}

func TestValidMarker(t *testing.T) {
	tests := []struct {
		marker string
		ok     bool
	}{
		{"aB3xYz-1", true},
		{"a", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-x", false},
		{"../x", false},
		{"a/b", false},
		{"a b", false},
		{"a.txt", false},
		{"a\n", false},
		{"é", false},
	}
	for _, tt := range tests {
		err := ValidMarker(tt.marker)
		if (err == nil) != tt.ok {
			t.Errorf("ValidMarker(%q) = %v, want ok %v", tt.marker, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.marker)) {
			t.Errorf("ValidMarker(%q) error %q does not name the marker", tt.marker, err)
		}
	}
}

// phases times the scenario's steps from the backend calls that bound
// them: OpenPR returns -> Push is called (deploy), Push returns -> Close is
// called (redeploy), Close is called -> the scenario returns (destroy).
type phases struct {
	*Backend
	opened, pushing, pushed, closing time.Time
}

func (p *phases) OpenPR(ctx context.Context, c e2e.ServiceChange) (e2e.PR, error) {
	pr, err := p.Backend.OpenPR(ctx, c)
	p.opened = time.Now()
	return pr, err
}

func (p *phases) Push(ctx context.Context, pr e2e.PR, c e2e.ServiceChange) (string, error) {
	p.pushing = time.Now()
	sha, err := p.Backend.Push(ctx, pr, c)
	p.pushed = time.Now()
	return sha, err
}

func (p *phases) Close(ctx context.Context, pr e2e.PR) error {
	if p.closing.IsZero() {
		p.closing = time.Now()
	}
	return p.Backend.Close(ctx, pr)
}

// BenchmarkLifecycleSandbox runs the whole scenario b.N times on one
// platform (each run is a new PR) and reports how long each phase takes
// as the scenario sees it, polling at SandboxBudget.Poll.
func BenchmarkLifecycleSandbox(b *testing.B) {
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		b.Fatal(ErrNoRIE)
	}
	be, err := Open(context.Background(), Config{DataDir: b.TempDir(), RIEPath: rie})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Shutdown() })
	budget := e2e.SandboxBudget
	var deploy, redeploy, destroy time.Duration
	b.ResetTimer()
	for range b.N {
		p := &phases{Backend: be}
		ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout(budget))
		e2e.Run(ctx, b, p, budget)
		end := time.Now()
		cancel()
		deploy += p.pushing.Sub(p.opened)
		redeploy += p.closing.Sub(p.pushed)
		destroy += end.Sub(p.closing)
	}
	n := float64(b.N)
	b.ReportMetric(float64(deploy.Milliseconds())/n, "ms-deploy/op")
	b.ReportMetric(float64(redeploy.Milliseconds())/n, "ms-redeploy/op")
	b.ReportMetric(float64(destroy.Milliseconds())/n, "ms-destroy/op")
}
