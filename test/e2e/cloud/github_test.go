package cloud

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"preview-environments/test/e2e"
)

// fakeGitHub answers the REST calls the backend makes the way GitHub
// documents them: 404 {"message":"Not Found"} for unknown refs and files,
// 422 "Reference already exists" / "Reference does not exist", 422 when an
// update omits the sha of an existing file, 409 when the sha is stale, and
// 422 for a PR whose head branch does not exist. It stands in for
// github.com, which cannot be reached from here.
type fakeGitHub struct {
	owner, repo, defaultBranch string

	mu       sync.Mutex
	token    string
	n        int
	branches map[string]string            // branch -> head commit
	files    map[string]map[string]string // commit -> path -> content
	pulls    map[int]map[string]any
}

func newFakeGitHub() *fakeGitHub {
	f := &fakeGitHub{owner: "acme", repo: "scratch", defaultBranch: "main", token: "ghp_test",
		branches: map[string]string{}, files: map[string]map[string]string{}, pulls: map[int]map[string]any{}}
	f.branches["main"] = f.commit("", map[string]string{"service/go.mod": "module preview-environments/service\n"})
	return f
}

func (f *fakeGitHub) commit(parent string, files map[string]string) string {
	f.n++
	sha := fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("commit %d", f.n))))
	m := map[string]string{}
	for k, v := range f.files[parent] {
		m[k] = v
	}
	for k, v := range files {
		m[k] = v
	}
	f.files[sha] = m
	return sha
}

