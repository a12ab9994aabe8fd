package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// workspace writes a small workspace whose benchmarks stand where the
// issue's rows look for them, and run real go test over it.
func workspace(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.work":           "go 1.26.0\n\nuse (\n\t./previewctl\n\t./service\n)\n",
		"previewctl/go.mod": "module example/previewctl\n\ngo 1.26.0\n",
		"service/go.mod":    "module example/service\n\ngo 1.26.0\n",
		"previewctl/pkg/sandbox/bench_test.go": `package sandbox
import "testing"
// Reports b.N so the test sees the -benchtime the plan gave it.
func BenchmarkGatewayVsDirect(b *testing.B) {
	for range b.N {
	}
	b.ReportMetric(float64(b.N)/4000, "gateway/direct")
	b.ReportMetric(float64(b.N), "gateway-req/s")
}
`,
		"service/rie/rie_test.go": `package rie
import "testing"
func BenchmarkColdStart(b *testing.B) { b.Fatal("emulator not found: run make tools") }
`,
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunWritesTheReport(t *testing.T) {
	root := workspace(t, map[string]string{
		"bench/cold-test.txt": "date: 2026-11-28T06:00:00Z\ncommit: 0123abcd\nseconds: 412\nexit: 0\n",
		"bench/README.md":     "# Bench\n\nLatest:\n\n" + readmeBegin + "\nold table\n" + readmeEnd + "\n\nHow to reproduce.\n",
	})
	err := run(context.Background(), options{root: root, budget: 5 * time.Minute, timeout: 2 * time.Minute}, io.Discard)
	if !errors.Is(err, errRunsFailed) {
		t.Fatalf("err = %v, want errRunsFailed (one benchmark fails)", err)
	}
	md := read(t, filepath.Join(root, "bench", "results.md"))
	for _, want := range []string{
		// 4000x from the settings: b.N/4000 = 1.
		"| P2 | gateway vs direct emulator invokes of the same warm function, one run: req/s ratio | 1 (gateway 4,000 req/s) | ≥ 0.9 | pass | `go test -run '^$' -bench '^BenchmarkGatewayVsDirect$' -benchtime 4000x -benchmem -count 1 ./previewctl/pkg/sandbox` |",
		"| P5-cold | cold start under AWS's emulator: process start to first response | not measured: benchmark failed: rie_test.go:3: emulator not found: run make tools |",
		"| P1 | PR event to URL serving the new head sha, one-stack environment, sandbox on the real OpenTofu engine (median; compile excluded) | not measured: no benchmark BenchmarkPREventToURL exists yet in any workspace package |",
		"| P6 | `make test` wall time on a cold cache (fresh clone, empty build and module caches, tools built) | 6m52s, recorded 2026-11-28T06:00:00Z at 0123abcd | ≤ 10 min | pass | `make bench-cold` |",
		"| P3-linear | manager run cost per file, 300 files vs 100 (1 = linear) | not measured: needs P3-100 and P3-300 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks\n%s\n---\n%s", want, md)
		}
	}
	readme := read(t, filepath.Join(root, "bench", "README.md"))
	if strings.Contains(readme, "old table") || !strings.Contains(readme, "| P2 | gateway vs direct") ||
		!strings.HasPrefix(readme, "# Bench\n\nLatest:\n\n"+readmeBegin+"\nMeasured ") || !strings.HasSuffix(readme, "|\n"+readmeEnd+"\n\nHow to reproduce.\n") {
		t.Errorf("README not updated between its markers:\n%s", readme)
	}
	raw := read(t, filepath.Join(root, "bench", "results.txt"))
	if !strings.Contains(raw, "pkg: example/previewctl/pkg/sandbox") || !strings.Contains(raw, "BenchmarkGatewayVsDirect") {
		t.Errorf("raw output lacks the run:\n%s", raw)
	}
	if all := read(t, filepath.Join(root, "bench", "raw", "all.txt")); all != raw {
		t.Error("bench/raw/all.txt differs from bench/results.txt")
	}
}

func TestBudgetSpent(t *testing.T) {
	root := workspace(t, nil)
	err := run(context.Background(), options{root: root, budget: time.Nanosecond, timeout: time.Minute}, io.Discard)
	if !errors.Is(err, errRunsFailed) {
		t.Fatalf("err = %v, want errRunsFailed", err)
	}
	md := read(t, filepath.Join(root, "bench", "results.md"))
	if !strings.Contains(md, "| P2 | gateway vs direct emulator invokes of the same warm function, one run: req/s ratio | not measured: not run: time budget spent before this run |") {
		t.Errorf("results.md does not say P2 ran out of budget:\n%s", md)
	}
}

func TestOnlyPrintsAndLeavesResultsAlone(t *testing.T) {
	root := workspace(t, nil)
	var out strings.Builder
	err := run(context.Background(), options{root: root, budget: time.Minute, timeout: time.Minute, only: "sandbox:BenchmarkGateway"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| P2 |") || strings.Contains(out.String(), "./service/rie") ||
		strings.Contains(out.String(), "P5-cold") || strings.Contains(out.String(), "not selected") {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "results.md")); !os.IsNotExist(err) {
		t.Errorf("-only wrote results.md (stat: %v)", err)
	}
}

func TestBadInput(t *testing.T) {
	root := workspace(t, nil)
	for _, tc := range []struct {
		name string
		o    options
		want string
	}{
		{"bad regexp", options{root: root, budget: time.Minute, timeout: time.Minute, only: "("}, `-only "("`},
		{"matches nothing", options{root: root, budget: time.Minute, timeout: time.Minute, only: "nothing"}, "matches no benchmark"},
		{"no workspace", options{root: t.TempDir(), budget: time.Minute, timeout: time.Minute}, "go.work"},
		{"zero budget", options{root: root, timeout: time.Minute}, "-budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.o, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(tc.o.root, "bench", "results.md")); !os.IsNotExist(err) {
				t.Errorf("results.md written on bad input")
			}
		})
	}
	bad := workspace(t, map[string]string{"bench/cold-test.txt": "seconds: x\n"})
	if err := run(context.Background(), options{root: bad, budget: time.Minute, timeout: time.Minute}, io.Discard); err == nil || !strings.Contains(err.Error(), "cold-test.txt") {
		t.Errorf("broken cold record: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(bad, "bench", "results.md")); !os.IsNotExist(err) {
		t.Errorf("results.md written with a broken cold record")
	}
}

func TestList(t *testing.T) {
	root := workspace(t, nil)
	var out strings.Builder
	if err := run(context.Background(), options{root: root, budget: time.Minute, timeout: time.Minute, list: true}, &out); err != nil {
		t.Fatal(err)
	}
	want := "go test -run '^$' -bench '^(BenchmarkGatewayVsDirect)$' -benchtime 4000x -benchmem -count 1 -timeout 1m0s ./previewctl/pkg/sandbox\n" +
		"go test -run '^$' -bench '^(BenchmarkColdStart)$' -benchmem -count 1 -timeout 1m0s ./service/rie\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
