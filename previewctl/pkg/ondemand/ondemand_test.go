package ondemand_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/gc"
	"preview-environments/previewctl/pkg/ondemand"
	"preview-environments/update-file-action/contentsapi"
)

const token = "ghs_ondemandtest0123456789"

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

// managerDir is a manager checkout with the real template's variables and
// one PR environment.
func managerDir(t *testing.T) (string, envfile.Environment) {
	t.Helper()
	mdir := t.TempDir()
	tdir := envfile.TemplateDir(mdir, "hello-service")
	edir := envfile.EnvironmentsDir(mdir, "hello-service")
	for _, d := range []string{tdir, edir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "manager", "hello-service", "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	pr, err := envfile.New("hello-service", "acme", "shop", 42, "latest", "main", t0, envfile.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envfile.WriteAtomic(edir, pr); err != nil {
		t.Fatal(err)
	}
	return mdir, pr
}

func files(t *testing.T, dir string) []string {
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

// TestLifecycleLocal: create with a TTL, extend, expire through gc with a
// fake clock (with the warning first), and delete.
func TestLifecycleLocal(t *testing.T) {
	ctx := context.Background()
	mdir, pr := managerDir(t)
	m := ondemand.Manager{Dir: mdir, Store: ondemand.LocalStore{ManagerDir: mdir}}
	edir := envfile.EnvironmentsDir(mdir, "hello-service")

	res, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-checkout", CodeVersion: "latest", InfraBranch: "main", TTL: 48 * time.Hour}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Op != "created" || res.Env.ID != "o6ef4836" || !res.Env.ExpiresAt.Equal(t0.Add(48*time.Hour)) ||
		res.Where != filepath.Join(edir, "ondemand-qa-checkout-o6ef4836.tf") {
		t.Fatalf("create = %+v", res)
	}
	if _, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-checkout", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t0); !errors.Is(err, ondemand.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	envs, errs := ondemand.List(mdir, "")
	if len(errs) != 0 || len(envs) != 1 || !envs[0].Equal(res.Env) {
		t.Fatalf("List = %+v %v", envs, errs)
	}

	// Extend: the TTL counts from now; created_at and the rest are kept.
	t1 := t0.Add(40 * time.Hour)
	ext, err := m.Extend(ctx, "hello-service", "qa-checkout", 24*time.Hour, t1)
	if err != nil {
		t.Fatal(err)
	}
	if ext.Op != "updated" || !ext.Env.ExpiresAt.Equal(t1.Add(24*time.Hour)) || !ext.Env.CreatedAt.Equal(t0) {
		t.Fatalf("extend = %+v", ext)
	}
	if _, err := m.Extend(ctx, "hello-service", "qa-nothing", time.Hour, t1); !errors.Is(err, ondemand.ErrNotFound) {
		t.Fatalf("extend of an unknown name: %v", err)
	}

	// gc, 10 hours before the new expiry: kept, with a warning.
	run := func(now time.Time) (gc.Report, string) {
		all, broken := envfile.ReadManager(mdir, "")
		var progress bytes.Buffer
		rep, err := gc.Run(ctx, all, broken, gc.Options{Now: now, Deleter: gc.LocalDeleter{ManagerDir: mdir}, WarnWithin: 24 * time.Hour, Progress: &progress})
		if err != nil {
			t.Fatalf("gc at %s: %v\n%s", now, err, progress.String())
		}
		return rep, progress.String()
	}
	rep, out := run(t1.Add(14 * time.Hour))
	if len(rep.Deleted) != 0 || len(rep.Expiring) != 1 || !strings.Contains(out, "gc: warning: on-demand environment qa-checkout (o6ef4836) expires in 10h0m") {
		t.Fatalf("gc before expiry: %+v\n%s", rep, out)
	}
	// gc past it: deleted; the PR environment (TTL 7 days, no lookup) stays.
	rep, out = run(t1.Add(24 * time.Hour))
	if len(rep.Deleted) != 1 || rep.Deleted[0].Name != "qa-checkout" {
		t.Fatalf("gc after expiry: %+v\n%s", rep, out)
	}
	if got := files(t, edir); len(got) != 1 || got[0] != envfile.FileName(pr) {
		t.Fatalf("files after gc: %v", got)
	}

	// Create again, then delete; deleting again is not an error.
	if _, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-checkout", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t1); err != nil {
		t.Fatal(err)
	}
	del, err := m.Delete(ctx, "hello-service", "qa-checkout")
	if err != nil || del.Op != "deleted" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if del, err := m.Delete(ctx, "hello-service", "qa-checkout"); err != nil || del.Op != "absent" {
		t.Fatalf("second delete = %+v, %v", del, err)
	}
	if got := files(t, edir); len(got) != 1 {
		t.Fatalf("files after delete: %v", got)
	}
}

