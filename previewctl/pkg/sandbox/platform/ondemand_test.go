package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/ondemand"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/state"
)

// controlPlane is a Platform with only what the on-demand endpoints use:
// the git host (real git, its contents API on loopback) with main holding
// the real template, and the platform's GitHub client. The data plane and
// Spacelift stand-in are left out, so these tests do not depend on them.
func controlPlane(t *testing.T) (*Platform, *pushes) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	host, err := githost.New(ctx, dir, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	if err := host.CreateRepo(ctx, DefaultOwner, DefaultRepo); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "manager", "hello-service", "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.CommitFiles(ctx, DefaultOwner, DefaultRepo, DefaultBranch, "", map[string][]byte{
		"manager/hello-service/template/variables.tf":     tmpl,
		"manager/hello-service/environments/variables.tf": []byte("variable \"shared\" {\n  type = any\n}\n"),
	}, "seed"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(host.Handler())
	t.Cleanup(srv.Close)
	gh, err := github.NewClient(srv.Client()).WithEnterpriseURLs(srv.URL+githost.APIPrefix, srv.URL+githost.APIPrefix)
	if err != nil {
		t.Fatal(err)
	}
	p := &Platform{
		cfg: Config{Owner: DefaultOwner, Repo: DefaultRepo, Service: DefaultService,
			Sandbox: sandbox.Config{DataDir: dir}, Log: slog.New(slog.DiscardHandler)},
		Git: host,
		gh:  gh,
	}
	ps := &pushes{}
	t.Cleanup(host.Subscribe(func(ev githost.Event) {
		if ev.Type == githost.EventPush && ev.Push != nil {
			ps.add(ev.Push.Branch, ev.Push.Files)
		}
	}))
	return p, ps
}

// pushes records the pushes the git host announces (what the Spacelift
// stand-in reacts to).
type pushes struct {
	mu    sync.Mutex
	files []string
}

func (p *pushes) add(branch string, files []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range files {
		p.files = append(p.files, branch+":"+f)
	}
}

