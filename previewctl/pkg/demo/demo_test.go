package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/internal/proctable"
	"preview-environments/previewctl/pkg/managerdir"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func needRIE(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		p = filepath.Join(repoRoot(t), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err != nil {
			t.Fatal("aws-lambda-rie not in PATH or bin/: run make tools")
		}
	}
	return p
}

// syncBuffer is an io.Writer safe for the platform's goroutines and the
// test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// emulatorsUnder lists live aws-lambda-rie processes whose bootstrap lives under dir.
func emulatorsUnder(t *testing.T, dir string) []int {
	t.Helper()
	pids, err := proctable.Emulators(dir)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// TestDemo runs the narrated lifecycle end to end (real git, policies,
// builds and emulators) in both output modes, and checks what it claims
// in its narration as well as its exit and clean-up.
func TestDemo(t *testing.T) {
	rie := needRIE(t)
	root := repoRoot(t)
	claims := []*regexp.Regexp{
		regexp.MustCompile(`PR #1 opened from demo/greeting at [0-9a-f]{7}`),
		regexp.MustCompile(`environment [0-9a-f]{8} serves "[0-9a-f]{40}: Hello world"`),
		regexp.MustCompile(`stack hello-service-[0-9a-f]{8}-data \(data\): run \S+ FINISHED\n.*stack hello-service-[0-9a-f]{8} \(service, depends on hello-service-[0-9a-f]{8}-data\): run \S+ FINISHED`),
		regexp.MustCompile(`\$ curl http://[0-9a-f]{8}\.hello-service\.localhost:[0-9]+/hello`),
		regexp.MustCompile(`trigger policy fired on stack manager-hello-service after run \S+ \(.*\): trigger hello-service-[0-9a-f]{8}`),
		regexp.MustCompile(`stack hello-service-[0-9a-f]{8}: run \S+ FINISHED, because: trigger policy after`),
		regexp.MustCompile(`environment [0-9a-f]{8} serves "[0-9a-f]{40}: Hello world" \(`),
		regexp.MustCompile(`stacks of [0-9a-f]{8} run from branch demo/infra-greeting with code_version latest`),
		regexp.MustCompile(`serves "latest: Hello from the data stack"`),
		regexp.MustCompile(`PR #1: destroy run \S+ FINISHED, stack hello-service-[0-9a-f]{8} deleted, \S+ answers 404`),
		regexp.MustCompile(`PR #2: destroy run \S+ FINISHED, stack hello-service-[0-9a-f]{8} deleted, \S+ answers 404`),
		regexp.MustCompile(`demo passed in [0-9.]+ s`),
		regexp.MustCompile(`(?m)^\[ *[0-9]+\.[0-9]s\] step 4/4: close PRs #1 and #2`),
	}
	// The terminal run also keeps the sandbox (make demo KEEP=1): one
	// lifecycle proves both, where a third full run would only repeat it.
	tests := []struct {
		name     string
		terminal bool
		keep     bool
	}{
		{"plain output for logs", false, false},
		{"terminal output, sandbox kept", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "demo")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out syncBuffer
			var prs string
			kept := false
			cfg := Config{RepoRoot: root, Addr: "127.0.0.1:0", DataDir: data, RIEPath: rie,
				Out: &out, Terminal: tc.terminal, StepTimeout: 90 * time.Second, Keep: tc.keep}
			if tc.keep {
				cfg.Kept = func(addr string) {
					kept = true
					defer cancel()
					resp, err := http.Get("http://" + addr + "/api/prs")
					if err != nil {
						t.Errorf("kept sandbox does not answer: %v", err)
						return
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					prs = string(b)
				}
			}
			err := Run(ctx, cfg)
			text := out.String()
			if err != nil {
				t.Fatalf("demo failed: %v\n%s", err, text)
			}
			plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(text, "")
			for _, re := range claims {
				if !re.MatchString(plain) {
					t.Errorf("narration lacks %q", re)
				}
			}
			hasANSI := strings.Contains(text, "\x1b[")
			if hasANSI != tc.terminal {
				t.Errorf("ANSI escapes present=%v, want %v", hasANSI, tc.terminal)
			}
			// Preview states while waiting are for people only.
			if states := strings.Contains(plain, "· preview building: Building "); states != tc.terminal {
				t.Errorf("intermediate preview states shown=%v, want %v", states, tc.terminal)
			}
			if tc.keep {
				// Kept: it served after the lifecycle (the PRs it closed
				// are visible through the API) until the context ended,
				// and its state stays on disk.
				if !kept {
					t.Error("Kept was not called")
				}
				if strings.Count(prs, `"state":"closed"`) != 2 {
					t.Errorf("GET /api/prs on the kept sandbox = %s, want both demo PRs closed", prs)
				}
				if !strings.Contains(text, "Stop it with Ctrl-C") {
					t.Error("no stop instructions")
				}
				if _, err := os.Stat(filepath.Join(data, "state.db")); err != nil {
					t.Errorf("kept state is gone: %v", err)
				}
			} else if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data directory %s left behind (%v)", data, err)
			}
			if pids := emulatorsUnder(t, data); len(pids) > 0 {
				t.Errorf("emulators %v outlived the demo", pids)
			}
			if t.Failed() {
				t.Logf("narration:\n%s", text)
			}
		})
	}
}

