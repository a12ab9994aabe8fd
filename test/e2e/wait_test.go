package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestServesVersion(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"serves it", 200, sha + ": Hello world", true},
		{"other version", 200, "fedcba9876543210fedcba9876543210fedcba98: Hello world", false},
		{"latest", 200, "latest: Hello world", false},
		{"sha prefix only", 200, sha[:12] + ": Hello world", false},
		{"sha without separator", 200, sha + "0: Hello world", false},
		{"error status with sha", 502, sha + ": Hello world", false},
		{"gateway 403", 403, `{"message":"Forbidden"}`, false},
		{"empty", 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ServesVersion(tt.status, tt.body, sha); got != tt.want {
				t.Errorf("ServesVersion(%d, %q) = %v, want %v", tt.status, tt.body, got, tt.want)
			}
		})
	}
	if ServesVersion(200, ": Hello world", "") {
		t.Error("an empty sha must never count as served")
	}
}

func TestNotServed(t *testing.T) {
	tests := []struct {
		status int
		err    error
		want   bool
	}{
		{-1, fmt.Errorf("dial tcp: lookup 1a2b3c4d.example.com: no such host"), true},
		{403, nil, true},
		{404, nil, true},
		{410, nil, true},
		{421, nil, true},
		{200, nil, false},
		{502, nil, false},
		{503, nil, false},
		{500, nil, false},
	}
	for _, tt := range tests {
		if got := NotServed(tt.status, tt.err); got != tt.want {
			t.Errorf("NotServed(%d, %v) = %v, want %v", tt.status, tt.err, got, tt.want)
		}
	}
}

func TestAttempts(t *testing.T) {
	tests := []struct {
		budget, poll time.Duration
		want         int
	}{
		{30 * time.Minute, 15 * time.Second, 120},
		{time.Second, 250 * time.Millisecond, 4},
		{time.Millisecond, time.Second, 1},
		{time.Second, 0, 1},
	}
	for _, tt := range tests {
		if got := attempts(tt.budget, tt.poll); got != tt.want {
			t.Errorf("attempts(%s, %s) = %d, want %d", tt.budget, tt.poll, got, tt.want)
		}
	}
}

// versionServer is a real HTTP server on loopback that answers like the
// service ("<version>: Hello world") for one Host, and switches to the next
// version after a number of requests, like a redeploy that lands mid-wait.
type versionServer struct {
	host     string
	versions []string // "" means not served (404, like the gateway)
	after    int      // requests per version
	n        atomic.Int32
}

func (v *versionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if v.host != "" && r.Host != v.host {
		http.Error(w, "no environment for host "+r.Host, http.StatusNotFound)
		return
	}
	i := int(v.n.Add(1)-1) / v.after
	if i >= len(v.versions) {
		i = len(v.versions) - 1
	}
	if v.versions[i] == "" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "%s: Hello world\n", v.versions[i])
}

func TestWaitServes(t *testing.T) {
	const old, next = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	tests := []struct {
		name     string
		host     string // server routes only this host
		sendHost string // endpoint's Host header
		versions []string
		want     string
		budget   time.Duration
		wantErr  string // substring of the last response on failure
	}{
		{"already served", "", "", []string{next}, next, time.Second, ""},
		{"served after a redeploy", "", "", []string{old, next}, next, 2 * time.Second, ""},
		{"served after not found", "", "", []string{"", next}, next, 2 * time.Second, ""},
		{"routed by Host header", "1a2b3c4d.hello-service.localhost", "1a2b3c4d.hello-service.localhost", []string{next}, next, time.Second, ""},
		{"wrong Host never served", "1a2b3c4d.hello-service.localhost", "ffffffff.hello-service.localhost", []string{next}, next, 300 * time.Millisecond, "404"},
		{"stuck on old version", "", "", []string{old}, next, 300 * time.Millisecond, old + ": Hello world"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&versionServer{host: tt.host, versions: tt.versions, after: 2})
			defer srv.Close()
			ep := Endpoint{URL: srv.URL + "/", Host: tt.sendHost}
			last, err := WaitServes(context.Background(), t, ep, tt.want, tt.budget, 50*time.Millisecond)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("WaitServes: %v (last %s)", err, last)
				}
				if !ServesVersion(last.Status, last.Body, tt.want) {
					t.Errorf("last response %s does not serve %s", last, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("WaitServes succeeded, want a timeout")
			}
			if !strings.Contains(last.String(), tt.wantErr) {
				t.Errorf("last response %q, want it to contain %q", last, tt.wantErr)
			}
		})
	}
}

