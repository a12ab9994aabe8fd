package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// loopBackend is an in-process preview platform on loopback: a gateway that
// routes <id>.svc.localhost to the version deployed for that PR, where each
// change deploys after a delay (as a real platform does). Its faults make it
// misbehave in one way each, to prove the scenario notices.
type loopBackend struct {
	srv   *httptest.Server
	delay time.Duration
	fault string // "", "push-not-deployed", "close-leaves-function", "open-fails"

	mu       sync.Mutex
	nextPR   int
	deployed map[int]string // PR number -> served sha
	function map[int]bool   // PR number -> function exists
	commits  int
}

func newLoopBackend(t testing.TB, fault string) *loopBackend {
	b := &loopBackend{delay: 60 * time.Millisecond, fault: fault, deployed: map[int]string{}, function: map[int]bool{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *loopBackend) serve(w http.ResponseWriter, r *http.Request) {
	var n int
	if _, err := fmt.Sscanf(r.Host, "pr%d.svc.localhost", &n); err != nil {
		http.Error(w, "unknown host", http.StatusNotFound)
		return
	}
	b.mu.Lock()
	sha, ok := b.deployed[n]
	b.mu.Unlock()
	if !ok {
		http.Error(w, "no environment", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "%s: Hello world\n", sha)
}

func (b *loopBackend) commit(change ServiceChange) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.commits++
	return fmt.Sprintf("%040x", b.commits) // a fresh 40-hex sha per commit
}

func (b *loopBackend) deployLater(n int, sha string) {
	time.AfterFunc(b.delay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if sha == "" {
			delete(b.deployed, n)
			if b.fault != "close-leaves-function" {
				delete(b.function, n)
			}
			return
		}
		b.deployed[n] = sha
		b.function[n] = true
	})
}

func (b *loopBackend) Name() string { return "loop" }

func (b *loopBackend) OpenPR(ctx context.Context, change ServiceChange) (PR, error) {
	if b.fault == "open-fails" {
		return PR{}, errors.New("create branch e2e/x: 403 Resource not accessible by integration")
	}
	sha := b.commit(change)
	b.mu.Lock()
	b.nextPR++
	n := b.nextPR
	b.mu.Unlock()
	b.deployLater(n, sha)
	return PR{Number: n, HeadSHA: sha, Branch: "e2e/" + change.Marker}, nil
}

func (b *loopBackend) Push(ctx context.Context, pr PR, change ServiceChange) (string, error) {
	sha := b.commit(change)
	if b.fault != "push-not-deployed" {
		b.deployLater(pr.Number, sha)
	}
	return sha, nil
}

func (b *loopBackend) Close(ctx context.Context, pr PR) error {
	b.deployLater(pr.Number, "")
	return nil
}

func (b *loopBackend) Endpoint(pr PR) Endpoint {
	return Endpoint{URL: b.srv.URL + "/", Host: fmt.Sprintf("pr%d.svc.localhost", pr.Number)}
}

func (b *loopBackend) Gone(ctx context.Context, pr PR) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.function[pr.Number] {
		return fmt.Errorf("function of PR #%d still exists", pr.Number)
	}
	return nil
}

func (b *loopBackend) Diagnostics(ctx context.Context, pr PR) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("loop: PR #%d deployed=%q function=%v", pr.Number, b.deployed[pr.Number], b.function[pr.Number])
}

// failRecorder turns Fatal into a recorded failure, so a test can assert
// that the scenario fails, and why, without failing itself.
type failRecorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *failRecorder) record(s string) { r.mu.Lock(); r.failed = append(r.failed, s); r.mu.Unlock() }
func (r *failRecorder) Fatalf(f string, a ...any) {
	r.record(fmt.Sprintf(f, a...))
	runtime.Goexit()
}
func (r *failRecorder) Fatal(a ...any)            { r.record(fmt.Sprint(a...)); runtime.Goexit() }
func (r *failRecorder) Errorf(f string, a ...any) { r.record(fmt.Sprintf(f, a...)) }
func (r *failRecorder) Error(a ...any)            { r.record(fmt.Sprint(a...)) }
func (r *failRecorder) FailNow()                  { r.record("FailNow"); runtime.Goexit() }
func (r *failRecorder) Fail()                     { r.record("Fail") }

func TestRunLifecycle(t *testing.T) {
	budget := Budget{Deploy: 2 * time.Second, Redeploy: 2 * time.Second, Destroy: 2 * time.Second, Poll: 20 * time.Millisecond, CleanupTimeout: time.Second}
	short := budget
	short.Redeploy, short.Destroy = 400*time.Millisecond, 400*time.Millisecond
	tests := []struct {
		fault  string
		budget Budget
		want   []string // substrings of the failure; none means success
	}{
		{"", budget, nil},
		{"push-not-deployed", short, []string{"wait until", "serves it", "last HTTP response", ": 200 OK", "loop: PR #1"}},
		{"close-leaves-function", short, []string{"stack and function are destroyed", "function of PR #1 still exists", "loop: PR #1"}},
		{"open-fails", budget, []string{"open PR", "403 Resource not accessible"}},
	}
	for _, tt := range tests {
		t.Run("fault="+tt.fault, func(t *testing.T) {
			b := newLoopBackend(t, tt.fault)
			rec := &failRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Run(context.Background(), rec, b, tt.budget)
			}()
			<-done
			got := strings.Join(rec.failed, "\n")
			if len(tt.want) == 0 {
				if got != "" {
					t.Fatalf("lifecycle failed on a healthy backend:\n%s", got)
				}
				if err := b.Gone(context.Background(), PR{Number: 1}); err != nil {
					t.Errorf("after the lifecycle: %v", err)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("failure %q does not contain %q", got, w)
				}
			}
		})
	}
}
