package contentsapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"preview-environments/update-file-action/contentsapi"
)

const tok = "ghs_servertest"

// ghServer serves acme/manager (default branch main) with a.tf = "hello\n"
// and a 200-byte big.bin.
func ghServer(t *testing.T, store contentsapi.Store, opts ...contentsapi.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(contentsapi.NewServer(store, append([]contentsapi.Option{contentsapi.WithToken(tok)}, opts...)...))
	t.Cleanup(srv.Close)
	return srv
}

func seededStore(t *testing.T) *contentsapi.MemoryStore {
	t.Helper()
	s := contentsapi.NewMemoryStore()
	if err := s.CreateRepo("acme", "manager", "main"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range []struct{ p, c string }{{"a.tf", "hello\n"}, {"dir/big.bin", strings.Repeat("\x01\x02", 100)}} {
		head, _ := s.Head(ctx, "acme", "manager", "main")
		if _, err := s.Commit(ctx, "acme", "manager", "main", head, contentsapi.Change{Path: f.p, Content: []byte(f.c), Message: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, srv *httptest.Server, method, path, token string, body any) reply {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, path, err)
	}
	return r
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestServerResponses(t *testing.T) {
	aSHA := contentsapi.BlobSHA([]byte("hello\n"))
	const repoURL = "/api/v3/repos/acme/manager"
	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		body       any
		opts       []contentsapi.Option
		wantStatus int
		wantMsg    string         // substring of "message"
		want       map[string]any // top-level fields that must match
	}{
		{name: "repository", method: "GET", path: repoURL, wantStatus: 200, want: map[string]any{"default_branch": "main", "full_name": "acme/manager"}},
		{name: "repository names are case-insensitive", method: "GET", path: "/api/v3/repos/ACME/Manager", wantStatus: 200},
		{name: "missing repository", method: "GET", path: "/api/v3/repos/acme/nope", wantStatus: 404, wantMsg: "Not Found"},
		{name: "branch", method: "GET", path: repoURL + "/branches/main", wantStatus: 200, want: map[string]any{"name": "main"}},
		{name: "missing branch", method: "GET", path: repoURL + "/branches/feature%2Fx", wantStatus: 404, wantMsg: "Branch not found"},
		{name: "file", method: "GET", path: repoURL + "/contents/a.tf?ref=main", wantStatus: 200,
			want: map[string]any{"type": "file", "encoding": "base64", "sha": aSHA, "path": "a.tf", "name": "a.tf", "size": 6.0, "content": b64("hello\n") + "\n"}},
		{name: "file on default branch", method: "GET", path: repoURL + "/contents/a.tf", wantStatus: 200, want: map[string]any{"sha": aSHA}},
		{name: "missing file", method: "GET", path: repoURL + "/contents/nope.tf?ref=main", wantStatus: 404, wantMsg: "Not Found"},
		{name: "missing ref", method: "GET", path: repoURL + "/contents/a.tf?ref=gone", wantStatus: 404, wantMsg: "No commit found for the ref gone"},
		{name: "no token", method: "GET", path: repoURL, token: "-", wantStatus: 401, wantMsg: "Bad credentials"},
		{name: "wrong token", method: "GET", path: repoURL, token: "ghs_other", wantStatus: 401, wantMsg: "Bad credentials"},
		{name: "read-only token reads", method: "GET", path: repoURL, token: "ghs_ro", opts: []contentsapi.Option{contentsapi.WithReadOnlyToken("ghs_ro")}, wantStatus: 200},
		{name: "read-only token cannot write", method: "PUT", path: repoURL + "/contents/b.tf", token: "ghs_ro", opts: []contentsapi.Option{contentsapi.WithReadOnlyToken("ghs_ro")},
			body: map[string]any{"message": "m", "content": b64("x")}, wantStatus: 403, wantMsg: "not accessible"},
		{name: "create", method: "PUT", path: repoURL + "/contents/dir/new%20file.tf", body: map[string]any{"message": "m", "content": b64("x")}, wantStatus: 201},
		{name: "update", method: "PUT", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m", "content": b64("y"), "sha": aSHA}, wantStatus: 200},
		{name: "update without sha", method: "PUT", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m", "content": b64("y")}, wantStatus: 422, wantMsg: `"sha" wasn't supplied`},
		{name: "update with stale sha", method: "PUT", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m", "content": b64("y"), "sha": contentsapi.BlobSHA([]byte("old"))}, wantStatus: 409, wantMsg: "does not match"},
		{name: "create with a sha", method: "PUT", path: repoURL + "/contents/b.tf", body: map[string]any{"message": "m", "content": b64("y"), "sha": aSHA}, wantStatus: 409, wantMsg: "does not match"},
		{name: "no message", method: "PUT", path: repoURL + "/contents/b.tf", body: map[string]any{"content": b64("y")}, wantStatus: 422, wantMsg: `"message" wasn't supplied`},
		{name: "no content", method: "PUT", path: repoURL + "/contents/b.tf", body: map[string]any{"message": "m"}, wantStatus: 422, wantMsg: `"content" wasn't supplied`},
		{name: "content not base64", method: "PUT", path: repoURL + "/contents/b.tf", body: map[string]any{"message": "m", "content": "%%%"}, wantStatus: 422, wantMsg: "Base64"},
		{name: "missing branch on write", method: "PUT", path: repoURL + "/contents/b.tf", body: map[string]any{"message": "m", "content": b64("y"), "branch": "gone"}, wantStatus: 404, wantMsg: "Branch gone not found"},
		{name: "missing repository on write", method: "PUT", path: "/api/v3/repos/acme/nope/contents/b.tf", body: map[string]any{"message": "m", "content": b64("y")}, wantStatus: 404},
		{name: "dot-dot path", method: "PUT", path: repoURL + "/contents/x/%2E%2E/a.tf", body: map[string]any{"message": "m", "content": b64("y")}, wantStatus: 422},
		{name: "delete", method: "DELETE", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m", "sha": aSHA}, wantStatus: 200, want: map[string]any{"content": nil}},
		{name: "delete without sha", method: "DELETE", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m"}, wantStatus: 422, wantMsg: `"sha" wasn't supplied`},
		{name: "delete with stale sha", method: "DELETE", path: repoURL + "/contents/a.tf", body: map[string]any{"message": "m", "sha": "0000000000000000000000000000000000000000"}, wantStatus: 409},
		{name: "delete missing file", method: "DELETE", path: repoURL + "/contents/nope.tf", body: map[string]any{"message": "m", "sha": aSHA}, wantStatus: 404},
		{name: "unknown route", method: "GET", path: "/api/v3/user", wantStatus: 404},
		{name: "injected secondary rate limit", method: "GET", path: repoURL, opts: []contentsapi.Option{contentsapi.WithFaults(contentsapi.FirstN(1, nil, contentsapi.SecondaryRateLimit(42)))},
			wantStatus: 403, wantMsg: "secondary rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := seededStore(t)
			srv := ghServer(t, store, tt.opts...)
			token := tt.token
			switch token {
			case "":
				token = tok
			case "-":
				token = ""
			}
			before, _ := store.Head(context.Background(), "acme", "manager", "main")
			r := call(t, srv, tt.method, tt.path, token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", r.status, tt.wantStatus, r.body)
			}
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("message %q, want it to contain %q", msg, tt.wantMsg)
			}
			if r.status >= 400 && r.body["documentation_url"] == nil {
				t.Errorf("error without documentation_url: %v", r.body)
			}
			for k, v := range tt.want {
				if got := r.body[k]; got != v {
					t.Errorf("%s = %#v, want %#v", k, got, v)
				}
			}
			after, _ := store.Head(context.Background(), "acme", "manager", "main")
			if moved := after != before; moved != (r.status < 300 && tt.method != "GET") {
				t.Fatalf("branch head moved = %v after %d %s", moved, r.status, tt.method)
			}
			if moved := after != before; moved {
				commit := r.body["commit"].(map[string]any)
				parent := commit["parents"].([]any)[0].(map[string]any)["sha"]
				if commit["sha"] != after || parent != before {
					t.Errorf("commit %v parent %v, branch went %s -> %s", commit["sha"], parent, before, after)
				}
			}
			if tt.name == "injected secondary rate limit" && r.header.Get("Retry-After") != "42" {
				t.Errorf("Retry-After %q, want 42", r.header.Get("Retry-After"))
			}
		})
	}
}

// GitHub wraps base64 content at 60 columns, and its sha is git's blob id.
func TestContentEncodingAndBlobSHA(t *testing.T) {
	srv := ghServer(t, seededStore(t))
	r := call(t, srv, "GET", "/api/v3/repos/acme/manager/contents/dir/big.bin", tok, nil)
	content := r.body["content"].(string)
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	for i, l := range lines {
		if (i < len(lines)-1 && len(l) != 60) || len(l) > 60 {
			t.Fatalf("line %d is %d characters: %q", i, len(l), l)
		}
	}
	dec, err := base64.StdEncoding.DecodeString(content)
	want := strings.Repeat("\x01\x02", 100)
	if err != nil || string(dec) != want {
		t.Fatalf("decoded %q, %v", dec, err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is not installed: the blob sha check needs the real git CLI")
	}
	for _, c := range []string{"", "hello\n", want} {
		cmd := exec.Command(git, "hash-object", "--stdin")
		cmd.Stdin = strings.NewReader(c)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := contentsapi.BlobSHA([]byte(c)); got != strings.TrimSpace(string(out)) {
			t.Errorf("BlobSHA(%q) = %s, git hash-object says %s", c, got, out)
		}
	}
	if r.body["sha"] != contentsapi.BlobSHA([]byte(want)) {
		t.Errorf("sha %v", r.body["sha"])
	}
}

// racingStore lands another writer's commit just before the server's, as a
// concurrent request on GitHub would.
type racingStore struct {
	*contentsapi.MemoryStore
	raced bool
}

func (s *racingStore) Commit(ctx context.Context, owner, repo, branch, parent string, c contentsapi.Change) (contentsapi.CommitResult, error) {
	if !s.raced {
		s.raced = true
		if _, err := s.MemoryStore.Commit(ctx, owner, repo, branch, parent, contentsapi.Change{Path: "other.tf", Content: []byte("o"), Message: "other"}); err != nil {
			return contentsapi.CommitResult{}, err
		}
	}
	return s.MemoryStore.Commit(ctx, owner, repo, branch, parent, c)
}

func TestStaleHeadIs409(t *testing.T) {
	store := &racingStore{MemoryStore: seededStore(t)}
	srv := ghServer(t, store)
	body := map[string]any{"message": "m", "content": b64("new")}
	r := call(t, srv, "PUT", "/api/v3/repos/acme/manager/contents/new.tf", tok, body)
	if r.status != http.StatusConflict || !strings.Contains(r.body["message"].(string), "but expected") {
		t.Fatalf("first write: %d %v, want 409 branch moved", r.status, r.body)
	}
	if _, err := store.ReadFile(context.Background(), "acme", "manager", "main", "new.tf"); !errors.Is(err, contentsapi.ErrNotFound) {
		t.Fatalf("the 409 write landed anyway: %v", err)
	}
	if r = call(t, srv, "PUT", "/api/v3/repos/acme/manager/contents/new.tf", tok, body); r.status != http.StatusCreated {
		t.Fatalf("retry: %d %v", r.status, r.body)
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t)
	head, _ := s.Head(ctx, "acme", "manager", "main")
	tests := []struct {
		name    string
		parent  string
		change  contentsapi.Change
		wantErr error
	}{
		{"stale parent", "0000000000000000000000000000000000000000", contentsapi.Change{Path: "x", Content: []byte("x")}, contentsapi.ErrStale},
		{"delete missing file", head, contentsapi.Change{Path: "nope"}, contentsapi.ErrNotFound},
		{"update", head, contentsapi.Change{Path: "a.tf", Content: []byte("v2")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Commit(ctx, "acme", "manager", "main", tt.parent, tt.change)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := s.Head(ctx, "acme", "manager", "nope"); !errors.Is(err, contentsapi.ErrNotFound) {
		t.Fatalf("missing branch: %v", err)
	}
	// Old commits stay readable by sha.
	old, err := s.ReadFile(ctx, "acme", "manager", head, "a.tf")
	if err != nil || string(old.Content) != "hello\n" {
		t.Fatalf("a.tf at %s: %q, %v", head, old.Content, err)
	}
	cur, err := s.ReadFile(ctx, "acme", "manager", "main", "a.tf")
	if err != nil || string(cur.Content) != "v2" {
		t.Fatalf("a.tf at main: %q, %v", cur.Content, err)
	}
}