// TestRefusedWritesNothing: a bad name (or any bad input) is refused as a
// FieldError naming it, and nothing is read or written.
func TestRefusedWritesNothing(t *testing.T) {
	ctx := context.Background()
	mdir, _ := managerDir(t)
	edir := envfile.EnvironmentsDir(mdir, "hello-service")
	before := files(t, edir)
	m := ondemand.Manager{Dir: mdir, Store: refuseAll{t}}
	for _, name := range []string{"QA-Checkout", strings.Repeat("a", 200), "../x", "${x}"} {
		_, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: name, CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t0)
		var fe *envfile.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" || !strings.HasPrefix(err.Error(), "invalid name ") {
			t.Errorf("create %q: %v", name, err)
		}
		if _, err := m.Extend(ctx, "hello-service", name, time.Hour, t0); !errors.As(err, &fe) || fe.Field != "name" {
			t.Errorf("extend %q: %v", name, err)
		}
		if _, err := m.Delete(ctx, "hello-service", name); !errors.As(err, &fe) || fe.Field != "name" {
			t.Errorf("delete %q: %v", name, err)
		}
	}
	for _, req := range []ondemand.CreateRequest{
		{Service: "hello-service", Name: "qa-x", CodeVersion: "${x}", InfraBranch: "main", TTL: time.Hour},
		{Service: "hello-service", Name: "qa-x", CodeVersion: "latest", InfraBranch: "a..b", TTL: time.Hour},
		{Service: "hello-service", Name: "qa-x", CodeVersion: "latest", InfraBranch: "main", TTL: 0},
		{Service: "../x", Name: "qa-x", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour},
	} {
		var fe *envfile.FieldError
		if _, err := m.Create(ctx, req, t0); !errors.As(err, &fe) {
			t.Errorf("create %+v: %v", req, err)
		}
	}
	if _, err := m.Extend(ctx, "hello-service", "qa-x", 91*24*time.Hour, t0); err == nil || !strings.HasPrefix(err.Error(), `invalid ttl "2184h0m0s"`) {
		t.Errorf("extend past MaxTTL: %v", err)
	}
	if after := files(t, edir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("files changed: %v -> %v", before, after)
	}
}

// refuseAll fails the test on any store access.
type refuseAll struct{ t *testing.T }

func (r refuseAll) Get(context.Context, envfile.Environment) ([]byte, bool, error) {
	r.t.Error("store read")
	return nil, false, nil
}
func (r refuseAll) Put(context.Context, envfile.Environment, string) (string, error) {
	r.t.Error("store write")
	return "", nil
}
func (r refuseAll) Remove(context.Context, envfile.Environment, string) (string, error) {
	r.t.Error("store delete")
	return "", nil
}
func (r refuseAll) Where(e envfile.Environment) string { return envfile.FileName(e) }

