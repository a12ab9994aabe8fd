package platform

// Reliability tests of issue 8 against the whole platform: real git, the
// real policies, the real emulator running real builds. The crash test runs
// the platform in a child process (this test binary re-executed with
// PLATFORM_CHILD=1) so that it can be killed with SIGKILL like a real
// sandbox, and drives it over its HTTP API only.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"preview-environments/previewctl/internal/proctable"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// The child platform's configuration travels in the environment, so the
// child's command line is the plain test binary.
const (
	childEnv     = "PLATFORM_CHILD"
	childAddrEnv = "PLATFORM_CHILD_ADDR"
	childDataEnv = "PLATFORM_CHILD_DATA"
	childRepoEnv = "PLATFORM_CHILD_REPO"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild is the whole platform as a process: it serves until SIGTERM (a
// clean stop) or SIGKILL (the crash under test).
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: aws-lambda-rie not on PATH: run make tools")
		return 2
	}
	p, err := Open(ctx, Config{
		Sandbox:     sandbox.Config{Addr: os.Getenv(childAddrEnv), DataDir: os.Getenv(childDataEnv), RIEPath: rie},
		RepoRoot:    os.Getenv(childRepoEnv),
		WaitTimeout: 90 * time.Second,
		Progress:    os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open platform:", err)
		return 1
	}
	serveErr := p.Serve(ctx)
	closeErr := p.Close()
	if err := errors.Join(serveErr, closeErr); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// child is a platform process the test started, and an HTTP client for it.
type child struct {
	t       *testing.T
	addr    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	http    *http.Client
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startChild runs the platform on addr and dataDir and waits until its API
// answers. Restarting on the same addr keeps environment URLs stable.
func startChild(t *testing.T, addr, dataDir string, n int) *child {
	t.Helper()
	if _, err := exec.LookPath("aws-lambda-rie"); err != nil {
		t.Fatal("aws-lambda-rie not on PATH: run make tools (make test puts bin/ on PATH)")
	}
	logPath := filepath.Join(dataDir, fmt.Sprintf("child-%d.log", n))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childAddrEnv+"="+addr, childDataEnv+"="+dataDir, childRepoEnv+"="+repoRoot(t))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start platform child: %v", err)
	}
	c := &child{t: t, addr: addr, cmd: cmd, logPath: logPath, exited: make(chan struct{}), http: LocalhostClient(addr)}
	go func() { cmd.Wait(); logf.Close(); close(c.exited) }()
	// Registered after the data dir's TempDir, so it runs before the
	// directory is removed.
	t.Cleanup(c.stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-c.exited:
			t.Fatalf("platform child exited during start-up:\n%s", c.log())
		default:
		}
		if resp, err := c.http.Get("http://" + addr + "/api/prs"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("platform child did not answer on %s:\n%s", addr, c.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *child) log() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// kill is the crash: SIGKILL, no chance to clean up.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Fatalf("kill -9 platform child %d: %v", c.pid(), err)
	}
	<-c.exited
}

// stop ends the child cleanly (SIGTERM), or kills it when it hangs.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.exited
	}
}

