package gc

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/prstate"
	"preview-environments/previewctl/pkg/prstate/prstatetest"
	"preview-environments/update-file-action/contentsapi"
)

const token = "ghs_gctest0123456789"

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

// loopbackGitHub is one GitHub on loopback: the contents-API test server from the
// update-file-action, with the pull-request endpoint in front.
type loopbackGitHub struct {
	store  *contentsapi.MemoryStore
	pulls  *prstatetest.Server
	client *github.Client
}

func newGitHub(t *testing.T) *loopbackGitHub {
	t.Helper()
	g := &loopbackGitHub{store: contentsapi.NewMemoryStore(), pulls: prstatetest.New(contentsapi.BasePath, token)}
	if err := g.store.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.pulls.Front(contentsapi.NewServer(g.store, contentsapi.WithToken(token))))
	t.Cleanup(srv.Close)
	c, err := github.NewClient(srv.Client()).WithAuthToken(token).WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	g.client = c
	return g
}

func (g *loopbackGitHub) seed(t *testing.T, e envfile.Environment) {
	t.Helper()
	src, err := envfile.Render(e)
	if err != nil {
		t.Fatal(err)
	}
	head, err := g.store.Head(context.Background(), "acme", "manager", "main")
	if err != nil {
		t.Fatal(err)
	}
	p := "manager/" + e.Service + "/environments/" + envfile.FileName(e)
	if _, err := g.store.Commit(context.Background(), "acme", "manager", "main", head, contentsapi.Change{Path: p, Content: src, Message: "seed"}); err != nil {
		t.Fatal(err)
	}
}

func (g *loopbackGitHub) exists(t *testing.T, e envfile.Environment) bool {
	_, err := g.store.ReadFile(context.Background(), "acme", "manager", "main", "manager/"+e.Service+"/environments/"+envfile.FileName(e))
	if err != nil && !errors.Is(err, contentsapi.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func env(t *testing.T, repo string, pr int, ttl time.Duration) envfile.Environment {
	t.Helper()
	e, err := envfile.New("hello-service", "acme", repo, pr, "latest", "main", t0, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ids(envs []envfile.Environment) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.ID)
	}
	sort.Strings(out)
	return out
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		total int
		frac  float64
		want  int
	}{{0, 0.5, 1}, {1, 0.5, 1}, {2, 0.5, 1}, {3, 0.5, 1}, {4, 0.5, 2}, {10, 0.5, 5}, {10, 1, 10}, {10, 0.05, 1}} {
		if got := Allowed(tc.total, tc.frac); got != tc.want {
			t.Errorf("Allowed(%d, %v) = %d, want %d", tc.total, tc.frac, got, tc.want)
		}
	}
}

// TestRunAgainstGitHub runs whole passes against the loopback GitHub: PR
// states from the pulls endpoint, deletions through updatefile.Apply.
func TestRunAgainstGitHub(t *testing.T) {
	open1 := env(t, "shop", 1, 48*time.Hour)
	open2 := env(t, "shop", 2, 48*time.Hour)
	closed := env(t, "shop", 3, 48*time.Hour)
	expired := env(t, "shop", 4, time.Hour) // open, but TTL passed
	unknown := env(t, "gone", 5, 48*time.Hour)
	now := t0.Add(2 * time.Hour)

	for _, tc := range []struct {
		name        string
		envs        []envfile.Environment
		broken      int
		dryRun      bool
		force       bool
		maxFraction float64
		wantErr     error
		wantDeleted []envfile.Environment
		wantLookups map[int]int // PR -> API calls
	}{
		{"closed and expired go", []envfile.Environment{open1, open2, closed, expired, unknown}, 0, false, false, 0, nil,
			[]envfile.Environment{closed, expired}, map[int]int{1: 1, 3: 1, 4: 0}},
		{"dry run deletes nothing", []envfile.Environment{open1, open2, closed, expired, unknown}, 0, true, false, 0, nil, nil, nil},
		{"guard trips", []envfile.Environment{open1, closed, expired}, 0, false, false, 0, ErrGuard, nil, nil},
		{"broken files lower the allowance", []envfile.Environment{closed, expired, open1, open2}, 2, false, false, 0.3, ErrGuard, nil, nil},
		{"force passes the guard", []envfile.Environment{open1, closed, expired}, 0, false, true, 0, nil, []envfile.Environment{closed, expired}, nil},
		{"empty listing deletes nothing", nil, 0, false, false, 0, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitHub(t)
			g.pulls.Set("acme", "shop", 1, "open")
			g.pulls.Set("acme", "shop", 2, "open")
			g.pulls.Set("ACME", "Shop", 3, "closed")
			g.pulls.Set("acme", "shop", 4, "open")
			for _, e := range tc.envs {
				g.seed(t, e)
			}
			var broken []error
			for i := 0; i < tc.broken; i++ {
				broken = append(broken, errors.New("x.tf:1: broken"))
			}
			var progress bytes.Buffer
			rep, err := Run(context.Background(), tc.envs, broken, Options{
				Now: now, Lookup: prstate.GitHub{Client: g.client},
				Deleter: RepoDeleter{Client: g.client, Owner: "acme", Repo: "manager", PathPrefix: "manager", MaxAttempts: 3},
				DryRun:  tc.dryRun, Force: tc.force, MaxFraction: tc.maxFraction, Progress: &progress,
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else if tc.broken == 0 && err != nil {
				t.Fatalf("err = %v\n%s", err, progress.String())
			}
			if got, want := ids(rep.Deleted), ids(tc.wantDeleted); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("deleted %v, want %v\n%s", got, want, progress.String())
			}
			deleted := map[string]bool{}
			for _, e := range tc.wantDeleted {
				deleted[e.ID] = true
			}
			for _, e := range tc.envs {
				if g.exists(t, e) == deleted[e.ID] {
					t.Errorf("%s (%s): exists = %v after gc", e.ID, e.Key(), !deleted[e.ID])
				}
			}
			for pr, n := range tc.wantLookups {
				if got := g.pulls.Hits("acme", "shop", pr); got != n {
					t.Errorf("PR %d looked up %d times, want %d", pr, got, n)
				}
			}
			if len(tc.envs) > 0 && !strings.Contains(progress.String(), "gc: ") {
				t.Errorf("no progress lines")
			}
		})
	}
}