// TestTemplateAndCollisions: the file goes through the same checks as a
// PR's: a manager directory without the service's template is refused.
func TestTemplateAndCollisions(t *testing.T) {
	ctx := context.Background()
	mdir, _ := managerDir(t)
	m := ondemand.Manager{Dir: mdir, Store: ondemand.LocalStore{ManagerDir: mdir}}
	_, err := m.Create(ctx, ondemand.CreateRequest{Service: "other-service", Name: "qa-x", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t0)
	if !errors.Is(err, envfile.ErrNoTemplate) {
		t.Errorf("no template: %v", err)
	}
	// A forged file claiming qa-x's ID for another name.
	edir := envfile.EnvironmentsDir(mdir, "hello-service")
	id := envfile.OnDemandID("qa-x")
	forged := "module \"env_" + id + "\" {\n  environment_id = \"" + id + "\"\n  kind = \"ondemand\"\n  name = \"evil\"\n}\n"
	if err := os.WriteFile(filepath.Join(edir, "forged.tf"), []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-x", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t0)
	if !errors.Is(err, envfile.ErrCollision) {
		t.Errorf("forged claim: %v", err)
	}
	if _, err := os.Stat(filepath.Join(edir, "ondemand-qa-x-"+id+".tf")); !os.IsNotExist(err) {
		t.Errorf("refused file was written: %v", err)
	}
}

// TestLifecycleRepo: the same through the contents API (the
// update-file-action's test server), as the workflow runs it.
func TestLifecycleRepo(t *testing.T) {
	ctx := context.Background()
	store := contentsapi.NewMemoryStore()
	if err := store.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(contentsapi.NewServer(store, contentsapi.WithToken(token)))
	t.Cleanup(srv.Close)
	client, err := github.NewClient(srv.Client()).WithAuthToken(token).WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mdir, _ := managerDir(t)
	rs := ondemand.RepoStore{Client: client, Owner: "acme", Repo: "manager", PathPrefix: "manager"}
	m := ondemand.Manager{Dir: mdir, Store: rs}
	read := func() (envfile.Environment, bool) {
		f, err := store.ReadFile(ctx, "acme", "manager", "main", "manager/hello-service/environments/ondemand-qa-checkout-o6ef4836.tf")
		if errors.Is(err, contentsapi.ErrNotFound) {
			return envfile.Environment{}, false
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := envfile.Parse("ondemand-qa-checkout-o6ef4836.tf", f.Content)
		if err != nil {
			t.Fatal(err)
		}
		return e, true
	}

	res, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-checkout", CodeVersion: "latest", InfraBranch: "main", TTL: 48 * time.Hour}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Op, "created (commit ") || res.Where != "acme/manager:manager/hello-service/environments/ondemand-qa-checkout-o6ef4836.tf" {
		t.Fatalf("create = %+v", res)
	}
	if e, ok := read(); !ok || !e.Equal(res.Env) {
		t.Fatalf("in the repository: %+v %v", e, ok)
	}
	// The checkout is stale (it has no file); the repository is asked.
	if _, err := m.Create(ctx, ondemand.CreateRequest{Service: "hello-service", Name: "qa-checkout", CodeVersion: "latest", InfraBranch: "main", TTL: time.Hour}, t0); !errors.Is(err, ondemand.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	ext, err := m.Extend(ctx, "hello-service", "qa-checkout", 72*time.Hour, t0.Add(time.Hour))
	if err != nil || !strings.HasPrefix(ext.Op, "updated (commit ") {
		t.Fatalf("extend = %+v, %v", ext, err)
	}
	if e, ok := read(); !ok || !e.ExpiresAt.Equal(t0.Add(73*time.Hour)) || !e.CreatedAt.Equal(t0) {
		t.Fatalf("extended file: %+v", e)
	}
	del, err := m.Delete(ctx, "hello-service", "qa-checkout")
	if err != nil || !strings.HasPrefix(del.Op, "deleted (commit ") {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if _, ok := read(); ok {
		t.Fatal("file still in the repository")
	}
	if del, err := m.Delete(ctx, "hello-service", "qa-checkout"); err != nil || del.Op != "absent" {
		t.Fatalf("second delete = %+v, %v", del, err)
	}
	if _, err := m.Extend(ctx, "hello-service", "qa-checkout", time.Hour, t0); !errors.Is(err, ondemand.ErrNotFound) {
		t.Fatalf("extend after delete: %v", err)
	}
}
