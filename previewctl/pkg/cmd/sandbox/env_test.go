package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/ondemand"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// TestEnvInputRefused: bad input exits 2 with one line naming it, before
// anything is sent (the address is a closed port).
func TestEnvInputRefused(t *testing.T) {
	closed := "127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"env", "create", "--name", "QA-Checkout"}, `invalid name "QA-Checkout": must be lowercase`},
		{[]string{"env", "create", "--name", strings.Repeat("a", 200)}, `longer than 40 characters`},
		{[]string{"env", "create", "--name", "../x"}, `invalid name "../x"`},
		{[]string{"env", "create", "--name", "${x}"}, `invalid name "${x}"`},
		{[]string{"env", "create"}, `invalid name "": must not be empty`},
		{[]string{"env", "create", "--name", "qa-x", "--code-version", "abc"}, `invalid code-version "abc"`},
		{[]string{"env", "create", "--name", "qa-x", "--infra-branch", "a..b"}, `invalid infra-branch "a..b"`},
		{[]string{"env", "create", "--name", "qa-x", "--ttl", "2161h"}, `invalid argument "2161h" for "--ttl" flag`},
		{[]string{"env", "extend", "--name", "../x"}, `invalid name "../x"`},
		{[]string{"env", "extend", "--name", "qa-x", "--ttl", "0s"}, `invalid argument "0s" for "--ttl" flag: must be positive`},
		{[]string{"env", "delete", "--name", "${x}"}, `invalid name "${x}"`},
		{[]string{"env", "ls", "x"}, "takes no arguments"},
		{[]string{"env", "ls", "--addr", "10.0.0.1:8080"}, "--addr"},
	} {
		args := append([]string{"sandbox"}, tc.args...)
		if !strings.Contains(strings.Join(args, " "), "--addr") {
			args = append(args, "--addr", closed)
		}
		code, out, errOut := run(t, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line with %q", args, code, out, errOut, tc.want)
		}
	}
}

// fakeOnDemand keeps environments in memory behind the real endpoints.
type fakeOnDemand struct {
	mu   sync.Mutex
	envs map[string]envfile.Environment
}

func (f *fakeOnDemand) CreateOnDemand(_ context.Context, req platform.OnDemandRequest) (platform.OnDemandView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ttl, _ := time.ParseDuration(req.TTL)
	e, err := envfile.NewOnDemand("hello-service", req.Name, req.CodeVersion, req.InfraBranch, time.Now(), ttl)
	if err != nil {
		return platform.OnDemandView{}, err
	}
	if _, ok := f.envs[req.Name]; ok {
		return platform.OnDemandView{}, fmt.Errorf("%w: %s", ondemand.ErrExists, req.Name)
	}
	f.envs[req.Name] = e
	return platform.OnDemandView{Environment: e, Op: "created (commit abc1234, 1 attempt(s))", URL: "http://" + e.ID + ".hello-service.localhost/"}, nil
}

func (f *fakeOnDemand) ExtendOnDemand(_ context.Context, name string, ttl time.Duration) (platform.OnDemandView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.envs[name]
	if !ok {
		return platform.OnDemandView{}, fmt.Errorf("%w: %s", ondemand.ErrNotFound, name)
	}
	e = e.Renewed(time.Now(), ttl)
	f.envs[name] = e
	return platform.OnDemandView{Environment: e, Op: "updated"}, nil
}

func (f *fakeOnDemand) DeleteOnDemand(_ context.Context, name string) (platform.OnDemandView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.envs[name]
	delete(f.envs, name)
	if !ok {
		return platform.OnDemandView{Environment: envfile.Environment{Kind: envfile.KindOnDemand, Name: name, ID: envfile.OnDemandID(name)}, Op: "absent"}, nil
	}
	return platform.OnDemandView{Environment: e, Op: "deleted"}, nil
}

func (f *fakeOnDemand) OnDemand(context.Context) ([]platform.OnDemandView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []platform.OnDemandView{}
	for _, e := range f.envs {
		out = append(out, platform.OnDemandView{Environment: e, Serving: "latest"})
	}
	return out, nil
}

// TestEnvAgainstAPI: the commands against the sandbox's real on-demand
// endpoints (platform.MountOnDemand) in front of an in-memory fake.
func TestEnvAgainstAPI(t *testing.T) {
	mux := http.NewServeMux()
	platform.MountOnDemand(mux.Handle, &fakeOnDemand{envs: map[string]envfile.Environment{}})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	env := func(args ...string) (int, string, string) {
		return run(t, append(append([]string{"sandbox", "env"}, args...), "--addr", addr)...)
	}

	code, out, errOut := env("create", "--name", "qa-checkout", "--ttl", "24h")
	if code != 0 || !strings.Contains(out, "on-demand environment qa-checkout (o6ef4836) created (commit abc1234, 1 attempt(s)): code_version latest, infra branch main") {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := env("create", "--name", "qa-checkout"); code != 1 || !strings.Contains(errOut, "on-demand environment already exists") {
		t.Errorf("second create: %d %q", code, errOut)
	}
	if code, out, errOut := env("extend", "--name", "qa-checkout", "--ttl", "72h"); code != 0 || !strings.Contains(out, "qa-checkout (o6ef4836) updated: expires ") {
		t.Errorf("extend: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := env("extend", "--name", "qa-nothing"); code != 1 || !strings.Contains(errOut, "no such on-demand environment: qa-nothing") {
		t.Errorf("extend unknown: %d %q", code, errOut)
	}
	code, out, _ = env("ls", "--json")
	var list []platform.OnDemandView
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "qa-checkout" || list[0].Serving != "latest" {
		t.Errorf("ls --json: %d %s", code, out)
	}
	if code, out, _ := env("ls"); code != 0 || !strings.Contains(out, "qa-checkout  o6ef4836  code latest, infra main, expires in 7") {
		t.Errorf("ls: %d %q", code, out)
	}
	if code, out, _ := env("delete", "--name", "qa-checkout"); code != 0 || !strings.Contains(out, "qa-checkout (o6ef4836) deleted") {
		t.Errorf("delete: %d %q", code, out)
	}
	if code, out, _ := env("delete", "--name", "qa-checkout"); code != 0 || !strings.Contains(out, "nothing to delete") {
		t.Errorf("second delete: %d %q", code, out)
	}
	if code, out, _ := env("ls"); code != 0 || strings.TrimSpace(out) != "no on-demand environments" {
		t.Errorf("empty ls: %d %q", code, out)
	}
}
