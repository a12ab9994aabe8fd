package platform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/pkg/managerdir"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// open starts a whole platform on a free loopback port with the real
// monorepo imported, the real emulator and real builds.
func open(t testing.TB, dataDir string, opts ...func(*Config)) (*Platform, context.CancelFunc) {
	t.Helper()
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		t.Fatal("aws-lambda-rie not on PATH: run make tools (make test puts bin/ on PATH)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{
		Sandbox:     sandbox.Config{Addr: "127.0.0.1:0", DataDir: dataDir, RIEPath: rie},
		RepoRoot:    repoRoot(t),
		WaitTimeout: 90 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("open platform: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	stop := func() {
		cancel()
		<-done
		p.Close()
	}
	return p, stop
}

func waitPreview(t testing.TB, p *Platform, number int, state, headSHA string) Preview {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute) // includes a first build on a cold cache
	var last Preview
	for time.Now().Before(deadline) {
		pv, err := p.Preview(context.Background(), number)
		if err == nil {
			last = pv
			if pv.State == state && (headSHA == "" || pv.HeadSHA == headSHA) {
				return pv
			}
			if pv.State == PreviewFailed && pv.HeadSHA == headSHA {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := p.CILog(context.Background(), number)
	var lines []string
	for _, l := range log {
		lines = append(lines, l.Line)
	}
	runs, _ := p.Engine.Runs(context.Background(), "", 20)
	var rl []string
	for _, r := range runs {
		logs, _ := p.Engine.Logs(context.Background(), r.ID)
		rl = append(rl, r.ID+" "+r.StackID+" "+r.State+" "+r.Cause)
		for _, l := range logs {
			rl = append(rl, "    "+l.Line)
		}
	}
	t.Fatalf("PR #%d preview is %+v, want %s at %s\nCI log:\n%s\nruns:\n%s", number, last, state, headSHA,
		strings.Join(lines, "\n"), strings.Join(rl, "\n"))
	return last
}

func get(t testing.TB, p *Platform, url string) (int, string) {
	t.Helper()
	resp, err := LocalhostClient(p.SB.Addr()).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func handlerWith(t testing.TB, greeting string) map[string][]byte {
	t.Helper()
	path := "service/handler/handler.go"
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `DefaultGreeting = "Hello world"`) {
		t.Fatalf("%s no longer holds the greeting this test edits", path)
	}
	return map[string][]byte{path: []byte(strings.ReplaceAll(string(b), `DefaultGreeting = "Hello world"`, `DefaultGreeting = "`+greeting+`"`))}
}

// TestPullRequestLifecycle is the production flow on the sandbox: a PR that
// changes the service gets a live URL serving its head; a push redeploys it
// through the trigger policy; closing it destroys the environment.
//
// One-stack environments (SingleStack): the function answers with the
// code's own greeting, so the PR's edit shows at the URL. Two-stack
// environments, whose greeting comes from the data stack, are the demo's,
// the dashboard's and test/e2e/sandbox's.
func TestPullRequestLifecycle(t *testing.T) {
	p, stop := open(t, t.TempDir(), func(c *Config) { c.SingleStack = true })
	defer stop()
	ctx := context.Background()

	pr, err := p.OpenPR(ctx, "feature/greeting", "Greet the sandbox", handlerWith(t, "Hello sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	pv := waitPreview(t, p, pr.Number, PreviewLive, pr.HeadSHA)
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	if pv.EnvironmentID != id || pv.Version != pr.HeadSHA {
		t.Fatalf("preview %+v, want environment %s at %s", pv, id, pr.HeadSHA)
	}
	code, body := get(t, p, pv.URL+"hello")
	if code != 200 || body != pr.HeadSHA+": Hello sandbox" {
		t.Fatalf("GET %shello = %d %q", pv.URL, code, body)
	}

	pr2, err := p.PushPR(ctx, pr.Number, "Greet louder", handlerWith(t, "Hello SANDBOX"))
	if err != nil {
		t.Fatal(err)
	}
	if pr2.HeadSHA == pr.HeadSHA {
		t.Fatal("push did not move the PR head")
	}
	pv = waitPreview(t, p, pr.Number, PreviewLive, pr2.HeadSHA)
	if code, body := get(t, p, pv.URL); code != 200 || body != pr2.HeadSHA+": Hello SANDBOX" {
		t.Fatalf("after push GET %s = %d %q", pv.URL, code, body)
	}
	// The redeploy came from the trigger policy, after the manager applied
	// the new code_version.
	runs, err := p.Engine.Runs(ctx, "hello-service-"+id, 1)
	if err != nil || len(runs) != 1 || !strings.HasPrefix(runs[0].Cause, "trigger policy") {
		t.Fatalf("last environment run %+v (%v), want one caused by the trigger policy", runs, err)
	}

	if _, err := p.ClosePR(ctx, pr.Number); err != nil {
		t.Fatal(err)
	}
	waitPreview(t, p, pr.Number, PreviewDestroyed, "")
	if code, _ := get(t, p, pv.URL); code != http.StatusNotFound {
		t.Fatalf("after close GET %s = %d, want 404", pv.URL, code)
	}
	// The URL stops answering when the destroy run removes the routes; the
	// stack goes a moment later, once that run has finished.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := p.Engine.Stack(ctx, "hello-service-"+id)
		if errors.Is(err, spacelift.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("environment stack still exists 30s after close: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A second PR from a branch that already has an open one is refused
	// before anything is committed.
	pr3, err := p.OpenPR(ctx, "feature/again", "Again", handlerWith(t, "Hello again"))
	if err != nil {
		t.Fatal(err)
	}
	before, err := p.Git.Head(ctx, pr3.Owner, pr3.Repo, "feature/again")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.OpenPR(ctx, "feature/again", "Again", handlerWith(t, "Hello twice")); !errors.Is(err, githost.ErrExists) {
		t.Fatalf("second OpenPR on an open PR's branch: %v, want ErrExists", err)
	}
	if after, _ := p.Git.Head(ctx, pr3.Owner, pr3.Repo, "feature/again"); after != before {
		t.Fatalf("the refused OpenPR still committed: head %s -> %s", before, after)
	}
}