func (p *pushes) saw(want string) bool {
	for range 100 {
		p.mu.Lock()
		ok := slices.Contains(p.files, want)
		p.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

const odPath = "manager/hello-service/environments/ondemand-qa-checkout-o6ef4836.tf"

func onMain(t *testing.T, p *Platform) (envfile.Environment, bool) {
	t.Helper()
	f, err := p.Git.ReadFile(context.Background(), DefaultOwner, DefaultRepo, DefaultBranch, odPath)
	if err != nil {
		return envfile.Environment{}, false
	}
	e, err := envfile.Parse(odPath, f.Content)
	if err != nil {
		t.Fatal(err)
	}
	return e, true
}

// TestOnDemandOnGitHost: create, extend, list and delete commit to main
// through the contents API, as the CI steps write PR files.
func TestOnDemandOnGitHost(t *testing.T) {
	ctx := context.Background()
	p, ps := controlPlane(t)

	v, err := p.CreateOnDemand(ctx, OnDemandRequest{Name: "qa-checkout", TTL: "48h"})
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != "o6ef4836" || v.CodeVersion != "latest" || v.InfraBranch != DefaultBranch || !strings.HasPrefix(v.Op, "created (commit ") {
		t.Fatalf("create = %+v", v)
	}
	e, ok := onMain(t, p)
	if !ok || !e.Equal(v.Environment) || e.ExpiresAt.Sub(e.CreatedAt) != 48*time.Hour {
		t.Fatalf("on main: %+v %v", e, ok)
	}
	if !ps.saw(DefaultBranch + ":" + odPath) {
		t.Errorf("no push of %s announced: %v", odPath, ps.files)
	}
	if _, err := p.CreateOnDemand(ctx, OnDemandRequest{Name: "qa-checkout"}); !errors.Is(err, ondemand.ErrExists) {
		t.Fatalf("second create: %v", err)
	}

	list, err := p.OnDemand(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "qa-checkout" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	v, err = p.ExtendOnDemand(ctx, "qa-checkout", 72*time.Hour)
	if err != nil || !strings.HasPrefix(v.Op, "updated (commit ") {
		t.Fatalf("extend = %+v, %v", v, err)
	}
	if e2, _ := onMain(t, p); !e2.CreatedAt.Equal(e.CreatedAt) || e2.ExpiresAt.Sub(time.Now()) < 71*time.Hour {
		t.Fatalf("extended: %+v", e2)
	}
	if _, err := p.ExtendOnDemand(ctx, "qa-nothing", time.Hour); !errors.Is(err, ondemand.ErrNotFound) {
		t.Fatalf("extend unknown: %v", err)
	}

	v, err = p.DeleteOnDemand(ctx, "qa-checkout")
	if err != nil || !strings.HasPrefix(v.Op, "deleted (commit ") {
		t.Fatalf("delete = %+v, %v", v, err)
	}
	if _, ok := onMain(t, p); ok {
		t.Fatal("file still on main")
	}
	if v, err := p.DeleteOnDemand(ctx, "qa-checkout"); err != nil || v.Op != "absent" {
		t.Fatalf("second delete = %+v, %v", v, err)
	}
	if list, err := p.OnDemand(ctx); err != nil || len(list) != 0 {
		t.Fatalf("list after delete = %+v, %v", list, err)
	}
}

// TestOnDemandAPI: the endpoints over HTTP, on the same control plane. Bad
// input is a 400 naming the field, and nothing is committed.
func TestOnDemandAPI(t *testing.T) {
	ctx := context.Background()
	p, _ := controlPlane(t)
	mux := http.NewServeMux()
	MountOnDemand(mux.Handle, p)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	head := func() string {
		h, err := p.Git.Head(ctx, DefaultOwner, DefaultRepo, DefaultBranch)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := head()
	for _, tc := range []struct {
		method, path, body, want string
	}{
		{"POST", "/api/ondemand", `{"name":"QA-Checkout"}`, `invalid name \"QA-Checkout\": must be lowercase`},
		{"POST", "/api/ondemand", `{"name":"` + strings.Repeat("a", 200) + `"}`, `longer than 40 characters`},
		{"POST", "/api/ondemand", `{"name":"../x"}`, `invalid name \"../x\"`},
		{"POST", "/api/ondemand", `{"name":"${x}"}`, `invalid name \"${x}\"`},
		{"POST", "/api/ondemand", `{"name":"qa-x","code_version":"abc"}`, `invalid code-version \"abc\"`},
		{"POST", "/api/ondemand", `{"name":"qa-x","infra_branch":"a..b"}`, `invalid infra-branch \"a..b\"`},
		{"POST", "/api/ondemand", `{"name":"qa-x","ttl":"9999h"}`, `invalid ttl \"9999h0m0s\": must be at most 2160h (90 days)`},
		{"POST", "/api/ondemand", `{"name":"qa-x","ttl":"soon"}`, `invalid ttl \"soon\"`},
		{"POST", "/api/ondemand", `{"name":"qa-x","extra":1}`, `unknown field`},
		{"POST", "/api/ondemand/QA/extend", `{"ttl":"1h"}`, `invalid name \"QA\"`},
		{"POST", "/api/ondemand/qa-x/extend", `{"ttl":"0s"}`, `invalid ttl \"0s\": must be positive`},
		{"DELETE", "/api/ondemand/x%2F..", ``, `invalid name \"x/..\"`},
	} {
		code, body := call(tc.method, tc.path, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s, want 400 with %q", tc.method, tc.path, tc.body, code, body, tc.want)
		}
	}
	if head() != before {
		t.Fatal("refused requests committed")
	}

	code, body := call("POST", "/api/ondemand", `{"name":"qa-checkout","ttl":"24h"}`)
	var v OnDemandView
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &v) != nil || v.ID != "o6ef4836" || v.Kind != envfile.KindOnDemand {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := call("POST", "/api/ondemand", `{"name":"qa-checkout"}`); code != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Errorf("second create: %d %s", code, body)
	}
	if code, body := call("POST", "/api/ondemand/qa-nothing/extend", `{"ttl":"1h"}`); code != http.StatusNotFound || !strings.Contains(body, "no such on-demand environment") {
		t.Errorf("extend unknown: %d %s", code, body)
	}
	if code, body := call("POST", "/api/ondemand/qa-checkout/extend", `{"ttl":"72h"}`); code != http.StatusOK || !strings.Contains(body, `"op":"updated`) {
		t.Errorf("extend: %d %s", code, body)
	}
	var list []OnDemandView
	if code, body := call("GET", "/api/ondemand", ""); code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := call("DELETE", "/api/ondemand/qa-checkout", ""); code != http.StatusOK || !strings.Contains(body, `"op":"deleted`) {
		t.Errorf("delete: %d %s", code, body)
	}
	if code, body := call("GET", "/api/ondemand", ""); code != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Errorf("list after delete: %d %s", code, body)
	}
}
