package updatefile_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/update-file-action/contentsapi"
	"preview-environments/update-file-action/updatefile"
)

const (
	owner  = "acme"
	repo   = "manager"
	branch = "main"
	token  = "ghs_testtoken0123456789"
)

type env struct {
	store    *contentsapi.MemoryStore
	srv      *httptest.Server
	requests atomic.Int64
}

// newEnv serves an in-memory acme/manager (branches main and dev) with the
// contents-API stand-in on loopback, requiring token.
func newEnv(t testing.TB, opts ...contentsapi.Option) *env {
	t.Helper()
	e := &env{store: contentsapi.NewMemoryStore()}
	if err := e.store.CreateRepo(owner, repo, branch); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateBranch(owner, repo, "dev", branch); err != nil {
		t.Fatal(err)
	}
	h := contentsapi.NewServer(e.store, append([]contentsapi.Option{contentsapi.WithToken(token)}, opts...)...)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) client(t testing.TB, tok string) *github.Client {
	t.Helper()
	// Keep connections for every concurrent writer: reconnecting costs CPU
	// that the 2-core machine would otherwise take from the race itself.
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	c, err := github.NewClient(&http.Client{Transport: tr}).WithAuthToken(tok).WithEnterpriseURLs(e.srv.URL, e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seed commits a file directly through the store.
func (e *env) seed(t testing.TB, br, path, content string) {
	t.Helper()
	head, err := e.store.Head(context.Background(), owner, repo, br)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Commit(context.Background(), owner, repo, br, head,
		contentsapi.Change{Path: path, Content: []byte(content), Message: "seed"}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) log(t testing.TB, br string) []contentsapi.LogEntry {
	t.Helper()
	l, err := e.store.Log(owner, repo, br)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// recorder is a Backoff.Sleep that records the waits; with real set it also
// waits (go-github itself refuses requests until a rate limit's reset).
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
	real  bool
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	if !r.real {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func fastBackoff(r *recorder) updatefile.Backoff {
	return updatefile.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond, Sleep: r.sleep}
}
