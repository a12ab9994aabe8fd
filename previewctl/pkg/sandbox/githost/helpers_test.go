package githost_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/update-file-action/contentsapi"
)

const (
	owner = "Acme"
	repo  = "preview-environments"
)

type fixture struct {
	dir  string
	db   *sql.DB
	host *githost.Host
	evs  chan githost.Event
}

// newFixture opens a host on a fresh data directory and SQLite database,
// subscribed to its events.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureAt(t, t.TempDir())
}

// newFixtureAt is newFixture with its data (git repos and state.db) in dir.
func newFixtureAt(t testing.TB, dir string) *fixture {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := state.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{dir: dir, db: db}
	f.open(t)
	return f
}

// open (re)starts the host on the fixture's data, as a sandbox restart does.
func (f *fixture) open(t testing.TB) {
	t.Helper()
	h, err := githost.New(context.Background(), f.dir, f.db)
	if err != nil {
		t.Fatal(err)
	}
	f.host = h
	f.evs = make(chan githost.Event, 10000)
	evs := f.evs
	unsub := h.Subscribe(func(e githost.Event) { evs <- e })
	t.Cleanup(func() { unsub(); h.Close() })
}

// events waits for exactly n events, then checks no more arrive soon.
func (f *fixture) events(t testing.TB, n int) []githost.Event {
	t.Helper()
	var out []githost.Event
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case e := <-f.evs:
			out = append(out, e)
		case <-timeout:
			t.Fatalf("got %d events, want %d: %+v", len(out), n, out)
		}
	}
	select {
	case e := <-f.evs:
		t.Fatalf("unexpected extra event %+v (push %+v, pr %+v)", e, e.Push, e.PullRequest)
	case <-time.After(50 * time.Millisecond):
	}
	return out
}

func (f *fixture) server(t testing.TB) (*httptest.Server, *github.Client) {
	t.Helper()
	srv := newServer(t, f)
	return srv, ghClient(t, srv)
}

func newServer(t testing.TB, f *fixture, opts ...contentsapi.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.host.Handler(opts...))
	t.Cleanup(srv.Close)
	return srv
}

// ghClient is go-github pointed at the host the way the sandbox's clients
// are: an enterprise base URL ending in /github/.
func ghClient(t testing.TB, srv *httptest.Server) *github.Client {
	t.Helper()
	c, err := github.NewClient(srv.Client()).WithEnterpriseURLs(srv.URL+githost.APIPrefix, srv.URL+githost.APIPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gitEnv isolates the test's own git commands from the user's config.
func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@localhost",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@localhost",
		"GIT_TERMINAL_PROMPT=0",
	}
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
