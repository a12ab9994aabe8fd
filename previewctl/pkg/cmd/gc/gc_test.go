package gc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdtest"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/prstate/prstatetest"
	"preview-environments/update-file-action/contentsapi"
)

const token = "ghs_cligc0123456789"

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

type fixture struct {
	mdir  string
	store *contentsapi.MemoryStore
	pulls *prstatetest.Server
	url   string
	envs  []envfile.Environment
}

// newFixture: a manager dir and a manager repository holding the same five
// environments; PR 3 closed, PR 4 expired (TTL 1h), the others open.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{mdir: t.TempDir(), store: contentsapi.NewMemoryStore(), pulls: prstatetest.New(contentsapi.BasePath, token)}
	if err := f.store.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.pulls.Front(contentsapi.NewServer(f.store, contentsapi.WithToken(token))))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	dir := envfile.EnvironmentsDir(f.mdir, "hello-service")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for pr := 1; pr <= 5; pr++ {
		ttl := 48 * time.Hour
		if pr == 4 {
			ttl = time.Hour
		}
		e, err := envfile.New("hello-service", "acme", "shop", pr, "latest", "main", t0, ttl)
		if err != nil {
			t.Fatal(err)
		}
		path, err := envfile.WriteAtomic(dir, e)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(path)
		head, _ := f.store.Head(context.Background(), "acme", "manager", "main")
		if _, err := f.store.Commit(context.Background(), "acme", "manager", "main", head,
			contentsapi.Change{Path: "manager/hello-service/environments/" + envfile.FileName(e), Content: src, Message: "seed"}); err != nil {
			t.Fatal(err)
		}
		state := "open"
		if pr == 3 {
			state = "closed"
		}
		f.pulls.Set("acme", "shop", pr, state)
		f.envs = append(f.envs, e)
	}
	t.Setenv("GITHUB_TOKEN", token)
	return f
}

func (f *fixture) inRepo(t *testing.T, e envfile.Environment) bool {
	_, err := f.store.ReadFile(context.Background(), "acme", "manager", "main", "manager/hello-service/environments/"+envfile.FileName(e))
	if err != nil && !errors.Is(err, contentsapi.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) onDisk(e envfile.Environment) bool {
	_, err := os.Stat(filepath.Join(envfile.EnvironmentsDir(f.mdir, "hello-service"), envfile.FileName(e)))
	return err == nil
}

func TestGC(t *testing.T) {
	now := t0.Add(2 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		gone       []int // PRs whose file is deleted (where the mode deletes)
		local      bool
		stderrHas  string
		stdoutRows int
	}{
		{"repo", []string{"--manager-repo", "acme/manager"}, 0, []int{3, 4}, false, "gc: [2/2] deleting acme/manager:manager/hello-service/environments/", 2},
		{"local", []string{"--local"}, 0, []int{3, 4}, true, "gc: delete", 2},
		{"dry run", []string{"--local", "--dry-run"}, 0, nil, true, "would delete 2 of 5", 2},
		{"guard", []string{"--local", "--max-fraction", "0.2"}, 1, nil, true, "mass-deletion guard: would delete 2 of 5 environments, more than 1", 0},
		{"guard forced", []string{"--local", "--max-fraction", "0.2", "--force"}, 0, []int{3, 4}, true, "deleting", 2},
		{"ttl only", []string{"--local", "--no-pr-lookup"}, 0, []int{4}, true, "expired at", 1},
		{"bad fraction", []string{"--local", "--max-fraction", "2"}, 2, nil, true, "invalid max-fraction", 0},
		{"no target", nil, 2, nil, true, "--manager-repo OWNER/REPO, or --local", 0},
		{"bad repo", []string{"--manager-repo", "../x"}, 2, nil, false, `invalid manager-repo "../x"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			args := append([]string{"gc", "--manager-dir", f.mdir, "--api-url", f.url, "--now", now}, tc.args...)
			r := cmdtest.Run(t, "", args...)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.stderrHas) {
				t.Fatalf("code %d (want %d)\nstderr:\n%s", r.Code, tc.code, r.Stderr)
			}
			// What it looked at first, how long it took and what it did last.
			if tc.code == 0 {
				verb := "deleted"
				if slices.Contains(tc.args, "--dry-run") {
					verb = "would delete"
				}
				summary := fmt.Sprintf(": %s %d of 5 environments, 0 errors\n", verb, tc.stdoutRows)
				if !strings.HasPrefix(r.Stderr, "gc: 5 environment files in ") || !strings.Contains(r.Stderr, "gc: done in ") || !strings.HasSuffix(r.Stderr, summary) {
					t.Errorf("stderr lacks the opening line or ends otherwise than %q:\n%s", summary, r.Stderr)
				}
			}
			if rows := strings.Count(r.Stdout, "\n"); rows != tc.stdoutRows {
				t.Errorf("stdout rows %d, want %d:\n%s", rows, tc.stdoutRows, r.Stdout)
			}
			gone := map[int]bool{}
			for _, pr := range tc.gone {
				gone[pr] = true
			}
			for _, e := range f.envs {
				exists := f.inRepo(t, e)
				if tc.local {
					exists = f.onDisk(e)
				}
				if exists == gone[e.PR] {
					t.Errorf("PR %d: exists = %v", e.PR, exists)
				}
			}
		})
	}
}

// TestGCBrokenListing: unreadable files are never taken as "no
// environments"; they count against the guard and fail the pass.
func TestGCBrokenListing(t *testing.T) {
	f := newFixture(t)
	dir := envfile.EnvironmentsDir(f.mdir, "hello-service")
	for _, name := range []string{"a-b-1-00000001.tf", "a-b-2-00000002.tf", "a-b-3-00000003.tf", "a-b-4-00000004.tf", "a-b-5-00000005.tf"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("garbage {"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := cmdtest.Run(t, "", "gc", "--manager-dir", f.mdir, "--api-url", f.url, "--local", "--max-fraction", "0.1", "--now", t0.Add(2*time.Hour).Format(time.RFC3339))
	if r.Code != 1 || !strings.Contains(r.Stderr, "would delete 2 of 10") {
		t.Fatalf("code %d stderr:\n%s", r.Code, r.Stderr)
	}
	for _, e := range f.envs {
		if !f.onDisk(e) {
			t.Errorf("PR %d deleted", e.PR)
		}
	}
}
