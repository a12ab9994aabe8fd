package main_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"preview-environments/update-file-action/contentsapi"
)

const token = "ghs_e2eSecretToken_9f8e7d6c"

var binary string

// TestMain builds the real program once; the tests run it as the composite
// action's step does, with INPUT_* variables and a GITHUB_OUTPUT file.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "update-file-action-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "update-file-action")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goBin, "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("building the action's program: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type run struct {
	code    int
	stdout  string
	stderr  string
	outputs map[string]string
	rawOut  string
}

// parseOutputs reads GITHUB_OUTPUT's "name<<DELIM\nvalue\nDELIM" records.
func parseOutputs(t *testing.T, raw string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(raw, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not name<<delimiter", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("GITHUB_OUTPUT record %s is not terminated", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func runAction(t *testing.T, inputs map[string]string, withOutputFile bool) run {
	t.Helper()
	outFile := filepath.Join(t.TempDir(), "github_output")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if withOutputFile {
		env = append(env, "GITHUB_OUTPUT="+outFile)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	cmd := exec.CommandContext(context.Background(), binary)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String(), outputs: map[string]string{}}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(outFile); err == nil {
		r.rawOut = string(b)
		r.outputs = parseOutputs(t, r.rawOut)
	}
	return r
}

func TestActionEndToEnd(t *testing.T) {
	store := contentsapi.NewMemoryStore()
	if err := store.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(contentsapi.NewServer(store, contentsapi.WithToken(token),
		contentsapi.WithFaults(contentsapi.FirstN(1, func(r *http.Request) bool {
			return r.URL.Path == "/api/v3/repos/acme/manager/contents/retried.tf" && contentsapi.IsWrite(r)
		}, contentsapi.ServerError(502)))))
	defer srv.Close()
	contentFile := filepath.Join(t.TempDir(), "env.tf")
	if err := os.WriteFile(contentFile, []byte("from = \"file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const path = "hello-service/environments/acme-svc-1-abcd1234.tf"
	base := func(kv ...string) map[string]string {
		in := map[string]string{
			"github-token": token, "owner": "acme", "repository": "manager", "target-file-path": path,
			"commit-message": "preview: env", "api-url": srv.URL, "branch": "main",
		}
		for i := 0; i+1 < len(kv); i += 2 {
			in[kv[i]] = kv[i+1]
		}
		return in
	}
	head := func() string {
		h, err := store.Head(context.Background(), "acme", "manager", "main")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// In order: each step starts from the state the previous one left.
	steps := []struct {
		name      string
		inputs    map[string]string
		noOutFile bool
		wantOp    string
		wantFile  *string // content after a successful step; nil = absent
		commit    bool
		wantErr   string // substring of the ::error line; exit 1
	}{
		{name: "create", inputs: base("content", "a = 1\n"), wantOp: "created", wantFile: ptr("a = 1\n"), commit: true},
		{name: "identical content makes no commit", inputs: base("content", "a = 1\n"), wantOp: "unchanged", wantFile: ptr("a = 1\n")},
		{name: "update from content-file, owner/name repository, default branch", inputs: base("content-file", contentFile, "repository", "acme/manager", "branch", ""),
			wantOp: "updated", wantFile: ptr("from = \"file\"\n"), commit: true},
		{name: "delete", inputs: base("delete", "true"), wantOp: "deleted", commit: true},
		{name: "delete again is absent", inputs: base("delete", "true", "max-attempts", "2"), wantOp: "absent"},
		{name: "retried after a 502", inputs: base("content", "r", "target-file-path", "retried.tf"), wantOp: "created", commit: true},
		{name: "bad token", inputs: base("content", "x", "github-token", "ghs_wrong_token"), wantErr: "bad credentials"},
		{name: "no such repository", inputs: base("content", "x", "repository", "nope"), wantErr: "no such repository"},
		{name: "no such branch", inputs: base("content", "x", "branch", "gone"), wantErr: "no such branch"},
		{name: "content and content-file", inputs: base("content", "x", "content-file", contentFile), wantErr: "exclusive"},
		{name: "no content", inputs: base(), wantErr: "content or content-file is required"},
		{name: "delete with content", inputs: base("delete", "true", "content", "x"), wantErr: "must be empty when delete"},
		{name: "delete not a bool", inputs: base("delete", "yes please"), wantErr: "input delete"},
		{name: "bad max-attempts", inputs: base("content", "x", "max-attempts", "0"), wantErr: "max-attempts"},
		{name: "path escapes", inputs: base("content", "x", "target-file-path", "../secrets.tf"), wantErr: "../secrets.tf"},
		{name: "missing content-file", inputs: base("content-file", "/nonexistent/file"), wantErr: "content-file"},
		{name: "plain http off loopback", inputs: base("content", "x", "api-url", "http://example.com"), wantErr: "only allowed to loopback"},
		{name: "empty token", inputs: base("content", "x", "github-token", ""), wantErr: "github-token is empty"},
		{name: "no GITHUB_OUTPUT", inputs: base("content", "x"), noOutFile: true, wantErr: "GITHUB_OUTPUT"},
		{name: ".GIT segment", inputs: base("content", "x", "target-file-path", "a/.GIT/config"), wantErr: `target file path "a/.GIT/config" has a ".GIT" segment`},
		{name: "repository quoted as given", inputs: base("content", "x", "repository", "acme/"), wantErr: `input repository "acme/": `},
		{name: "repository ending in .git", inputs: base("content", "x", "repository", "acme/manager.git"), wantErr: `input repository "acme/manager.git": invalid request: repository "manager.git" is not a GitHub repository name: it ends in ".git"`},
		{name: "repository of another owner", inputs: base("content", "x", "repository", "other/manager"), wantErr: `input repository "other/manager" names owner "other" but input owner is "acme"`},
		{name: "owner with consecutive hyphens", inputs: base("content", "x", "owner", "ac--me"), wantErr: `owner "ac--me" is not a GitHub user or organization name`},
		// Accepted as a name, so the run reaches the API, which knows no such repository.
		{name: "enterprise managed user owner", inputs: base("content", "x", "owner", "octocat_acme"), wantErr: "no such repository"},
		{name: "plain http to a host named like loopback", inputs: base("content", "x", "api-url", "http://localhost.example.com"), wantErr: "only allowed to loopback"},
		// Last: it lands, and the steps above rely on the file being absent.
		{name: "LOCALHOST is loopback", inputs: base("content", "x\n", "api-url", strings.Replace(srv.URL, "127.0.0.1", "LOCALHOST", 1)),
			wantOp: "created", wantFile: ptr("x\n"), commit: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := head()
			r := runAction(t, st.inputs, !st.noOutFile)
			tok := st.inputs["github-token"]
			for _, stream := range []string{r.stdout, r.stderr, r.rawOut} {
				for _, line := range strings.Split(stream, "\n") {
					if tok != "" && strings.Contains(line, tok) && line != "::add-mask::"+tok {
						t.Errorf("token printed outside the add-mask command: %q", line)
					}
				}
			}
			if tok != "" && !strings.HasPrefix(r.stdout, "::add-mask::"+tok+"\n") {
				t.Errorf("the token is not masked first; stdout:\n%s", r.stdout)
			}
			if st.wantErr != "" {
				if r.code != 1 || !strings.Contains(r.stdout, "::error::") || !strings.Contains(r.stdout, st.wantErr) {
					t.Fatalf("exit %d, want 1 with an ::error:: saying %q; stdout:\n%s\nstderr:\n%s", r.code, st.wantErr, r.stdout, r.stderr)
				}
				if r.rawOut != "" || head() != before {
					t.Fatalf("a failed run left outputs %q or moved the branch", r.rawOut)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			after := head()
			if got := r.outputs["operation"]; got != st.wantOp {
				t.Fatalf("operation %q, want %q (outputs %v)", got, st.wantOp, r.outputs)
			}
			if st.commit != (after != before) || (st.commit && r.outputs["commit-sha"] != after) || (!st.commit && r.outputs["commit-sha"] != "") {
				t.Fatalf("commit-sha %q, branch %s -> %s, commit expected %v", r.outputs["commit-sha"], before, after, st.commit)
			}
			f, err := store.ReadFile(context.Background(), "acme", "manager", "main", path)
			switch {
			case st.name == "retried after a 502":
				if r.outputs["attempts"] != "2" || !strings.Contains(r.stdout, "::warning::") {
					t.Fatalf("attempts %q, stdout:\n%s", r.outputs["attempts"], r.stdout)
				}
			case st.wantFile == nil:
				if err == nil || r.outputs["file-sha"] != "" {
					t.Fatalf("file still there (%v) or file-sha %q", err, r.outputs["file-sha"])
				}
			case err != nil || string(f.Content) != *st.wantFile || r.outputs["file-sha"] != f.SHA:
				t.Fatalf("file %q sha %s, output file-sha %q, want %q (%v)", f.Content, f.SHA, r.outputs["file-sha"], *st.wantFile, err)
			}
		})
	}
}

func ptr(s string) *string { return &s }