// TestDemoFailureReport: a step that cannot be observed in time fails the
// demo with its number, and the report carries the CI log, the Spacelift
// runs and the last HTTP response; the state stays for inspection.
func TestDemoFailureReport(t *testing.T) {
	rie := needRIE(t)
	data := filepath.Join(t.TempDir(), "demo")
	var out syncBuffer
	err := Run(context.Background(), Config{RepoRoot: repoRoot(t), Addr: "127.0.0.1:0", DataDir: data, RIEPath: rie,
		Out: &out, StepTimeout: time.Millisecond})
	var se *StepError
	if !errors.As(err, &se) || se.Step != 1 {
		t.Fatalf("err %v, want a failure of step 1\n%s", err, out.String())
	}
	for _, want := range []string{"FAILED: step 1/4", "CI log of PR #1:", "Spacelift run ", "on manager-hello-service",
		"last HTTP response:", "GET http://", "state kept for inspection in " + data} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(data, "platform.log")); err != nil {
		t.Errorf("state not kept after a failure: %v", err)
	}
}

func TestFreshDir(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(dir string)
		wantErr bool
	}{
		{"missing is created", func(string) {}, false},
		{"empty is used", func(dir string) { os.MkdirAll(dir, 0o755) }, false},
		{"a previous demo's is wiped", func(dir string) {
			os.MkdirAll(filepath.Join(dir, "functions"), 0o755)
			os.WriteFile(filepath.Join(dir, marker), nil, 0o644)
			os.WriteFile(filepath.Join(dir, "state.db"), []byte("old"), 0o644)
		}, false},
		{"someone else's is refused", func(dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("keep me"), 0o644)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			tc.setup(dir)
			err := freshDir(dir)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "refusing to wipe") {
					t.Fatalf("err %v, want a refusal", err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "precious.txt")); string(b) != "keep me" {
					t.Fatal("a refused directory was changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 || ents[0].Name() != marker {
				t.Fatalf("after freshDir %s holds %v, want only the marker", dir, ents)
			}
		})
	}
}

func TestPickAddr(t *testing.T) {
	// Hold the default port if it is free, so "busy" is what is tested
	// either way.
	if l, err := net.Listen("tcp", DefaultAddr); err == nil {
		defer l.Close()
	}
	tests := []struct {
		name, in, want string
		busy, wantErr  bool
	}{
		{name: "default busy falls back to a free port", in: "", want: "127.0.0.1:0", busy: true},
		{name: "explicit loopback", in: "127.0.0.1:9999", want: "127.0.0.1:9999"},
		{name: "explicit ipv6 loopback", in: "[::1]:9999", want: "[::1]:9999"},
		{name: "not loopback", in: "0.0.0.0:8080", wantErr: true},
		{name: "no port", in: "127.0.0.1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, busy, err := pickAddr(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error=%v", err, tc.wantErr)
			}
			if !tc.wantErr && (got != tc.want || busy != tc.busy) {
				t.Fatalf("pickAddr(%q) = %q, busy=%v; want %q, busy=%v", tc.in, got, busy, tc.want, tc.busy)
			}
		})
	}
}