// call sends a JSON request to the child's API and decodes the answer.
func (c *child) call(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+c.addr+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		c.t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func (c *child) get(url string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(url)
	if err != nil {
		c.t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *child) openPR(branch string, files map[string]string) githost.PR {
	c.t.Helper()
	var pr githost.PR
	c.call(http.MethodPost, "/api/prs", map[string]any{"branch": branch, "title": "Change " + branch, "files": files}, &pr)
	return pr
}

func (c *child) closePR(n int) {
	c.t.Helper()
	var pr githost.PR
	c.call(http.MethodPost, "/api/prs/"+strconv.Itoa(n)+"/close", struct{}{}, &pr)
}

func (c *child) managerRuns() []spacelift.Run {
	c.t.Helper()
	var runs []spacelift.Run
	c.call(http.MethodGet, "/api/spacelift/stacks/"+ManagerStackID+"/runs?limit=20", nil, &runs)
	return runs
}

// converged reports whether every open PR's preview serves its head and
// every closed PR's preview is destroyed, with a reason when not.
// runList is the latest runs, one line each, for failure messages.
func (c *child) runList(n int) string {
	var runs []spacelift.Run
	c.call(http.MethodGet, "/api/spacelift/runs?limit="+strconv.Itoa(n), nil, &runs)
	var rl []string
	for _, r := range runs {
		rl = append(rl, r.ID+" "+r.StackID+" "+r.Type+" "+r.State+" at "+short(r.Commit)+": "+r.Cause)
	}
	return strings.Join(rl, "\n")
}

func (c *child) converged() (bool, string) {
	var prs []PRView
	c.call(http.MethodGet, "/api/prs", nil, &prs)
	for _, pr := range prs {
		switch {
		case pr.Preview == nil:
			return false, fmt.Sprintf("PR #%d has no preview", pr.Number)
		case pr.State == githost.StateOpen && (pr.Preview.State != PreviewLive || pr.Preview.HeadSHA != pr.HeadSHA):
			return false, fmt.Sprintf("open PR #%d: preview %s at %s, head %s", pr.Number, pr.Preview.State, pr.Preview.HeadSHA, pr.HeadSHA)
		case pr.State == githost.StateClosed && pr.Preview.State != PreviewDestroyed:
			return false, fmt.Sprintf("closed PR #%d: preview %s", pr.Number, pr.Preview.State)
		}
	}
	return true, ""
}

// proc is a process of the process table that belongs to a sandbox.
type proc = proctable.Process

// sandboxProcs lists the live processes of the sandbox at dir: emulators
// and bootstraps of its functions, its runs' tofu and providers.
func sandboxProcs(t testing.TB, dir string) []proc {
	t.Helper()
	all, err := proctable.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, p := range all {
		if p.OfSandbox(dir) {
			out = append(out, p)
		}
	}
	return out
}

// orphans are sandbox processes that the running platform (pid) did not
// start: anything of dir's sandbox (emulator, bootstrap, tofu, provider)
// that does not descend from it.
func orphans(t testing.TB, dir string, platformPID int) []proc {
	t.Helper()
	out, err := proctable.Orphans(dir, platformPID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func docsPR(name string) map[string]string {
	return map[string]string{"docs/reliability/" + name + ".md": "# " + name + "\n"}
}

// TestKillDuringManagerRun kills the platform process with SIGKILL while
// the manager stack's run is planning or applying, restarts it on the same
// data directory, and checks that it converges: every open PR serves its
// head, every closed PR's environment is gone, no emulator of the dead
// process survives, and the interrupted run is failed and resumed.
func TestKillDuringManagerRun(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeLoopbackAddr(t)
	c := startChild(t, addr, dataDir, 0)

	greeting := string(handlerWith(t, "Hello crash")["service/handler/handler.go"])
	pr1 := c.openPR("reliability/service", map[string]string{"service/handler/handler.go": greeting})
	pr2 := c.openPR("reliability/docs-0", docsPR("docs-0"))
	waitChildConverged(t, c, 2*time.Minute)
	// Emulators exist before the crash, so the orphan check below can fail.
	for _, n := range []int{pr1.Number, pr2.Number} {
		url := sandbox.EnvironmentURL(addr, envfile.ID(pr1.Owner, pr1.Repo, n), DefaultService)
		if code, body := c.get(url); code != http.StatusOK {
			t.Fatalf("PR #%d before the crash: GET %s = %d %q", n, url, code, body)
		}
	}
	if n := len(sandboxProcs(t, dataDir)); n == 0 {
		t.Fatal("no emulator runs before the crash: the orphan check would prove nothing")
	}

	// Each round gives the manager more to do (two environments to create,
	// one to destroy through its destructor) and watches its runs closely;
	// a round that only sees the manager idle, or whose kill lands after
	// the run ended, is followed by another on the restarted platform.
	docs := []int{pr2.Number}
	opened, closed := 2, 0
	var interrupted string
	for round := 1; round <= 4 && interrupted == ""; round++ {
		seen := map[string]bool{}
		for _, r := range c.managerRuns() {
			seen[r.ID] = true
		}
		a := c.openPR(fmt.Sprintf("reliability/docs-%d-a", round), docsPR(fmt.Sprintf("docs-%d-a", round)))
		b := c.openPR(fmt.Sprintf("reliability/docs-%d-b", round), docsPR(fmt.Sprintf("docs-%d-b", round)))
		c.closePR(docs[0])
		docs = append(docs[1:], a.Number, b.Number)
		opened, closed = opened+2, closed+1

		caught := catchManagerRun(t, c, seen, 30*time.Second)
		if caught == "" {
			t.Logf("round %d: no manager run seen planning or applying", round)
			waitChildConverged(t, c, 2*time.Minute)
			continue
		}
		c.kill()
		t.Logf("round %d: killed the platform (pid %d) during manager run %s", round, c.pid(), caught)
		c = startChild(t, addr, dataDir, round)
		if o := orphans(t, dataDir, c.pid()); len(o) > 0 {
			t.Fatalf("after the restart, processes of the killed platform survive: %+v", o)
		}
		var r spacelift.Run
		c.call(http.MethodGet, "/api/spacelift/runs/"+caught, nil, &r)
		if r.State == spacelift.StateFailed {
			interrupted = caught
		} else {
			t.Logf("round %d: run %s ended %s before the kill landed; again", round, caught, r.State)
		}
	}
	if interrupted == "" {
		t.Fatal("never killed the platform during a manager run in 4 rounds")
	}

	waitChildConverged(t, c, 2*time.Minute)
	// A closed PR's preview says destroyed once its URL answers 404; the
	// manager run deleting its stack ends a little later.
	waitChildIdle(t, c, time.Minute)
	var logs []spacelift.LogLine
	c.call(http.MethodGet, "/api/spacelift/runs/"+interrupted+"/logs", nil, &logs)
	if !slices.ContainsFunc(logs, func(l spacelift.LogLine) bool { return strings.HasPrefix(l.Line, "interrupted: ") }) {
		t.Fatalf("interrupted run %s has no \"interrupted\" log line: %+v", interrupted, logs)
	}
	// The interrupted run is either resumed (at the branch head) or, when a
	// newer tracked run of the manager was queued behind it, superseded by
	// that run: never re-run at its own, older commit after newer ones.
	var successor string
	for _, l := range logs {
		if id, ok := strings.CutPrefix(l.Line, "interrupted: superseded by "); ok {
			successor, _, _ = strings.Cut(id, ",")
		}
	}
	var resumed *spacelift.Run
	for _, r := range c.managerRuns() {
		if strings.Contains(r.Cause, "resumed after restart: "+interrupted+" ") || r.ID == successor {
			resumed = &r
		}
	}
	if resumed == nil || resumed.State != spacelift.StateFinished {
		t.Fatalf("no finished run resumes or supersedes %s: %+v", interrupted, c.managerRuns())
	}

	// Nothing lost: the stacks, the data plane and the environment files
	// are exactly those of the open PRs, and each serves its version.
	var prs []PRView
	c.call(http.MethodGet, "/api/prs", nil, &prs)
	nClosed := 0
	for _, pr := range prs {
		if pr.State == githost.StateClosed {
			nClosed++
		}
	}
	if len(prs) != opened || nClosed != closed {
		t.Fatalf("after the restarts the git host has %d PRs, %d closed; want %d and %d", len(prs), nClosed, opened, closed)
	}
	wantStacks := []string{ManagerStackID}
	var wantEnvs []string
	for _, pr := range prs {
		id := pr.Preview.EnvironmentID
		file := "/github/api/v3/repos/" + DefaultOwner + "/" + DefaultRepo + "/contents/manager/" + DefaultService + "/environments/" +
			envfile.FileName(envfile.Environment{Service: DefaultService, Owner: DefaultOwner, Repo: DefaultRepo, PR: pr.Number, ID: id}) + "?ref=" + DefaultBranch
		fileCode := c.call(http.MethodGet, file, nil, nil)
		code, body := c.get(pr.Preview.URL)
		if pr.State == githost.StateClosed {
			if code != http.StatusNotFound || fileCode != http.StatusNotFound {
				t.Errorf("closed PR #%d: GET %s = %d, environment file %d; want both 404", pr.Number, pr.Preview.URL, code, fileCode)
			}
			continue
		}
		// The environment's two stacks: the service and its data stack.
		wantStacks = append(wantStacks, "hello-service-"+id, "hello-service-"+id+"-data")
		wantEnvs = append(wantEnvs, id)
		if code != http.StatusOK || !strings.HasPrefix(body, pr.Preview.Version+": ") || fileCode != http.StatusOK {
			t.Errorf("open PR #%d: GET %s = %d %q (want %s), environment file %d", pr.Number, pr.Preview.URL, code, body, pr.Preview.Version, fileCode)
		}
	}
	if pr1View := prs[slices.IndexFunc(prs, func(v PRView) bool { return v.Number == pr1.Number })]; pr1View.Preview.Version != pr1.HeadSHA {
		t.Errorf("PR #%d serves %s, want its head %s", pr1.Number, pr1View.Preview.Version, pr1.HeadSHA)
	}
	var stacks []spacelift.Stack
	c.call(http.MethodGet, "/api/spacelift/stacks", nil, &stacks)
	var gotStacks []string
	for _, s := range stacks {
		gotStacks = append(gotStacks, s.ID)
	}
	var envs []sandbox.Environment
	c.call(http.MethodGet, "/api/environments", nil, &envs)
	var gotEnvs []string
	for _, e := range envs {
		gotEnvs = append(gotEnvs, e.ID)
	}
	slices.Sort(wantStacks)
	slices.Sort(gotStacks)
	slices.Sort(wantEnvs)
	slices.Sort(gotEnvs)
	if !slices.Equal(gotStacks, wantStacks) || !slices.Equal(gotEnvs, wantEnvs) {
		t.Fatalf("stacks %v, environments %v; want %v and %v\nruns:\n%s", gotStacks, gotEnvs, wantStacks, wantEnvs, c.runList(60))
	}
	if o := orphans(t, dataDir, c.pid()); len(o) > 0 {
		t.Fatalf("processes not started by the running platform: %+v", o)
	}
	c.stop()
	if left := sandboxProcs(t, dataDir); len(left) > 0 {
		t.Fatalf("processes left after a clean stop: %+v", left)
	}
}

// catchManagerRun polls the manager's runs and returns the ID of a new run
// seen planning or applying, or "" when the manager went idle first.
func catchManagerRun(t *testing.T, c *child, seen map[string]bool, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	sawNew := false
	idleSince := time.Time{}
	for time.Now().Before(deadline) {
		busy := false
		for _, r := range c.managerRuns() {
			if seen[r.ID] {
				continue
			}
			sawNew = true
			if r.State == spacelift.StatePlanning || r.State == spacelift.StateApplying {
				return r.ID
			}
			busy = busy || !spacelift.Terminal(r.State)
		}
		// The PR jobs write their files one after another: the manager is
		// only done once it has been idle for a while.
		switch {
		case busy || !sawNew:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		case time.Since(idleSince) > 3*time.Second:
			return ""
		}
	}
	return ""
}

func waitChildConverged(t *testing.T, c *child, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := c.converged()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			rl := []string{c.runList(40)}
			var prs []PRView
			c.call(http.MethodGet, "/api/prs", nil, &prs)
			for _, pr := range prs {
				var v struct {
					CILog []CILine `json:"ci_log"`
				}
				c.call(http.MethodGet, "/api/prs/"+strconv.Itoa(pr.Number), nil, &v)
				rl = append(rl, fmt.Sprintf("PR #%d %s CI log:", pr.Number, pr.State))
				for _, l := range v.CILog {
					rl = append(rl, "    "+l.At.Format("15:04:05.000")+" "+l.Line)
				}
			}
			t.Fatalf("platform did not converge in %s: %s\nruns:\n%s\nchild log:\n%s", timeout, why, strings.Join(rl, "\n"), c.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitChildIdle waits until no run of the child's engine is queued or
// executing, twice in a row.
func waitChildIdle(t *testing.T, c *child, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	quiet := 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("runs still going after %s", timeout)
		}
		var runs []spacelift.Run
		c.call(http.MethodGet, "/api/spacelift/runs?limit=100", nil, &runs)
		quiet++
		for _, r := range runs {
			if !spacelift.Terminal(r.State) {
				quiet = 0
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitManagerRun waits for the manager's run of commit to end.
func waitManagerRun(t *testing.T, p *Platform, commit string) spacelift.Run {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		runs, err := p.Engine.Runs(context.Background(), ManagerStackID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Commit == commit && spacelift.Terminal(r.State) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no manager run of %s ended within a minute", commit)
	return spacelift.Run{}
}

func runLog(t *testing.T, p *Platform, runID string) string {
	t.Helper()
	logs, err := p.Engine.Logs(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l.Line + "\n")
	}
	return b.String()
}

// TestMalformedEnvironmentFile commits broken environment files to the
// default branch, as a person could: each manager run fails naming the file
// and the line, and the environment already live keeps serving.
func TestMalformedEnvironmentFile(t *testing.T) {
	p, stop := open(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	pr, err := p.OpenPR(ctx, "reliability/live", "A live environment", map[string][]byte{"docs/reliability/live.md": []byte("live\n")})
	if err != nil {
		t.Fatal(err)
	}
	live := waitPreview(t, p, pr.Number, PreviewLive, pr.HeadSHA)
	liveStack := "hello-service-" + live.EnvironmentID

	// A well-formed file for PR 99 that each case breaks in one place.
	good, err := envfile.New(DefaultService, DefaultOwner, DefaultRepo, 99, "latest", DefaultBranch, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body, err := envfile.Render(good)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(body), "\n")
	lineOf := func(arg string) int {
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), arg+" ") {
				return i + 1
			}
		}
		t.Fatalf("rendered file has no %s line:\n%s", arg, body)
		return 0
	}
	replace := func(arg, with string) string {
		out := slices.Clone(lines)
		out[lineOf(arg)-1] = with
		return strings.Join(out, "\n")
	}
	// The live PR's own file, a second time under PR 99's name: two module
	// blocks for one environment.
	livePath := "manager/" + DefaultService + "/environments/" + envfile.FileName(envfile.Environment{Owner: DefaultOwner,
		Repo: DefaultRepo, PR: pr.Number, ID: live.EnvironmentID})
	liveFile, err := p.Git.ReadFile(ctx, DefaultOwner, DefaultRepo, DefaultBranch, livePath)
	if err != nil {
		t.Fatal(err)
	}
	name := envfile.FileName(good)
	path := "manager/" + DefaultService + "/environments/" + name

	for _, tc := range []struct {
		name    string
		content string
		line    int
	}{
		{"syntax error", replace("pr_number", "  pr_number = = 99"), lineOf("pr_number")},
		{"interpolation instead of a literal", replace("code_version", `  code_version = "${file("/etc/passwd")}"`), lineOf("code_version")},
		{"argument the template does not have", replace("service", `  command = "rm -rf /"`), lineOf("service")},
		{"a second file for a live environment", string(liveFile.Content), lineOf("module")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sha, err := p.Git.CommitFiles(ctx, DefaultOwner, DefaultRepo, DefaultBranch, "", map[string][]byte{path: []byte(tc.content)}, "break "+name)
			if err != nil {
				t.Fatal(err)
			}
			r := waitManagerRun(t, p, sha)
			log := runLog(t, p, r.ID)
			// tofu's own diagnostic, naming the file and the line.
			where := fmt.Sprintf("on hello-service/environments/%s line %d", name, tc.line)
			if r.State != spacelift.StateFailed || !strings.Contains(log, where) {
				t.Fatalf("manager run %s is %s, want FAILED with %q in its log:\n%s", r.ID, r.State, where, log)
			}
			if code, got := get(t, p, live.URL); code != http.StatusOK || !strings.HasPrefix(got, live.Version+": ") {
				t.Fatalf("live environment after the failed run: GET %s = %d %q, want 200 from %s", live.URL, code, got, live.Version)
			}
			runs, err := p.Engine.Runs(ctx, liveStack, 20)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range runs {
				if x.Type == spacelift.RunDestroy {
					t.Fatalf("the live environment got a destroy run: %+v", x)
				}
			}
			// Removing the file repairs the manager.
			sha, err = p.Git.CommitFiles(ctx, DefaultOwner, DefaultRepo, DefaultBranch, "", map[string][]byte{path: nil}, "remove "+name)
			if err != nil {
				t.Fatal(err)
			}
			if r := waitManagerRun(t, p, sha); r.State != spacelift.StateFinished {
				t.Fatalf("manager run after the repair is %s:\n%s", r.State, runLog(t, p, r.ID))
			}
		})
	}
	if code, got := get(t, p, live.URL); code != http.StatusOK || !strings.HasPrefix(got, live.Version+": ") {
		t.Fatalf("live environment at the end: GET %s = %d %q", live.URL, code, got)
	}
}

// TestCloseDuringFirstRun closes PRs while their environment's first run is
// still going: each ends destroyed, with no stack, no route, no emulator.
func TestCloseDuringFirstRun(t *testing.T) {
	dataDir := t.TempDir()
	p, stop := open(t, dataDir)
	defer stop()
	ctx := context.Background()
	events, cancel := p.Engine.Subscribe()
	defer cancel()

	for i, tc := range []struct {
		name    string
		closeAt string // the first run's state on which the PR closes
	}{
		{"first run queued", spacelift.StateQueued},
		{"first run planning", spacelift.StatePlanning},
		{"first run applying", spacelift.StateApplying},
	} {
		t.Run(tc.name, func(t *testing.T) {
			branch := fmt.Sprintf("reliability/early-close-%d", i)
			pr, err := p.OpenPR(ctx, branch, tc.name, map[string][]byte{"docs/reliability/" + strconv.Itoa(i) + ".md": []byte(tc.name)})
			if err != nil {
				t.Fatal(err)
			}
			id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
			stackID := "hello-service-" + id
			timeout := time.After(time.Minute)
		wait:
			for {
				select {
				case ev := <-events:
					if ev.Kind == "run" && ev.StackID == stackID && ev.State == tc.closeAt {
						break wait
					}
				case <-timeout:
					t.Fatalf("the first run of %s never reached %s", stackID, tc.closeAt)
				}
			}
			if _, err := p.ClosePR(ctx, pr.Number); err != nil {
				t.Fatal(err)
			}
			pv := waitPreview(t, p, pr.Number, PreviewDestroyed, "")
			// Like preview.yml, the CI job reports "destroyed" once the file
			// is gone and the URL answers 404, which an environment whose
			// first run has not deployed yet does at once: the destroy
			// itself is the engine's to finish.
			deadline := time.Now().Add(time.Minute)
			for {
				_, err := p.Engine.Stack(ctx, stackID)
				if errors.Is(err, spacelift.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					runs, _ := p.Engine.Runs(ctx, stackID, 20)
					t.Fatalf("stack %s survives the close by a minute (%v); runs %+v", stackID, err, runs)
				}
				time.Sleep(20 * time.Millisecond)
			}
			wctx, wcancel := context.WithTimeout(ctx, time.Minute)
			defer wcancel()
			if err := p.Engine.WaitIdle(wctx); err != nil {
				t.Fatal(err)
			}
			if code, _ := get(t, p, pv.URL); code != http.StatusNotFound {
				t.Fatalf("GET %s = %d after the close, want 404", pv.URL, code)
			}
			if _, ok := p.SB.Environment(id); ok {
				t.Fatalf("the data plane still has environment %s", id)
			}
			// The function is named after the environment (infra/'s
			// preview-<service>-<id>); its code is unpacked under functions/.
			fnDir := filepath.Join(dataDir, "functions") + string(filepath.Separator)
			for _, pr := range sandboxProcs(t, dataDir) {
				if slices.ContainsFunc(pr.Args, func(a string) bool { return strings.HasPrefix(a, fnDir) && strings.Contains(a, id) }) {
					t.Fatalf("emulator of the destroyed environment still runs: %+v", pr)
				}
			}
			runs, err := p.Engine.Runs(ctx, stackID, 20)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) < 2 || runs[0].Type != spacelift.RunDestroy || runs[0].State != spacelift.StateFinished ||
				!spacelift.Terminal(runs[len(runs)-1].State) {
				t.Fatalf("runs of %s (newest first) %+v: want the first run ended and a finished destroy last", stackID, runs)
			}
		})
	}
}

// TestDestructorOrder closes a live PR and checks the destroy order end to
// end: the manager run deletes the destructor before the variables, the
// policy attachment and the stack, and the destroy run finished before the
// stack was deleted.
func TestDestructorOrder(t *testing.T) {
	p, stop := open(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	pr, err := p.OpenPR(ctx, "reliability/order", "Destroy order", map[string][]byte{"docs/reliability/order.md": []byte("order\n")})
	if err != nil {
		t.Fatal(err)
	}
	pv := waitPreview(t, p, pr.Number, PreviewLive, pr.HeadSHA)
	stackID := "hello-service-" + pv.EnvironmentID
	before, err := p.Engine.Stack(ctx, stackID)
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := p.Engine.Subscribe()
	defer cancel()
	if _, err := p.ClosePR(ctx, pr.Number); err != nil {
		t.Fatal(err)
	}
	waitPreview(t, p, pr.Number, PreviewDestroyed, "")

	// The stack's deletion as the engine announced it, and the order of
	// the destroy run's end against it.
	var deleted time.Time
	destroyEndedFirst := false
	timeout := time.After(30 * time.Second)
	for deleted.IsZero() {
		select {
		case ev := <-events:
			if ev.StackID != stackID {
				continue
			}
			if ev.Kind == "run" && ev.State == spacelift.StateFinished {
				r, err := p.Engine.Run(ctx, ev.RunID)
				destroyEndedFirst = destroyEndedFirst || (err == nil && r.Type == spacelift.RunDestroy)
			}
			if ev.Kind == "stack" && ev.State == "DELETED" {
				deleted = ev.At
			}
		case <-timeout:
			t.Fatalf("no deletion event for %s", stackID)
		}
	}
	if !destroyEndedFirst {
		t.Fatal("the stack was deleted before its destroy run was announced finished")
	}
	runs, err := p.Engine.Runs(ctx, stackID, 20)
	if err != nil {
		t.Fatal(err)
	}
	var destroy *spacelift.Run
	for i := range runs {
		if runs[i].Type == spacelift.RunDestroy {
			destroy = &runs[i]
			break
		}
	}
	if destroy == nil || destroy.State != spacelift.StateFinished {
		t.Fatalf("no finished destroy run of %s: %+v", stackID, runs)
	}
	finished := destroy.History[len(destroy.History)-1]
	if finished.State != spacelift.StateFinished || finished.At.After(deleted) {
		t.Fatalf("destroy run %s ended %s at %s, the stack was deleted at %s", destroy.ID, finished.State, finished.At, deleted)
	}

	// The manager run that removed the environment, and its apply phase.
	// It records its changes when it ends, after the deletion: wait for it.
	var order []string
	var manager spacelift.Run
	for deadline := time.Now().Add(time.Minute); manager.ID == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no manager run that deleted %s ended within a minute", stackID)
		}
		mruns, err := p.Engine.Runs(ctx, ManagerStackID, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range mruns {
			order = order[:0]
			for _, ch := range r.Changes {
				if ch.Phase == "apply" && ch.Action == spacelift.ActionDeleted && ch.StackID() == stackID {
					order = append(order, ch.Type)
				}
			}
			if len(order) > 0 && spacelift.Terminal(r.State) {
				manager = r
				break
			}
		}
	}
	// tofu's own order: the destructor first (its deletion ran the destroy),
	// the stack last, and in between, in whatever order tofu's parallel
	// walk took them, everything the destroy run needed.
	var middle []string
	for range before.Env {
		middle = append(middle, "spacelift_environment_variable")
	}
	for range before.Policies {
		middle = append(middle, "spacelift_policy_attachment")
	}
	middle = append(middle, "spacelift_aws_integration_attachment")
	// The service stack's dependency on its data stack (stack_id is the
	// service's) goes after the service's destroy too.
	for range before.DependsOn {
		middle = append(middle, "spacelift_stack_dependency")
	}
	slices.Sort(middle)
	if len(order) != len(middle)+2 || order[0] != "spacelift_stack_destructor" || order[len(order)-1] != "spacelift_stack" ||
		!slices.Equal(slices.Sorted(slices.Values(order[1:len(order)-1])), middle) {
		t.Fatalf("manager run %s deletes %v, want the destructor, then %v in any order, then the stack", manager.ID, order, middle)
	}
	if manager.State != spacelift.StateFinished || manager.History[len(manager.History)-1].At.Before(finished.At) {
		t.Fatalf("manager run %s ended %s at %s, before the destroy run it waits for (%s)", manager.ID, manager.State,
			manager.History[len(manager.History)-1].At, finished.At)
	}
}
