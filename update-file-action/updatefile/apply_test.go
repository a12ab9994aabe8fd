package updatefile_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/update-file-action/contentsapi"
	"preview-environments/update-file-action/updatefile"
)

func TestApplyOperations(t *testing.T) {
	const path = "hello-service/environments/acme-svc-7-0a1b2c3d.tf"
	tests := []struct {
		name     string
		seed     map[string]string // path -> content on main before Apply
		branch   string
		content  *string
		del      bool
		want     updatefile.Operation
		wantFile *string // content after, nil = absent
		commits  int     // new commits on the branch
	}{
		{name: "create when absent", content: ptr("a = 1\n"), want: updatefile.Created, wantFile: ptr("a = 1\n"), commits: 1},
		{name: "update when different", seed: map[string]string{path: "a = 1\n"}, content: ptr("a = 2\n"), want: updatefile.Updated, wantFile: ptr("a = 2\n"), commits: 1},
		{name: "no commit when identical", seed: map[string]string{path: "a = 1\n"}, content: ptr("a = 1\n"), want: updatefile.Unchanged, wantFile: ptr("a = 1\n")},
		{name: "empty file is created", content: ptr(""), want: updatefile.Created, wantFile: ptr(""), commits: 1},
		{name: "emptying a file is an update", seed: map[string]string{path: "x"}, content: ptr(""), want: updatefile.Updated, wantFile: ptr(""), commits: 1},
		{name: "delete when present", seed: map[string]string{path: "a = 1\n", "other.tf": "b"}, del: true, want: updatefile.Deleted, commits: 1},
		{name: "delete when absent succeeds", seed: map[string]string{"other.tf": "b"}, del: true, want: updatefile.Absent},
		{name: "explicit branch", branch: "dev", content: ptr("on dev"), want: updatefile.Created, wantFile: ptr("on dev"), commits: 1},
		{name: "binary content over 60 base64 columns", content: ptr(strings.Repeat("\x00\xff\n", 100)), want: updatefile.Created, wantFile: ptr(strings.Repeat("\x00\xff\n", 100)), commits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for p, c := range tt.seed {
				e.seed(t, branch, p, c)
			}
			br := tt.branch
			if br == "" {
				br = branch
			}
			before := len(e.log(t, br))
			req := updatefile.Request{
				Owner: owner, Repo: repo, Path: path, Branch: tt.branch,
				Message: "preview: " + tt.name, Delete: tt.del,
				Committer: &updatefile.Signature{Name: "preview-bot", Email: "bot@example.com"},
			}
			if tt.content != nil {
				req.Content = []byte(*tt.content)
			}
			res, err := updatefile.Apply(context.Background(), e.client(t, token), req)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if res.Operation != tt.want || res.Attempts != 1 || res.Branch != br {
				t.Fatalf("got %+v, want operation %s, 1 attempt, branch %s", res, tt.want, br)
			}
			hist := e.log(t, br)
			if got := len(hist) - before; got != tt.commits {
				t.Fatalf("%d new commits, want %d", got, tt.commits)
			}
			if tt.commits == 1 {
				if res.CommitSHA != hist[0].SHA || hist[0].Message != req.Message || hist[0].Path != path {
					t.Fatalf("result commit %q, branch head %+v", res.CommitSHA, hist[0])
				}
			} else if res.CommitSHA != "" {
				t.Fatalf("no commit made but CommitSHA = %q", res.CommitSHA)
			}
			f, err := e.store.ReadFile(context.Background(), owner, repo, br, path)
			switch {
			case tt.wantFile == nil && !errors.Is(err, contentsapi.ErrNotFound):
				t.Fatalf("file should be absent, read: %v", err)
			case tt.wantFile == nil && res.FileSHA != "":
				t.Fatalf("FileSHA %q for an absent file", res.FileSHA)
			case tt.wantFile != nil && err != nil:
				t.Fatalf("read: %v", err)
			case tt.wantFile != nil && (string(f.Content) != *tt.wantFile || res.FileSHA != contentsapi.BlobSHA([]byte(*tt.wantFile))):
				t.Fatalf("file %q sha %s (result %s), want %q", f.Content, f.SHA, res.FileSHA, *tt.wantFile)
			}
			for p, c := range tt.seed {
				if p == path {
					continue
				}
				if o, err := e.store.ReadFile(context.Background(), owner, repo, br, p); err != nil || string(o.Content) != c {
					t.Fatalf("untouched file %s changed: %q, %v", p, o.Content, err)
				}
			}
		})
	}
}

func TestApplyFailsAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		opts    []contentsapi.Option
		tok     string
		owner   string
		repo    string
		branch  string
		del     bool
		wantErr []error
		wantMsg string
	}{
		{name: "bad token", tok: "ghs_wrong", wantErr: []error{updatefile.ErrBadCredentials}, wantMsg: "401"},
		{name: "bad token on default branch lookup", tok: "ghs_wrong", branch: "-", wantErr: []error{updatefile.ErrBadCredentials}},
		{name: "read-only token", opts: []contentsapi.Option{contentsapi.WithReadOnlyToken("ghs_readonly")}, tok: "ghs_readonly", wantErr: []error{updatefile.ErrForbidden}, wantMsg: "403"},
		{name: "read-only token deleting", opts: []contentsapi.Option{contentsapi.WithReadOnlyToken("ghs_readonly")}, tok: "ghs_readonly", del: true, wantErr: []error{updatefile.ErrForbidden}},
		{name: "no such repository", repo: "nope", wantErr: []error{updatefile.ErrRepoNotFound, updatefile.ErrNotFound}, wantMsg: "no such repository"},
		{name: "no such repository, default branch", repo: "nope", branch: "-", wantErr: []error{updatefile.ErrRepoNotFound, updatefile.ErrNotFound}},
		{name: "no such owner", owner: "someone-else", wantErr: []error{updatefile.ErrRepoNotFound}},
		{name: "no such branch", branch: "feature/x", wantErr: []error{updatefile.ErrBranchNotFound, updatefile.ErrNotFound}, wantMsg: "no such branch"},
		{name: "no such branch, delete", branch: "feature/x", del: true, wantErr: []error{updatefile.ErrBranchNotFound}},
		{name: "forbidden that is not a rate limit", opts: []contentsapi.Option{contentsapi.WithFaults(contentsapi.FirstN(1, nil,
			contentsapi.Fault{Status: http.StatusForbidden, Message: "Resource not accessible by integration"}))}, wantErr: []error{updatefile.ErrForbidden}},
		{name: "422 that is not about the sha", opts: []contentsapi.Option{contentsapi.WithFaults(contentsapi.FirstN(1, contentsapi.IsWrite,
			contentsapi.Fault{Status: http.StatusUnprocessableEntity, Message: "Invalid request.\n\nFor 'properties/content', nil is not a string."}))}, wantErr: []error{updatefile.ErrInvalidRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			tok, o, r, br := or(tt.tok, token), or(tt.owner, owner), or(tt.repo, repo), or(tt.branch, branch)
			if br == "-" {
				br = ""
			}
			rec := &recorder{}
			if tt.del {
				e.seed(t, branch, "f.tf", "x")
			}
			before := len(e.log(t, branch))
			res, err := updatefile.Apply(context.Background(), e.client(t, tok), updatefile.Request{
				Owner: o, Repo: r, Branch: br, Path: "f.tf", Message: "m", Content: []byte("new"), Delete: tt.del,
				Backoff: fastBackoff(rec),
			})
			if err == nil {
				t.Fatalf("Apply succeeded: %+v", res)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %q", err, want)
				}
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "f.tf") {
				t.Errorf("error %q does not say %q and name the file", err, tt.wantMsg)
			}
			if res.Attempts != 1 || len(rec.waits) != 0 {
				t.Errorf("attempts %d, waits %v: want one attempt, no retry", res.Attempts, rec.waits)
			}
			if n := len(e.log(t, branch)); n != before {
				t.Errorf("%d commits landed", n-before)
			}
		})
	}
}

