package spacelift

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/spacelift/tofurun"
)

// BenchmarkManagerRun is P3 on the real engine: the manager stack's run
// over 100 and 300 environment files in the steady state every PR event
// causes (N environments exist and are in the manager's state; one file's
// code_version changes), next to a bare `tofu plan` of the same tree with
// the same state and providers, measured in the same run.
//
// ms/manager-run is the run from leaving the queue to the trigger policy's
// decision: checkout, tofu init, plan (which refreshes every resource
// through the provider), show, apply of the one change, the state read
// back and the policy. ms/bare-plan is `tofu plan` alone in a prepared
// directory, measured with nothing else running. The environment stacks'
// own runs are not P3's work: the benchmark cancels the runs the trigger
// policy queues (and lets the one already started end) before it measures
// anything.
func BenchmarkManagerRun(b *testing.B) {
	// 1,000 files would need a quarter of an hour per size (a plan walks
	// 12,000 resources three times per run), past make bench's budget;
	// 100 and 300 show the cost per file and whether it stays linear.
	for _, n := range []int{100, 300} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchManagerRun(b, n) })
	}
}

func benchManagerRun(b *testing.B, n int) {
	h := newHarness(b)
	h.settle()
	h.eng.cfg.Workers = 1 // the environment runs the policy queues wait behind the measured one
	files := map[string][]byte{}
	paths := make([]string, n)
	for i := range n {
		p, body := envFile(b, "acme", "shop", i+1, sha1, "main")
		files[p], paths[i] = body, p
	}
	h.push(h.repo.commit("main", files))
	h.decisionAt(b, waitManager(b, h).ID)
	h.dropQueued()
	h.settle() // the environment run that had started before the drop

	var runMS, bareMS, triggerMS float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		version := sha2
		if i%2 == 1 {
			version = sha1
		}
		p, body := envFile(b, "acme", "shop", 1, version, "main")
		ev := h.repo.commit("main", map[string][]byte{p: body})
		b.StartTimer()
		h.push(ev)
		r := waitManager(b, h)
		b.StopTimer()
		decided := h.decisionAt(b, r.ID)
		if changed := len(applied(r)); changed != 1 {
			b.Fatalf("manager run %s applied %d change(s), want 1: %v", r.ID, changed, applied(r))
		}
		began, finished := stateAt(r, StatePreparing), stateAt(r, StateFinished)
		runMS += float64(decided.Sub(began).Microseconds()) / 1000
		triggerMS += float64(decided.Sub(finished).Microseconds()) / 1000
		h.dropQueued()
		h.settle()
		bareMS += h.barePlan(b, ev.After)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(runMS/float64(b.N), "ms/manager-run")
	b.ReportMetric(bareMS/float64(b.N), "ms/bare-plan")
	b.ReportMetric(runMS/bareMS, "ratio")
	b.ReportMetric(runMS*1000/float64(b.N)/float64(n), "µs/file")
	b.ReportMetric(triggerMS/float64(b.N), "ms/trigger-policy")
}

// waitManager waits for the engine to have nothing but environment runs
// queued and returns the manager's last run.
func waitManager(b *testing.B, h *harness) Run {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		runs, err := h.eng.Runs(ctx, managerID, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(runs) == 1 && Terminal(runs[0].State) {
			if q, _ := h.eng.st.QueuedRuns(ctx); !hasManagerRun(q) {
				if runs[0].State != StateFinished {
					b.Fatalf("manager run %s is %s:\n%s", runs[0].ID, runs[0].State, h.log(runs[0].ID))
				}
				return runs[0]
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("the manager run did not finish within 10 minutes")
	return Run{}
}

func hasManagerRun(q []Run) bool {
	for _, r := range q {
		if r.StackID == managerID {
			return true
		}
	}
	return false
}

// dropQueued cancels the environment runs the trigger policy queued: what
// they do is the data plane's work, not the manager run's.
func (h *harness) dropQueued() {
	ctx := context.Background()
	q, _ := h.eng.st.QueuedRuns(ctx)
	for _, r := range q {
		if r.StackID != managerID {
			_, _ = h.eng.st.SetRunState(ctx, r.ID, StateCanceled)
		}
	}
}

// decisionAt waits for the trigger policy's decision after runID (it is
// made once the run is already FINISHED) and returns when it was recorded.
func (h *harness) decisionAt(b *testing.B, runID string) time.Time {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		evals, err := h.eng.Evaluations(context.Background(), 50)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evals {
			if e.RunID == runID && e.Policy == "trigger" {
				return e.At
			}
		}
	}
	b.Fatalf("no trigger decision recorded for %s within a minute", runID)
	return time.Time{}
}

// barePlan times `tofu plan` of the manager at commit against the
// manager's state, as a person would run it by hand: the same checkout,
// providers, backend and variables, initialised beforehand.
func (h *harness) barePlan(b *testing.B, commit string) float64 {
	b.Helper()
	ctx := context.Background()
	s, err := h.eng.st.Stack(ctx, managerID)
	if err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	for _, d := range checkoutDirs(s) {
		if err := h.repo.Export(ctx, "", commit, d, work); err != nil {
			b.Fatal(err)
		}
	}
	root := filepath.Join(work, "manager")
	if err := os.WriteFile(filepath.Join(root, tofurun.BackendOverrideFile), []byte(tofurun.BackendOverrideHCL), 0o644); err != nil {
		b.Fatal(err)
	}
	token, revoke := h.eng.tokens.Issue(s.ID, "bench")
	defer revoke()
	env := h.eng.runEnv(s, token, work)
	run := func(args ...string) time.Duration {
		cmd := exec.CommandContext(ctx, h.eng.cfg.Tofu.Path, args...)
		cmd.Dir, cmd.Env = root, env
		t := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
		return time.Since(t)
	}
	run("init", "-input=false", "-no-color")
	return float64(run("plan", "-input=false", "-no-color", "-lock=false").Microseconds()) / 1000
}

func stateAt(r Run, state string) time.Time {
	for _, s := range r.History {
		if s.State == state {
			return s.At
		}
	}
	return time.Time{}
}