func blob(content string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content))))
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	msg := func(status int, m string) { reply(status, map[string]string{"message": m}) }
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		msg(http.StatusUnauthorized, "Bad credentials")
		return
	}
	prefix := "/api/v3/repos/" + f.owner + "/" + f.repo
	p, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		msg(http.StatusNotFound, "Not Found")
		return
	}
	var body map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			msg(http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	switch {
	case p == "" && r.Method == http.MethodGet:
		reply(200, map[string]any{"full_name": f.owner + "/" + f.repo, "default_branch": f.defaultBranch})
	case strings.HasPrefix(p, "/git/ref/heads/") && r.Method == http.MethodGet:
		b := strings.TrimPrefix(p, "/git/ref/heads/")
		sha, ok := f.branches[b]
		if !ok {
			msg(404, "Not Found")
			return
		}
		reply(200, map[string]any{"ref": "refs/heads/" + b, "object": map[string]any{"sha": sha, "type": "commit"}})
	case p == "/git/refs" && r.Method == http.MethodPost:
		b, ok := strings.CutPrefix(str("ref"), "refs/heads/")
		if !ok {
			msg(422, "Reference update failed")
			return
		}
		if _, exists := f.branches[b]; exists {
			msg(422, "Reference already exists")
			return
		}
		if _, known := f.files[str("sha")]; !known {
			msg(422, "Object does not exist")
			return
		}
		f.branches[b] = str("sha")
		reply(201, map[string]any{"ref": str("ref"), "object": map[string]any{"sha": str("sha"), "type": "commit"}})
	case strings.HasPrefix(p, "/git/refs/heads/") && r.Method == http.MethodDelete:
		b := strings.TrimPrefix(p, "/git/refs/heads/")
		if _, ok := f.branches[b]; !ok {
			msg(422, "Reference does not exist")
			return
		}
		delete(f.branches, b)
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(p, "/contents/"):
		path := strings.TrimPrefix(p, "/contents/")
		switch r.Method {
		case http.MethodGet:
			ref := r.URL.Query().Get("ref")
			if ref == "" {
				ref = f.defaultBranch
			}
			head, ok := f.branches[ref]
			if !ok {
				msg(404, "No commit found for the ref "+ref)
				return
			}
			c, ok := f.files[head][path]
			if !ok {
				msg(404, "Not Found")
				return
			}
			reply(200, map[string]any{"type": "file", "path": path, "sha": blob(c), "encoding": "base64", "content": base64.StdEncoding.EncodeToString([]byte(c))})
		case http.MethodPut:
			b := str("branch")
			head, ok := f.branches[b]
			if !ok {
				msg(404, "Branch "+b+" not found")
				return
			}
			raw, err := base64.StdEncoding.DecodeString(str("content"))
			if err != nil {
				msg(422, "content is not valid Base64")
				return
			}
			cur, exists := f.files[head][path]
			switch {
			case exists && str("sha") == "":
				msg(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
				return
			case exists && str("sha") != blob(cur):
				msg(409, path+" does not match "+str("sha"))
				return
			}
			sha := f.commit(head, map[string]string{path: string(raw)})
			f.branches[b] = sha
			status := 201
			if exists {
				status = 200
			}
			reply(status, map[string]any{"content": map[string]any{"path": path, "sha": blob(string(raw))}, "commit": map[string]any{"sha": sha}})
		default:
			msg(404, "Not Found")
		}
	case p == "/pulls" && r.Method == http.MethodPost:
		head, ok := f.branches[str("head")]
		if !ok || str("title") == "" {
			msg(422, "Validation Failed")
			return
		}
		n := len(f.pulls) + 1
		f.pulls[n] = map[string]any{"number": n, "state": "open", "title": str("title"), "head": map[string]any{"ref": str("head"), "sha": head}, "base": map[string]any{"ref": str("base")}}
		reply(201, f.pulls[n])
	case strings.HasPrefix(p, "/pulls/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(p, "/pulls/"))
		pr, ok := f.pulls[n]
		if !ok {
			msg(404, "Not Found")
			return
		}
		if r.Method == http.MethodPatch {
			if s := str("state"); s == "closed" || s == "open" {
				pr["state"] = s
			}
		}
		reply(200, pr)
	default:
		msg(404, "Not Found")
	}
}

func newTestBackend(t *testing.T, f *fakeGitHub, runID string) (*Backend, string) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	gh, err := newGitHub(f.token, f.owner+"/"+f.repo, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	cfg := Config{GitHubToken: f.token, Repository: f.owner + "/" + f.repo, GitHubAPIURL: srv.URL + "/", PreviewDomain: "hello-service.preview.example.com", Service: "hello-service", ServiceChangeDir: "service/e2e"}
	return &Backend{cfg: cfg, runID: runID, stateDir: dir, gh: gh}, dir
}

func TestBackendGitHubFlow(t *testing.T) {
	f := newFakeGitHub()
	b, dir := newTestBackend(t, f, "Run123")
	ctx := context.Background()

	pr, err := b.OpenPR(ctx, e2e.ServiceChange{Marker: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Number != 1 || pr.Branch != "e2e/Run123" || pr.HeadSHA != f.branches["e2e/Run123"] {
		t.Fatalf("OpenPR = %+v; branch head %s", pr, f.branches["e2e/Run123"])
	}
	if got := f.files[pr.HeadSHA]["service/e2e/Run123.txt"]; got != "m1\n" {
		t.Errorf("committed service file = %q, want the marker", got)
	}
	if _, ok := f.files[pr.HeadSHA]["service/go.mod"]; !ok {
		t.Error("the branch does not start from the default branch's head")
	}
	if pr.EnvironmentID != EnvironmentID("acme", "scratch", 1) {
		t.Errorf("environment ID %s, want the one of acme/scratch#1", pr.EnvironmentID)
	}
	if ep := b.Endpoint(pr); ep.URL != "https://"+pr.EnvironmentID+".hello-service.preview.example.com/" || ep.Host != "" {
		t.Errorf("Endpoint = %+v", ep)
	}
	states, _ := e2e.LoadStates(dir)
	if len(states) != 1 || states[0].PRNumber != 1 || states[0].Branch != "e2e/Run123" {
		t.Fatalf("state after open = %+v, want the branch and PR recorded", states)
	}

	// Push updates the same file (with its sha, else GitHub answers 422).
	sha, err := b.Push(ctx, pr, e2e.ServiceChange{Marker: "m2"})
	if err != nil {
		t.Fatal(err)
	}
	if sha == pr.HeadSHA || sha != f.branches["e2e/Run123"] || f.files[sha]["service/e2e/Run123.txt"] != "m2\n" {
		t.Errorf("Push = %s; branch head %s; content %q", sha, f.branches["e2e/Run123"], f.files[sha]["service/e2e/Run123.txt"])
	}

	if err := b.Close(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if f.pulls[1]["state"] != "closed" {
		t.Errorf("PR state %v after Close", f.pulls[1]["state"])
	}
	if _, ok := f.branches["e2e/Run123"]; ok {
		t.Error("branch still exists after Close")
	}
	if states, _ := e2e.LoadStates(dir); len(states) != 0 {
		t.Errorf("state files left after Close: %+v", states)
	}
	// Twice is fine: cleanup may run after a Close that already happened.
	if err := b.Close(ctx, pr); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBackendOpenPRLeavesStateOnFailure(t *testing.T) {
	f := newFakeGitHub()
	b, dir := newTestBackend(t, f, "Run456")
	f.branches["e2e/Run456"] = f.branches["main"] // someone else's branch: 422 already exists
	if _, err := b.OpenPR(context.Background(), e2e.ServiceChange{Marker: "m"}); err == nil || !strings.Contains(err.Error(), "Reference already exists") {
		t.Fatalf("OpenPR error = %v, want GitHub's 422", err)
	}
	states, _ := e2e.LoadStates(dir)
	if len(states) != 1 || states[0].Branch != "e2e/Run456" {
		t.Fatalf("state = %+v, want the branch recorded before the attempt", states)
	}
}

func TestCleanupState(t *testing.T) {
	f := newFakeGitHub()
	b, dir := newTestBackend(t, f, "Run789")
	ctx := context.Background()
	pr, err := b.OpenPR(ctx, e2e.ServiceChange{Marker: "m"})
	if err != nil {
		t.Fatal(err)
	}
	states, _ := e2e.LoadStates(dir)
	if len(states) != 1 {
		t.Fatalf("states = %+v", states)
	}
	st := states[0]

	other := b.cfg
	other.Repository = "acme/production"
	if err := CleanupState(ctx, other, dir, st); err == nil || !strings.Contains(err.Error(), "not touching it") {
		t.Errorf("CleanupState with another repository = %v, want a refusal", err)
	}
	if f.pulls[pr.Number]["state"] != "open" {
		t.Fatal("a refused cleanup touched the PR")
	}
	bad := st
	bad.Branch = "main"
	if err := CleanupState(ctx, b.cfg, dir, bad); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("CleanupState of branch main = %v, want a refusal", err)
	}
	if _, ok := f.branches["main"]; !ok {
		t.Fatal("cleanup deleted main")
	}
	if f.pulls[pr.Number]["state"] != "open" {
		t.Fatal("a refused cleanup closed the PR")
	}

	if err := CleanupState(ctx, b.cfg, dir, st); err != nil {
		t.Fatal(err)
	}
	if f.pulls[pr.Number]["state"] != "closed" {
		t.Error("PR still open after cleanup")
	}
	if _, ok := f.branches[st.Branch]; ok {
		t.Error("branch still there after cleanup")
	}
	if _, err := os.Stat(filepath.Join(dir, "lifecycle-Run789.json")); !os.IsNotExist(err) {
		t.Errorf("state file still there: %v", err)
	}
}

func TestGitHubBadToken(t *testing.T) {
	f := newFakeGitHub()
	b, _ := newTestBackend(t, f, "RunBad")
	f.token = "rotated"
	_, err := b.OpenPR(context.Background(), e2e.ServiceChange{Marker: "m"})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "acme/scratch") {
		t.Errorf("OpenPR with a bad token = %v, want a 401 naming the repository", err)
	}
}
