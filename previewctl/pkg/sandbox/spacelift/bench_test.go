package spacelift

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkManagerRun is issue 11's P3: the manager stack's run over 100,
// 1,000 and 10,000 environment files, in the steady state every PR event
// causes: N environments exist, one file's code_version changes, and the
// run checks out manager/, parses every file, evaluates the template for
// each, diffs against the N stacks, applies the one change and evaluates
// the trigger policy over all N stacks.
//
// ms/manager-run is measured from the run's own state history: from
// leaving the queue (PREPARING) to the trigger policy's recorded decision.
// The environment run the policy then queues is drained with the timer
// stopped. ns/op also counts the push handling before the run (the push
// policy of every stack), which is not the manager run's work; it is
// reported apart as ms/push.
func BenchmarkManagerRun(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchManagerRun(b, n) })
	}
}

func benchManagerRun(b *testing.B, n int) {
	ctx := context.Background()
	h := newHarness(b)
	h.settle() // the start-up reconcile run over a manager with no files

	files := map[string][]byte{}
	paths := make([]string, n)
	for i := range n {
		p, body := envFile(b, "acme", "shop", i+1, sha1, "main")
		files[p], paths[i] = body, p
	}
	ev := h.repo.commit("main", files)
	seedStacks(b, h, ev.After)

	var runMS, planMS, triggerMS, pushMS float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		version := sha2
		if i%2 == 1 {
			version = sha1
		}
		p, body := envFile(b, "acme", "shop", 1, version, "main")
		if p != paths[0] {
			b.Fatalf("environment file moved: %s", p)
		}
		ev := h.repo.commit("main", map[string][]byte{p: body})
		b.StartTimer()

		t := time.Now()
		h.push(ev)
		pushMS += float64(time.Since(t).Microseconds()) / 1000
		r, decided := waitTriggered(b, h, ev.After)

		b.StopTimer()
		if r.State != StateFinished {
			logs, _ := h.eng.Logs(ctx, r.ID)
			b.Fatalf("manager run %s is %s: %+v", r.ID, r.State, logs)
		}
		if changed := applyChanges(r); changed != 1 {
			b.Fatalf("manager run %s applied %d variable change(s), want 1", r.ID, changed)
		}
		began, applying, finished := stateAt(r, StatePreparing), stateAt(r, StateApplying), stateAt(r, StateFinished)
		runMS += float64(decided.Sub(began).Microseconds()) / 1000
		planMS += float64(applying.Sub(began).Microseconds()) / 1000
		triggerMS += float64(decided.Sub(finished).Microseconds()) / 1000
		h.settle() // the triggered environment run is not the manager's work
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(runMS/float64(b.N), "ms/manager-run")
	b.ReportMetric(runMS*1000/float64(b.N)/float64(n), "µs/file")
	b.ReportMetric(planMS/float64(b.N), "ms/plan")
	b.ReportMetric(triggerMS/float64(b.N), "ms/trigger-policy")
	b.ReportMetric(pushMS/float64(b.N), "ms/push")
}

// seedStacks creates the stacks the files at commit declare, as a finished
// manager run leaves them, without the N environment runs that run would
// trigger (they are the data plane's work, not what P3 measures). The
// stacks come from the same evaluation the manager run uses.
func seedStacks(b *testing.B, h *harness, commit string) {
	b.Helper()
	ctx := context.Background()
	cfg := h.eng.cfg
	// Through the engine's own plan cache, as the finished run that created
	// these stacks would have left it: the steady state P3 measures.
	desired, err := readManagerCached(filepath.Join(h.repo.dir, "manager"), cfg.Shared,
		map[string]string{cfg.Shared.PushPolicyID: PolicyPush}, &h.eng.plans)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range desired {
		s := d.Stack
		if !strings.Contains(s.Repository, "/") {
			s.Repository = ownerOf(cfg.Repository) + "/" + s.Repository
		}
		s.State = StackActive
		if err := h.eng.st.putStack(ctx, s, d.Destructor); err != nil {
			b.Fatal(err)
		}
	}
	if err := h.eng.st.setTrackedCommit(ctx, cfg.Manager, commit); err != nil {
		b.Fatal(err)
	}
	stacks, err := h.eng.Stacks(ctx)
	if err != nil || len(stacks) != len(desired)+1 {
		b.Fatalf("seeded %d stacks (%v), want %d and the manager", len(stacks), err, len(desired))
	}
}

// waitTriggered waits for the manager run of commit and the trigger
// policy's decision after it; it returns the run and when the decision was
// recorded.
func waitTriggered(b *testing.B, h *harness, commit string) (Run, time.Time) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	var run Run
	for time.Now().Before(deadline) {
		if run.ID == "" {
			runs, err := h.eng.Runs(ctx, h.eng.cfg.Manager, 3)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range runs {
				if r.Commit == commit {
					run = r
				}
			}
		}
		if run.ID != "" {
			evals, err := h.eng.Evaluations(ctx, 5)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range evals {
				if e.RunID == run.ID && e.Policy == "trigger" {
					r, err := h.eng.Run(ctx, run.ID)
					if err != nil {
						b.Fatal(err)
					}
					return r, e.At
				}
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("no trigger decision after the manager run of %s within 2 minutes (run %+v)", commit, run)
	return Run{}, time.Time{}
}

func applyChanges(r Run) int {
	n := 0
	for _, c := range r.Changes {
		if c.Phase == "apply" && c.Type == "spacelift_environment_variable" {
			n++
		}
	}
	return n
}

func stateAt(r Run, state string) time.Time {
	for _, s := range r.History {
		if s.State == state {
			return s.At
		}
	}
	return time.Time{}
}
