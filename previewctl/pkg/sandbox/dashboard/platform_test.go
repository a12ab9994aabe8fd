package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/pkg/managerdir"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/dashboard"
	"preview-environments/previewctl/pkg/sandbox/platform"
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

// openPlatform starts the whole sandbox on a free loopback port, as
// `previewctl sandbox up` does, with the real monorepo imported.
func openPlatform(t testing.TB) *platform.Platform {
	t.Helper()
	p, _ := startPlatform(t)
	return p
}

// startPlatform also returns a stop function, which shuts the platform down
// the way Ctrl-C does and returns Serve's error; cleanup calls it too.
func startPlatform(t testing.TB) (*platform.Platform, func() error) {
	t.Helper()
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		t.Fatal("aws-lambda-rie not on PATH: run make tools (make test puts bin/ on PATH)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := platform.Open(ctx, platform.Config{
		Sandbox:     sandbox.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), RIEPath: rie},
		RepoRoot:    repoRoot(t),
		WaitTimeout: 90 * time.Second,
	})
	if err != nil {
		cancel()
		t.Fatalf("open platform: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
			p.Close()
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case <-p.Ready():
	case <-time.After(3 * time.Minute):
		t.Fatal("platform not ready after 3 minutes")
	}
	return p, stop
}

// handlerWith is a change to the service, so the PR gets a build and a
// preview of its own code.
func handlerWith(t testing.TB, greeting string) map[string][]byte {
	t.Helper()
	path := "service/handler/handler.go"
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	const old = `DefaultGreeting = "Hello world"`
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s no longer holds the greeting this test edits", path)
	}
	return map[string][]byte{path: []byte(strings.ReplaceAll(string(b), old, `DefaultGreeting = "`+greeting+`"`))}
}

// environmentRuns describes an environment's stacks and their runs, with
// the end of each failed run's log, for a failure message.
func environmentRuns(p *platform.Platform, id string) string {
	ctx := context.Background()
	stacks, err := p.Engine.Stacks(ctx)
	if err != nil {
		return "stacks: " + err.Error()
	}
	var b strings.Builder
	for _, s := range stacks {
		if s.EnvironmentID != id {
			continue
		}
		fmt.Fprintf(&b, "stack %s (role %s, depends on %v) %s\n", s.ID, s.Role, s.DependsOn, s.State)
		runs, _ := p.Engine.Runs(ctx, s.ID, 8)
		for _, r := range runs {
			fmt.Fprintf(&b, "  run %s %s %s: %s\n", r.ID, r.Type, r.State, r.Cause)
			if r.State != spacelift.StateFailed {
				continue
			}
			lines, _ := p.Engine.Logs(ctx, r.ID)
			for _, l := range lines[max(0, len(lines)-15):] {
				fmt.Fprintf(&b, "    | %s\n", l.Line)
			}
		}
	}
	return b.String()
}

func httpGet(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", url, err)
	}
	return resp, string(b)
}

// TestRoutes: the dashboard answers its own paths and leaves every other
// path to the sandbox's routes (an unknown API path stays a 404, not a page).
func TestRoutes(t *testing.T) {
	p := openPlatform(t)
	base := p.SB.URL()
	tests := []struct {
		path        string
		code        int
		contentType string
		contains    []string
	}{
		{"/", 200, "text/html; charset=utf-8", []string{
			`<main id="main"`, `<section id="environments"`, `aria-live="polite"`, `<section id="stacks"`,
			`<section id="evaluations"`, `<code>` + platform.ManagerStackID + `</code>`, `/dashboard/static/dashboard.js`,
			`<noscript><meta http-equiv="refresh"`, "No environments yet",
		}},
		{dashboard.FragmentPath, 200, "text/html; charset=utf-8", []string{`<section id="environments"`, `<section id="stacks"`}},
		{dashboard.StaticPrefix + "dashboard.js", 200, "text/javascript; charset=utf-8", []string{"EventSource"}},
		{dashboard.StaticPrefix + "dashboard.css", 200, "text/css; charset=utf-8", []string{".badge"}},
		{dashboard.StaticPrefix + "missing.js", 404, "", nil},
		{"/dashboard/runs/run-000001/log", 200, "text/html; charset=utf-8", []string{`<pre aria-label="Log of run-000001">`, "tracked run on " + platform.ManagerStackID}},
		{"/dashboard/runs/run-999999/log", 404, "", nil},
		{"/no-such-page", 404, "", nil},
		{"/api/status", 200, "application/json", []string{`"url"`}},
		{"/api/spacelift/stacks", 200, "application/json", []string{platform.ManagerStackID}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := httpGet(t, base+tc.path)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d; body %.300s", resp.StatusCode, tc.code, body)
			}
			if tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.contentType)
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%.2000s", want, body)
				}
			}
			if strings.Contains(body, "http://") && strings.Contains(body, "<script src=\"http") {
				t.Errorf("page loads an external script")
			}
		})
	}
}

// fragments reads an event stream's fragment events.
func fragments(t *testing.T, ctx context.Context, url string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	events := make(chan string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var name string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if name == "fragment" {
					events <- strings.Join(data, "\n")
				}
				name, data = "", nil
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return events
}

// TestEventStream: each stream (two tabs share one render loop) gets the
// fragment at once, then a new one whenever it changes, without asking,
// until the PR's environment is live.
func TestEventStream(t *testing.T) {
	p := openPlatform(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tabs := []<-chan string{fragments(t, ctx, p.SB.URL()+dashboard.EventsPath), fragments(t, ctx, p.SB.URL()+dashboard.EventsPath)}
	next := func(tab int, what string) string {
		t.Helper()
		select {
		case f, ok := <-tabs[tab]:
			if !ok {
				t.Fatalf("stream %d ended while waiting for %s", tab, what)
			}
			return f
		case <-ctx.Done():
			t.Fatalf("stream %d: no fragment event for %s", tab, what)
		}
		return ""
	}
	last := make([]string, len(tabs))
	for i := range tabs {
		last[i] = next(i, "the first fragment")
		if !strings.Contains(last[i], `<section id="environments"`) || !strings.Contains(last[i], "No environments yet") {
			t.Fatalf("stream %d: first fragment is not the empty environments view:\n%.1500s", i, last[i])
		}
	}
	pr, err := p.OpenPR(ctx, "feature/stream", "Stream test", handlerWith(t, "Hello stream"))
	if err != nil {
		t.Fatal(err)
	}
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	row := `data-env-id="` + id + `" data-state="live"`
	for i := range tabs {
		for {
			f := next(i, "environment "+id+" live:\n"+environmentRuns(p, id))
			if f == last[i] {
				t.Fatalf("stream %d sent a fragment that did not change", i)
			}
			last[i] = f
			if strings.Contains(f, row) {
				break
			}
		}
	}
}

// TestStreamEndsOnShutdown: an open event stream never goes idle, so the
// dashboard ends it when the server shuts down; otherwise every open tab
// would hold `sandbox up` for the whole shutdown grace period (10 s).
func TestStreamEndsOnShutdown(t *testing.T) {
	p, stop := startPlatform(t)
	resp, err := http.Get(p.SB.URL() + dashboard.EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 64)
	if _, err := io.ReadAtLeast(resp.Body, first, 1); err != nil {
		t.Fatalf("read the stream's first bytes: %v", err)
	}
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Well inside the grace period, so a stream that outlives Shutdown fails.
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("the stream broke instead of ending: %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the event stream is still open 8 s after shutdown began")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
