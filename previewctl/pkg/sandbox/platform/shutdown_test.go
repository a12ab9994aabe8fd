package platform

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
)

// lockedBuffer is a log sink the platform's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestShutdownDuringCI: stopping the platform (SIGTERM for `sandbox up`)
// while a PR's CI step runs stops the step before the store closes. Before
// the fix, the data plane closed the store as soon as the signal arrived and
// the step went on writing: "sql: database is closed" in the log, and the
// PR's CI log blamed "a newer event for this PR" for the cancellation.
func TestShutdownDuringCI(t *testing.T) {
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		t.Fatal("aws-lambda-rie not on PATH: run make tools (make test puts bin/ on PATH)")
	}
	for _, tc := range []struct {
		name  string
		files func() map[string][]byte
		state string // stop once the PR's preview is in this state
		step  string // the CI step the stop cancels
	}{
		{"while building", func() map[string][]byte { return handlerWith(t, "Hello shutdown") }, PreviewBuilding, "package"},
		{"while waiting for the deploy", func() map[string][]byte { return map[string][]byte{"docs/shutdown.md": []byte("x\n")} }, PreviewDeploying, "wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := Open(ctx, Config{
				Sandbox:     sandbox.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), RIEPath: rie},
				RepoRoot:    repoRoot(t),
				WaitTimeout: 90 * time.Second,
				Log:         slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err != nil {
				t.Fatalf("open platform: %v", err)
			}
			served := make(chan error, 1)
			go func() { served <- p.Serve(ctx) }()
			<-p.Ready()
			pr, err := p.OpenPR(context.Background(), "shutdown/"+tc.step, "Stop during "+tc.step, tc.files())
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Minute)
			for {
				pv, err := p.Preview(context.Background(), pr.Number)
				if err == nil && pv.State == tc.state {
					break
				}
				if err == nil && (pv.State == PreviewLive || pv.State == PreviewFailed) || time.Now().After(deadline) {
					t.Fatalf("preview %+v (%v): never seen %s, nothing to interrupt", pv, err, tc.state)
				}
				time.Sleep(5 * time.Millisecond)
			}

			cancel() // what SIGTERM does to `sandbox up`
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("Serve did not return within 60s of the stop")
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			log := logs.String()
			want := fmt.Sprintf("%s: canceled (the sandbox is stopping; the next start resumes it)", tc.step)
			for _, bad := range []string{"database is closed", "took over"} {
				if strings.Contains(log, bad) {
					t.Errorf("log holds %q:\n%s", bad, log)
				}
			}
			if !strings.Contains(log, want) {
				t.Errorf("log lacks the CI line %q:\n%s", want, log)
			}
		})
	}
}