func TestRunBadToken(t *testing.T) {
	g := newGitHub(t)
	e := env(t, "shop", 3, 48*time.Hour)
	g.pulls.Set("acme", "shop", 3, "closed")
	g.seed(t, e)
	bad, err := github.NewClient(nil).WithAuthToken("wrong").WithEnterpriseURLs(g.client.BaseURL.String(), g.client.BaseURL.String())
	if err != nil {
		t.Fatal(err)
	}
	// A lookup that fails must keep the environment and report the error.
	rep, err := Run(context.Background(), []envfile.Environment{e}, nil, Options{Now: t0, Lookup: prstate.GitHub{Client: bad},
		Deleter: RepoDeleter{Client: g.client, Owner: "acme", Repo: "manager", PathPrefix: "manager"}})
	if err == nil || len(rep.Deleted) != 0 || !g.exists(t, e) {
		t.Fatalf("err = %v, deleted = %v", err, rep.Deleted)
	}
}

func TestRunLocal(t *testing.T) {
	dir := t.TempDir()
	envDir := envfile.EnvironmentsDir(dir, "hello-service")
	if err := os.MkdirAll(envDir, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := env(t, "shop", 1, 48*time.Hour)
	old := env(t, "shop", 2, time.Hour)
	for _, e := range []envfile.Environment{keep, old} {
		if _, err := envfile.WriteAtomic(envDir, e); err != nil {
			t.Fatal(err)
		}
	}
	envs, errs := envfile.ReadDir(envDir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rep, err := Run(context.Background(), envs, nil, Options{Now: t0.Add(2 * time.Hour), Deleter: LocalDeleter{ManagerDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0].ID != old.ID {
		t.Fatalf("deleted %v", rep.Deleted)
	}
	left, _ := filepath.Glob(filepath.Join(envDir, "*.tf"))
	if len(left) != 1 || filepath.Base(left[0]) != envfile.FileName(keep) {
		t.Errorf("left %v", left)
	}
}

// TestRunDeleteFailure: a deletion the manager repository refuses (no such
// repository for this token) keeps the environment, is reported, and the
// other deletions still happen.
func TestRunDeleteFailure(t *testing.T) {
	g := newGitHub(t)
	a := env(t, "shop", 1, time.Hour)
	b := env(t, "shop", 2, time.Hour)
	c := env(t, "shop", 3, 48*time.Hour)
	for _, e := range []envfile.Environment{a, b, c} {
		g.seed(t, e)
	}
	var progress bytes.Buffer
	rep, err := Run(context.Background(), []envfile.Environment{a, b, c}, nil, Options{
		Now: t0.Add(2 * time.Hour), MaxFraction: 1, Progress: &progress,
		Deleter: flaky{RepoDeleter{Client: g.client, Owner: "acme", Repo: "manager", PathPrefix: "manager"}, a.ID},
	})
	if err == nil || !strings.Contains(err.Error(), "gc finished with 1 errors") {
		t.Fatalf("err = %v", err)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0].ID != b.ID || !g.exists(t, a) || g.exists(t, b) || !g.exists(t, c) {
		t.Errorf("deleted %v\n%s", rep.Deleted, progress.String())
	}
	if !strings.Contains(progress.String(), "gc: deleting "+a.ID+": ") {
		t.Errorf("failure not reported:\n%s", progress.String())
	}
}

// flaky sends one environment's deletion to a repository that does not
// exist, so the real updatefile.Apply fails on it with a real 404.
type flaky struct {
	RepoDeleter
	failID string
}

func (f flaky) Delete(ctx context.Context, e envfile.Environment, reason string) error {
	if e.ID == f.failID {
		d := f.RepoDeleter
		d.Repo = "missing"
		return d.Delete(ctx, e, reason)
	}
	return f.RepoDeleter.Delete(ctx, e, reason)
}

func onDemand(t *testing.T, name string, ttl time.Duration) envfile.Environment {
	t.Helper()
	e, err := envfile.NewOnDemand("hello-service", name, "latest", "main", t0, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestOnDemand: on-demand environments are never looked up (they have no
// PR), go when their TTL passes, are warned about within WarnWithin, and
// count towards the mass-deletion guard like any other.
func TestOnDemand(t *testing.T) {
	g := newGitHub(t)
	g.pulls.Set("acme", "shop", 1, "open")
	pr := env(t, "shop", 1, 48*time.Hour)
	soon := onDemand(t, "qa-soon", 30*time.Hour) // 6h left at now
	later := onDemand(t, "qa-later", 72*time.Hour)
	gone := onDemand(t, "qa-gone", 12*time.Hour) // expired at now
	all := []envfile.Environment{pr, soon, later, gone}
	for _, e := range all {
		g.seed(t, e)
	}
	now := t0.Add(24 * time.Hour)
	lookups := &countingLookup{Lookup: prstate.GitHub{Client: g.client}}
	var progress bytes.Buffer
	rep, err := Run(context.Background(), all, nil, Options{
		Now: now, Lookup: lookups, WarnWithin: 24 * time.Hour, Progress: &progress,
		Deleter: RepoDeleter{Client: g.client, Owner: "acme", Repo: "manager", PathPrefix: "manager"},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	out := progress.String()
	if lookups.n != 1 {
		t.Errorf("%d PR lookups, want 1 (the PR's only)", lookups.n)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0].Name != "qa-gone" || g.exists(t, gone) || !g.exists(t, soon) || !g.exists(t, later) {
		t.Errorf("deleted %+v\n%s", rep.Deleted, out)
	}
	if len(rep.Expiring) != 1 || rep.Expiring[0].Name != "qa-soon" {
		t.Errorf("expiring %+v", rep.Expiring)
	}
	for _, want := range []string{
		"gc: delete " + gone.ID + " (ondemand:qa-gone): expired at 2026-11-28T17:00:00Z",
		"gc: keep " + later.ID + " (ondemand:qa-later): on-demand, expires at 2026-12-01T05:00:00Z",
		"gc: warning: on-demand environment qa-soon (" + soon.ID + ") expires in 6h0m at 2026-11-29T11:00:00Z; keep it with `previewctl env extend --name qa-soon --ttl D`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning: on-demand environment qa-later") {
		t.Errorf("warned about an environment 2 days from expiry:\n%s", out)
	}

	// The guard: three of four expired is more than half; nothing goes,
	// the warnings are still printed.
	progress.Reset()
	late := t0.Add(50 * time.Hour)
	_, err = Run(context.Background(), all, nil, Options{Now: late, WarnWithin: 48 * time.Hour, Progress: &progress, Deleter: RepoDeleter{Client: g.client, Owner: "acme", Repo: "manager", PathPrefix: "manager"}})
	if !errors.Is(err, ErrGuard) || !g.exists(t, soon) || !g.exists(t, pr) {
		t.Fatalf("guard: %v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "gc: warning: on-demand environment qa-later") {
		t.Errorf("no warning when the guard trips:\n%s", progress.String())
	}
}

type countingLookup struct {
	prstate.Lookup
	n int
}

func (c *countingLookup) State(ctx context.Context, owner, repo string, pr int) (prstate.State, error) {
	c.n++
	return c.Lookup.State(ctx, owner, repo, pr)
}
