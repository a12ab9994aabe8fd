package env_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdtest"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/update-file-action/contentsapi"
)

const token = "ghs_envcmd0123456789"

// repo is a temporary repository root whose manager/hello-service has the
// real template's variables and one PR environment.
func repo(t *testing.T) (root, edir string) {
	t.Helper()
	root = cmdtest.TempRoot(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "manager", "hello-service", "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tdir := filepath.Join(root, "manager", "hello-service", "template")
	edir = filepath.Join(root, "manager", "hello-service", "environments")
	for _, d := range []string{tdir, edir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tdir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	pr, err := envfile.New("hello-service", "acme", "shop", 42, "latest", "main", time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), envfile.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envfile.WriteAtomic(edir, pr); err != nil {
		t.Fatal(err)
	}
	return root, edir
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func run(t *testing.T, dir string, args ...string) cmdtest.Result {
	t.Helper()
	return cmdtest.Run(t, dir, args...)
}

// TestBadNamesRefused: each bad name exits 2 with one line naming --name's
// value, before anything is read or written (no file, no step output).
func TestBadNamesRefused(t *testing.T) {
	root, edir := repo(t)
	before := names(t, edir)
	out := filepath.Join(t.TempDir(), "github-output")
	for _, name := range []string{"QA-Checkout", strings.Repeat("a", 200), "../x", "${x}", ""} {
		for _, cmd := range [][]string{
			{"env", "create", "--name", name, "--code-version", "latest", "--infra-branch", "main", "--local", "--github-output", out},
			{"env", "extend", "--name", name, "--ttl", "24h", "--local", "--github-output", out},
			{"env", "delete", "--name", name, "--local", "--github-output", out},
			// Refused before the manager repository is even contacted.
			{"env", "create", "--name", name, "--code-version", "latest", "--infra-branch", "main", "--manager-repo", "acme/manager", "--api-url", "http://127.0.0.1:1"},
		} {
			r := run(t, root, cmd...)
			want := `previewctl: invalid name "`
			if r.Code != 2 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, want) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line starting %q", cmd, r.Code, r.Stdout, r.Stderr, want)
			}
		}
	}
	if after := names(t, edir); !slices.Equal(before, after) {
		t.Errorf("files changed: %v -> %v", before, after)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("step output written: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	root, edir := repo(t)
	before := names(t, edir)
	create := func(extra ...string) []string {
		return append([]string{"env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"neither local nor manager repo", create(), `invalid manager-repo "": pass --manager-repo OWNER/REPO, or --local`},
		{"local and manager repo", create("--local", "--manager-repo", "acme/manager"), `--local and --manager-repo "acme/manager" exclude each other`},
		{"branch without manager repo", create("--local", "--branch", "main"), `--branch "main" applies only with --manager-repo`},
		{"bad manager repo", create("--manager-repo", "acme"), `invalid manager-repo "acme": want OWNER/REPO`},
		{"bad code version", create("--local", "--code-version", "${x}"), `invalid code-version "${x}"`},
		{"bad infra branch", create("--local", "--infra-branch", "a..b"), `invalid infra-branch "a..b"`},
		{"missing infra branch", []string{"env", "create", "--name", "qa-checkout", "--code-version", "latest", "--local"}, `invalid infra-branch "": must not be empty`},
		{"ttl past the cap", create("--local", "--ttl", "2161h"), `invalid argument "2161h" for "--ttl" flag: must be at most 2160h (90 days)`},
		{"ttl zero", []string{"env", "extend", "--name", "qa-checkout", "--local", "--ttl", "0s"}, `invalid argument "0s" for "--ttl" flag: must be positive`},
		{"unknown service", create("--local", "--service", "nosuch"), `invalid service "nosuch": no template`},
		{"bad service", create("--local", "--service", "../x"), `invalid service "../x"`},
		{"argument", []string{"env", "ls", "x"}, `env ls takes no arguments, got ["x"]`},
		{"unknown subcommand", []string{"env", "nosuch"}, `unknown command "nosuch" for "previewctl env"`},
		{"code version on extend", []string{"env", "extend", "--name", "qa-checkout", "--local", "--code-version", "latest"}, "unknown flag: --code-version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, root, tc.args...)
			if r.Code != 2 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and one line containing %q", r.Code, r.Stdout, r.Stderr, tc.want)
			}
		})
	}
	if after := names(t, edir); !slices.Equal(before, after) {
		t.Errorf("files changed: %v -> %v", before, after)
	}
}

// TestLifecycleLocal: create with a TTL, list, extend, expire through gc
// with a fake clock (warned about first), create again and delete.
func TestLifecycleLocal(t *testing.T) {
	root, edir := repo(t)
	file := filepath.Join(edir, "ondemand-qa-checkout-o6ef4836.tf")
	out := filepath.Join(t.TempDir(), "github-output")

	r := run(t, root, "env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main", "--ttl", "48h",
		"--local", "--now", "2026-11-28T05:00:00Z", "--github-output", out)
	if r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, "on-demand environment qa-checkout (o6ef4836): "+file+": created; code_version latest, infra branch main, expires 2026-11-30T05:00:00Z (in 2d0h)") {
		t.Fatalf("create: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e, err := envfile.Parse(file, src)
	if err != nil || e.Name != "qa-checkout" || e.ExpiresAt.Format("2006-01-02T15:04:05Z") != "2026-11-30T05:00:00Z" {
		t.Fatalf("file: %+v %v", e, err)
	}
	outputs, _ := os.ReadFile(out)
	for _, want := range []string{"id=o6ef4836\n", "name=qa-checkout\n", "path=manager/hello-service/environments/ondemand-qa-checkout-o6ef4836.tf\n", "expires_at=2026-11-30T05:00:00Z\n"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("outputs lack %q:\n%s", want, outputs)
		}
	}

	// Again: refused (exit 1), the file is unchanged.
	r = run(t, root, "env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main", "--local")
	if r.Code != 1 || !strings.Contains(r.Stderr, "on-demand environment already exists: qa-checkout (o6ef4836)") {
		t.Fatalf("second create: exit %d stderr %q", r.Code, r.Stderr)
	}
	if again, _ := os.ReadFile(file); string(again) != string(src) {
		t.Error("second create changed the file")
	}

	// ls lists on-demand environments only, with their expiry.
	r = run(t, root, "env", "ls", "--now", "2026-11-29T05:00:00Z")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") ||
		strings.Join(strings.Fields(lines[1]), " ") != "qa-checkout o6ef4836 hello-service latest main 1d0h in 1d0h (2026-11-30T05:00:00Z)" {
		t.Fatalf("ls: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = run(t, root, "env", "ls", "--json")
	var got []envfile.Environment
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || len(got) != 1 || !got[0].Equal(e) || !strings.Contains(r.Stdout, `"kind": "ondemand"`) {
		t.Fatalf("ls --json: %v %s", err, r.Stdout)
	}
	// The top-level ls shows both kinds.
	r = run(t, root, "ls", "--now", "2026-11-29T05:00:00Z")
	if r.Code != 0 || !strings.Contains(r.Stdout, "ondemand:qa-checkout") || !strings.Contains(r.Stdout, "acme/shop#42") {
		t.Fatalf("ls: %s %s", r.Stdout, r.Stderr)
	}

	// Extend, 40 hours in: expires 24 hours later, created_at kept.
	r = run(t, root, "env", "extend", "--name", "qa-checkout", "--ttl", "24h", "--local", "--now", "2026-11-29T21:00:00Z")
	if r.Code != 0 || !strings.Contains(r.Stdout, "updated; code_version latest, infra branch main, expires 2026-11-30T21:00:00Z (in 1d0h)") {
		t.Fatalf("extend: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	src, _ = os.ReadFile(file)
	if !strings.Contains(string(src), `created_at     = "2026-11-28T05:00:00Z"`) || !strings.Contains(string(src), `expires_at     = "2026-11-30T21:00:00Z"`) {
		t.Fatalf("extended file:\n%s", src)
	}

	// gc 10 hours before the new expiry: kept, with a warning on stderr.
	gc := func(now string) cmdtest.Result {
		return run(t, root, "gc", "--local", "--no-pr-lookup", "--now", now)
	}
	r = gc("2026-11-30T11:00:00Z")
	if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "gc: warning: on-demand environment qa-checkout (o6ef4836) expires in 10h0m at 2026-11-30T21:00:00Z") {
		t.Fatalf("gc before expiry: exit %d stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	r = run(t, root, "gc", "--local", "--no-pr-lookup", "--now", "2026-11-30T11:00:00Z", "--warn-within", "1h")
	if r.Code != 0 || strings.Contains(r.Stderr, "warning") {
		t.Fatalf("gc with a 1h window warned: %s", r.Stderr)
	}
	// Past it: deleted (one of two environments: within the guard).
	r = gc("2026-11-30T21:00:00Z")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "ondemand-qa-checkout-o6ef4836.tf" {
		t.Fatalf("gc after expiry: exit %d stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file after gc: %v", err)
	}
	r = run(t, root, "env", "extend", "--name", "qa-checkout", "--local")
	if r.Code != 1 || !strings.Contains(r.Stderr, "no such on-demand environment: qa-checkout") {
		t.Fatalf("extend after gc: exit %d %q", r.Code, r.Stderr)
	}

	// Create again, delete, delete again.
	if r = run(t, root, "env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main", "--local"); r.Code != 0 {
		t.Fatalf("create again: %s", r.Stderr)
	}
	r = run(t, root, "env", "delete", "--name", "qa-checkout", "--local")
	if r.Code != 0 || !strings.Contains(r.Stdout, "on-demand environment qa-checkout (o6ef4836): "+file+": deleted") {
		t.Fatalf("delete: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	r = run(t, root, "env", "delete", "--name", "qa-checkout", "--local")
	if r.Code != 0 || !strings.Contains(r.Stdout, "nothing to delete") {
		t.Fatalf("second delete: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if got := names(t, edir); len(got) != 1 || got[0] != "acme-shop-42-191559f5.tf" {
		t.Errorf("files left: %v", got)
	}
}

// TestManagerRepo: the same commands write through the update-file-action
// into a manager repository (the contents-API test server), as the
// ondemand workflow runs them.
func TestManagerRepo(t *testing.T) {
	root, _ := repo(t)
	store := contentsapi.NewMemoryStore()
	if err := store.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(contentsapi.NewServer(store, contentsapi.WithToken(token)))
	t.Cleanup(srv.Close)
	t.Setenv("GITHUB_TOKEN", token)
	repoArgs := []string{"--manager-repo", "acme/manager", "--api-url", srv.URL, "--max-attempts", "3"}
	path := "manager/hello-service/environments/ondemand-qa-checkout-o6ef4836.tf"
	read := func() string {
		f, err := store.ReadFile(context.Background(), "acme", "manager", "main", path)
		if errors.Is(err, contentsapi.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(f.Content)
	}

	r := run(t, root, append([]string{"env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main", "--ttl", "48h", "--now", "2026-11-28T05:00:00Z"}, repoArgs...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "acme/manager:"+path+": created (commit ") {
		t.Fatalf("create: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(read(), `expires_at     = "2026-11-30T05:00:00Z"`) {
		t.Fatalf("file in the repository:\n%s", read())
	}
	r = run(t, root, append([]string{"env", "extend", "--name", "qa-checkout", "--ttl", "72h", "--now", "2026-11-29T05:00:00Z"}, repoArgs...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, ": updated (commit ") || !strings.Contains(read(), `expires_at     = "2026-12-02T05:00:00Z"`) {
		t.Fatalf("extend: exit %d stdout %q stderr %q\n%s", r.Code, r.Stdout, r.Stderr, read())
	}
	r = run(t, root, append([]string{"env", "delete", "--name", "qa-checkout"}, repoArgs...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, ": deleted (commit ") || read() != "" {
		t.Fatalf("delete: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// A token that may not write: exit 1, the API's refusal named.
	t.Setenv("GITHUB_TOKEN", "wrong")
	r = run(t, root, append([]string{"env", "create", "--name", "qa-checkout", "--code-version", "latest", "--infra-branch", "main"}, repoArgs...)...)
	if r.Code != 1 || read() != "" {
		t.Fatalf("bad token: exit %d stderr %q", r.Code, r.Stderr)
	}
}