func TestWaitServesStopsOnContext(t *testing.T) {
	srv := httptest.NewServer(&versionServer{versions: []string{"x"}, after: 1})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := WaitServes(ctx, t, Endpoint{URL: srv.URL}, "never", time.Minute, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want the context deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("WaitServes ran %s after its context ended", d)
	}
}

func TestWaitNotServed(t *testing.T) {
	t.Run("gateway stops routing", func(t *testing.T) {
		srv := httptest.NewServer(&versionServer{versions: []string{"v1", ""}, after: 3})
		defer srv.Close()
		last, err := WaitNotServed(context.Background(), t, Endpoint{URL: srv.URL}, 2*time.Second, 20*time.Millisecond)
		if err != nil || last.Status != http.StatusNotFound {
			t.Fatalf("WaitNotServed = %s, %v; want a 404", last, err)
		}
	})
	t.Run("nothing listens", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		last, err := WaitNotServed(context.Background(), t, Endpoint{URL: "http://" + addr + "/"}, time.Second, 20*time.Millisecond)
		if err != nil || last.Err == "" {
			t.Fatalf("WaitNotServed = %s, %v; want a transport error", last, err)
		}
	})
	t.Run("still served", func(t *testing.T) {
		srv := httptest.NewServer(&versionServer{versions: []string{"v1"}, after: 1})
		defer srv.Close()
		last, err := WaitNotServed(context.Background(), t, Endpoint{URL: srv.URL}, 200*time.Millisecond, 20*time.Millisecond)
		if err == nil || last.Status != http.StatusOK {
			t.Fatalf("WaitNotServed = %s, %v; want a timeout with a 200", last, err)
		}
	})
}

func TestWaitUntilNamesLastReason(t *testing.T) {
	var n int
	err := WaitUntil(context.Background(), t, "function deleted", 100*time.Millisecond, 20*time.Millisecond, func() error {
		n++
		return fmt.Errorf("function preview-hello-service-1a2b3c4d still exists (check %d)", n)
	})
	if err == nil || !strings.Contains(err.Error(), "still exists") || !strings.Contains(err.Error(), "function deleted") {
		t.Fatalf("err = %v", err)
	}
	n = 0
	if err := WaitUntil(context.Background(), t, "third time", time.Second, 10*time.Millisecond, func() error {
		if n++; n < 3 {
			return fmt.Errorf("not yet")
		}
		return nil
	}); err != nil || n != 3 {
		t.Fatalf("WaitUntil = %v after %d checks, want success on the 3rd", err, n)
	}
}

func TestEnvironmentIDFor(t *testing.T) {
	seen := map[string]string{}
	for i := 0; i < 200; i++ {
		run := UniqueID()
		id := EnvironmentIDFor(run)
		if len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("EnvironmentIDFor(%q) = %q, want 8 lowercase hex (infra's validation)", run, id)
		}
		if EnvironmentIDFor(run) != id {
			t.Fatalf("EnvironmentIDFor(%q) is not deterministic", run)
		}
		if prev, ok := seen[id]; ok && prev != run {
			t.Fatalf("runs %q and %q share environment ID %s", prev, run, id)
		}
		seen[id] = run
	}
}