func TestApplyRejectsBadRequestsBeforeCalling(t *testing.T) {
	ok := updatefile.Request{Owner: owner, Repo: repo, Path: "a/b.tf", Message: "m", Content: []byte("x")}
	tests := []struct {
		name   string
		mutate func(*updatefile.Request)
		names  string
	}{
		{"absolute path", func(r *updatefile.Request) { r.Path = "/etc/passwd" }, "/etc/passwd"},
		{"dot-dot segment", func(r *updatefile.Request) { r.Path = "a/../b.tf" }, "a/../b.tf"},
		{"dot segment", func(r *updatefile.Request) { r.Path = "a/./b.tf" }, "a/./b.tf"},
		{"empty segment", func(r *updatefile.Request) { r.Path = "a//b.tf" }, "a//b.tf"},
		{"trailing slash", func(r *updatefile.Request) { r.Path = "a/" }, "a/"},
		{"empty path", func(r *updatefile.Request) { r.Path = "" }, "path is empty"},
		{"query in path", func(r *updatefile.Request) { r.Path = "a.tf?ref=evil" }, "a.tf?ref=evil"},
		{"percent in path", func(r *updatefile.Request) { r.Path = "a%2F..%2Fb" }, "a%2F..%2Fb"},
		{"newline in path", func(r *updatefile.Request) { r.Path = "a\nb" }, "a\\nb"},
		{".git segment", func(r *updatefile.Request) { r.Path = "a/.git/config" }, `"a/.git/config" has a ".git" segment`},
		{".GIT segment", func(r *updatefile.Request) { r.Path = ".GIT/hooks/post-checkout" }, `".GIT/hooks/post-checkout" has a ".GIT" segment`},
		{".Git segment", func(r *updatefile.Request) { r.Path = "x/.Git" }, `"x/.Git" has a ".Git" segment`},
		{"owner with slash", func(r *updatefile.Request) { r.Owner = "acme/../x" }, "acme/../x"},
		{"owner ending in a hyphen", func(r *updatefile.Request) { r.Owner = "acme-" }, `owner "acme-"`},
		{"owner with consecutive hyphens", func(r *updatefile.Request) { r.Owner = "ac--me" }, `owner "ac--me"`},
		{"owner with an empty shortcode", func(r *updatefile.Request) { r.Owner = "octocat_" }, `owner "octocat_"`},
		{"owner with a 2-character shortcode", func(r *updatefile.Request) { r.Owner = "octocat_ab" }, `owner "octocat_ab"`},
		{"owner longer than 39", func(r *updatefile.Request) { r.Owner = strings.Repeat("a", 35) + "_acme" }, strings.Repeat("a", 35) + "_acme"},
		{"repo ending in .git", func(r *updatefile.Request) { r.Repo = "manager.git" }, `repository "manager.git" is not a GitHub repository name: it ends in ".git"`},
		{"repo ending in .WIKI", func(r *updatefile.Request) { r.Repo = "manager.WIKI" }, `ends in ".WIKI"`},
		{"repo with slash", func(r *updatefile.Request) { r.Repo = "manager/contents" }, "manager/contents"},
		{"repo dot-dot", func(r *updatefile.Request) { r.Repo = ".." }, `".."`},
		{"branch with dollar-brace and space", func(r *updatefile.Request) { r.Branch = "${x} y" }, "${x} y"},
		{"branch with dot-dot", func(r *updatefile.Request) { r.Branch = "a..b" }, "a..b"},
		{"branch starting with dash", func(r *updatefile.Request) { r.Branch = "-f" }, "-f"},
		{"empty message", func(r *updatefile.Request) { r.Message = "  " }, "message"},
		{"negative attempts", func(r *updatefile.Request) { r.MaxAttempts = -1 }, "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			req := ok
			tt.mutate(&req)
			_, err := updatefile.Apply(context.Background(), e.client(t, token), req)
			if !errors.Is(err, updatefile.ErrInvalidRequest) {
				t.Fatalf("error %v, want ErrInvalidRequest", err)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Fatalf("error %q does not name %q", err, tt.names)
			}
			if n := e.requests.Load(); n != 0 {
				t.Fatalf("%d API calls made for an invalid request", n)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid request rejected: %v", err)
	}
}

// TestGitHubNames: the names GitHub gives accounts and repositories are
// accepted, enterprise managed users (HANDLE_SHORTCODE) included.
func TestGitHubNames(t *testing.T) {
	for _, tc := range []struct{ owner, repo string }{
		{"a", "a"},
		{"octocat", ".github"},
		{"Octo-Org", "hello_service.v2"},
		{"octocat_acme", "shop"},
		{"mona-cat_octo", "shop"},
		{"2abvd19d_admin", "shop"},
		{"The-Octocat_SHORTC0D", "shop"},
		{strings.Repeat("a", 39), strings.Repeat("r", 100)},
		{strings.Repeat("a", 34) + "_acme", "gitops"},
	} {
		t.Run(tc.owner+"/"+tc.repo, func(t *testing.T) {
			req := updatefile.Request{Owner: tc.owner, Repo: tc.repo, Path: "a/.gitignore", Message: "m"}
			if err := req.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestApplyRetries(t *testing.T) {
	isPut := func(r *http.Request) bool { return r.Method == http.MethodPut }
	isGet := func(r *http.Request) bool { return r.Method == http.MethodGet }
	tests := []struct {
		name         string
		faults       func(*http.Request) *contentsapi.Fault
		real         bool // go-github itself blocks until the limit resets: wait for real
		max          int
		wantAttempts int
		wantErr      error
		minWait      time.Duration // the first wait is at least this (server's instruction)
	}{
		{name: "409 branch moved", faults: contentsapi.FirstN(2, isPut, contentsapi.Fault{Status: 409, Message: "is at abc but expected def"}), wantAttempts: 3},
		{name: "422 sha not supplied", faults: contentsapi.FirstN(1, isPut, contentsapi.Fault{Status: 422, Message: "Invalid request.\n\n\"sha\" wasn't supplied."}), wantAttempts: 2},
		{name: "502 on write", faults: contentsapi.FirstN(3, isPut, contentsapi.ServerError(502)), wantAttempts: 4},
		{name: "500 on read", faults: contentsapi.FirstN(1, isGet, contentsapi.ServerError(500)), wantAttempts: 2},
		{name: "429 Retry-After is honoured", faults: contentsapi.FirstN(1, isPut, contentsapi.TooManyRequests(7)), wantAttempts: 2, minWait: 7 * time.Second},
		{name: "secondary rate limit Retry-After", faults: contentsapi.FirstN(1, isPut, contentsapi.SecondaryRateLimit(1)), real: true, wantAttempts: 2, minWait: time.Second},
		{name: "primary rate limit reset", faults: primaryRateLimitOnce(isGet, http.StatusForbidden), real: true, wantAttempts: 2, minWait: 1500 * time.Millisecond},
		{name: "429 with x-ratelimit-remaining 0 waits for the reset", faults: primaryRateLimitOnce(isPut, http.StatusTooManyRequests), real: true, wantAttempts: 2, minWait: 1500 * time.Millisecond},
		{name: "Retry-After beyond MaxWait fails at once", faults: contentsapi.FirstN(1, isPut, contentsapi.TooManyRequests(3600)), wantAttempts: 1, wantErr: updatefile.ErrRateLimited},
		{name: "gives up after max attempts", faults: contentsapi.FirstN(100, isPut, contentsapi.ServerError(503)), max: 3, wantAttempts: 3, wantErr: updatefile.ErrAttemptsExhausted},
		{name: "default max attempts is 8", faults: contentsapi.FirstN(100, isPut, contentsapi.Fault{Status: 409, Message: "conflict"}), wantAttempts: updatefile.DefaultMaxAttempts, wantErr: updatefile.ErrAttemptsExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the real rate-limit waits overlap
			e := newEnv(t, contentsapi.WithFaults(tt.faults))
			e.seed(t, branch, "f.tf", "old")
			rec := &recorder{real: tt.real}
			var notified int
			b := fastBackoff(rec)
			b.OnRetry = func(int, time.Duration, error) { notified++ }
			res, err := updatefile.Apply(context.Background(), e.client(t, token), updatefile.Request{
				Owner: owner, Repo: repo, Branch: branch, Path: "f.tf", Message: "m", Content: []byte("new"),
				MaxAttempts: tt.max, Backoff: b,
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || res.Operation != updatefile.Updated {
				t.Fatalf("Apply: %+v, %v", res, err)
			}
			if res.Attempts != tt.wantAttempts || len(rec.waits) != tt.wantAttempts-1 || notified != len(rec.waits) {
				t.Fatalf("attempts %d, waits %v, notified %d; want %d attempts", res.Attempts, rec.waits, notified, tt.wantAttempts)
			}
			if tt.minWait > 0 && rec.waits[0] < tt.minWait {
				t.Fatalf("first wait %v, server asked for at least %v", rec.waits[0], tt.minWait)
			}
			f, _ := e.store.ReadFile(context.Background(), owner, repo, branch, "f.tf")
			if landed := string(f.Content) == "new"; landed != (tt.wantErr == nil) {
				t.Fatalf("file is %q after %v", f.Content, err)
			}
		})
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		e := newEnv(t, contentsapi.WithFaults(contentsapi.FirstN(100, contentsapi.IsWrite, contentsapi.ServerError(502))))
		rec := &recorder{}
		_, err := updatefile.Apply(context.Background(), e.client(t, token), updatefile.Request{
			Owner: owner, Repo: repo, Branch: branch, Path: "f.tf", Message: "m", Content: []byte("x"),
			MaxAttempts: 8,
			Backoff:     updatefile.Backoff{Base: 100 * time.Millisecond, Max: 1 * time.Second, Sleep: rec.sleep, Rand: func() float64 { return r }},
		})
		if !errors.Is(err, updatefile.ErrAttemptsExhausted) {
			t.Fatalf("rand %v: %v", r, err)
		}
		for i, w := range rec.waits {
			d := min(100*time.Millisecond<<i, time.Second)
			if want := time.Duration(r * float64(d)); w != want {
				t.Errorf("rand %v: wait %d = %v, want %v", r, i+1, w, want)
			}
		}
	}
}

func TestApplyStopsWhenContextEnds(t *testing.T) {
	e := newEnv(t, contentsapi.WithFaults(contentsapi.FirstN(100, contentsapi.IsWrite, contentsapi.ServerError(502))))
	ctx, cancel := context.WithCancel(context.Background())
	b := updatefile.Backoff{Base: time.Hour, Max: time.Hour, OnRetry: func(int, time.Duration, error) { cancel() }}
	res, err := updatefile.Apply(ctx, e.client(t, token), updatefile.Request{
		Owner: owner, Repo: repo, Path: "f.tf", Message: "m", Content: []byte("x"), Backoff: b,
	})
	if !errors.Is(err, context.Canceled) || res.Attempts != 1 {
		t.Fatalf("got %+v, %v; want context.Canceled after 1 attempt", res, err)
	}
}

// primaryRateLimitOnce answers the first matching request with a primary
// rate limit that resets 1-2 s after that request (the reset is in whole
// seconds), so the wait is computed from the time of the request.
func primaryRateLimitOnce(match func(*http.Request) bool, status int) func(*http.Request) *contentsapi.Fault {
	var once sync.Once
	return func(r *http.Request) *contentsapi.Fault {
		var f *contentsapi.Fault
		if match(r) {
			once.Do(func() {
				fault := contentsapi.PrimaryRateLimit(time.Now().Truncate(time.Second).Add(2 * time.Second))
				fault.Status = status
				f = &fault
			})
		}
		return f
	}
}

func ptr(s string) *string { return &s }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
