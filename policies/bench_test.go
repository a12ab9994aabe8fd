package policies

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

// benchTriggerInput builds a manager run over `stacks` stacks, half of them
// managed by this manager, with `changes` env var changes (half plan, half
// apply phase) spread over the managed stacks, sanitized as Spacelift's
// default mode does, so every stack goes through sanitized().
func benchTriggerInput(stacks, changes int) TriggerInput {
	const mgr = "hello-service-manager"
	in := TriggerInput{
		Run:   Run{ID: "bench", Type: "TRACKED", State: "FINISHED", Branch: "main"},
		Stack: Stack{ID: mgr, Labels: []string{"preview-environments"}},
	}
	managed := stacks / 2
	in.Stacks = make([]Stack, stacks)
	for i := range in.Stacks {
		owner := mgr
		if i >= managed {
			owner = "other-manager"
		}
		id := fmt.Sprintf("hello-service-%08x", i)
		in.Stacks[i] = Stack{
			ID: id, Name: id, Branch: "main", ProjectRoot: "infra", Repository: "preview-environments",
			Labels: []string{"preview-environment-managed-by:" + owner, "preview_environment_id:" + id[14:], "service:hello-service"},
		}
	}
	in.Run.Changes = make([]Change, changes)
	for i := range in.Run.Changes {
		stack := in.Stacks[(i/2)%managed].ID
		phase := "apply"
		if i%2 == 0 {
			phase = "plan"
		}
		in.Run.Changes[i] = Change{
			Action: "destroy-Before-create-replaced", Phase: phase,
			Entity: Entity{
				Address:    fmt.Sprintf("module.env_%s.spacelift_environment_variable.v%d", stack[14:], i),
				Name:       fmt.Sprintf("v%d", i),
				Type:       "spacelift_environment_variable",
				EntityType: "resource", EntityVendor: "terraform",
				Data: map[string]any{"values": map[string]any{
					"stack_id": Sanitized(stack), "name": Sanitized(fmt.Sprintf("TF_VAR_v%d", i)),
					"value": Sanitized("v"), "write_only": false,
				}},
			},
		}
	}
	return in
}

// benchDistinctTriggerInput is benchTriggerInput with changes that all
// differ in what the policy reads (stack, action, phase), so that none is
// dropped as a duplicate: the worst case for the same sizes. The same
// stacks are triggered.
func benchDistinctTriggerInput(stacks, changes int) TriggerInput {
	in := benchTriggerInput(stacks, changes)
	combos := [][2]string{
		{"destroy-Before-create-replaced", "plan"}, {"destroy-Before-create-replaced", "apply"},
		{"added", "plan"}, {"added", "apply"}, {"changed", "plan"}, {"changed", "apply"},
		{"create-Before-destroy-replaced", "plan"}, {"create-Before-destroy-replaced", "apply"},
	}
	if changes > stacks*len(combos) {
		panic("more changes than distinct (stack, action, phase) triples")
	}
	for i := range in.Run.Changes {
		c := &in.Run.Changes[i]
		combo := combos[i/stacks]
		c.Action, c.Phase = combo[0], combo[1]
		c.Entity.Data["values"].(map[string]any)["stack_id"] = Sanitized(in.Stacks[i%stacks].ID)
	}
	return in
}

// BenchmarkTrigger measures Trigger end to end (conversion of the typed
// input to OPA's value form, evaluation). Goal: <= 200 ms/op at 10,000
// stacks x 50,000 changes; the smaller sizes show the cost is linear.
func BenchmarkTrigger(b *testing.B) {
	e := newEvaluator(b)
	for _, size := range []struct{ stacks, changes int }{{100, 500}, {1000, 5000}, {10000, 50000}} {
		in := benchTriggerInput(size.stacks, size.changes)
		b.Run(fmt.Sprintf("stacks=%d/changes=%d", size.stacks, size.changes), func(b *testing.B) {
			ctx := b.Context()
			var n int
			cpu0 := cpuTime(b)
			for b.Loop() {
				ids, err := e.Trigger(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ids)
			}
			if n != size.stacks/2 {
				b.Fatalf("triggered %d stacks, want %d", n, size.stacks/2)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.stacks+size.changes), "ns/item")
		})
	}
}

// BenchmarkTriggerPhases splits Trigger's cost at the largest size into
// encoding the typed input as an OPA value (only the paths the policy reads,
// iterated arrays without duplicates, as Trigger does) and evaluating the
// policy on it. "distinct" is Trigger end to end on changes that are all
// distinct once projected (benchDistinctTriggerInput), where dropping
// duplicates saves nothing.
func BenchmarkTriggerPhases(b *testing.B) {
	e := newEvaluator(b)
	b.Run("distinct", func(b *testing.B) {
		in := benchDistinctTriggerInput(10000, 50000)
		ctx := b.Context()
		var n int
		cpu0 := cpuTime(b)
		for b.Loop() {
			ids, err := e.Trigger(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			n = len(ids)
		}
		if n != 5000 {
			b.Fatalf("triggered %d stacks, want 5000", n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
	})
	in := benchTriggerInput(10000, 50000)
	b.Run("encode", func(b *testing.B) {
		cpu0 := cpuTime(b)
		for b.Loop() {
			if _, err := toProjectedValue(in, e.triggerReads); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
	})
	b.Run("eval", func(b *testing.B) {
		v, err := toProjectedValue(in, e.triggerReads)
		if err != nil {
			b.Fatal(err)
		}
		ctx := b.Context()
		cpu0 := cpuTime(b)
		for b.Loop() {
			if _, err := e.trigger.Eval(ctx, rego.EvalParsedInput(v)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
	})
}

// cpuTime is the process's user+system CPU time. The machine is shared, so
// wall time per op swings with other load; CPU time per op (which includes
// the garbage collector's work on other threads) does much less.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
