package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// referenceTriggerPolicy is trigger.rego as it was before its stack loop
// was written out without the has_ref helper (commit 49d15e6, comments
// dropped): the straightforward formulation the current one must agree with.
const referenceTriggerPolicy = `package spacelift

manager_run_applied if {
	input.run.type == "TRACKED"
	input.run.state == "FINISHED"
}

managed_label := concat("", ["preview-environment-managed-by:", input.stack.id])

change_kinds := {
	"spacelift_environment_variable": {
		"added": "changed",
		"changed": "changed",
		"create-Before-destroy-replaced": "changed",
		"destroy-Before-create-replaced": "changed",
	},
	"spacelift_stack": {"deleted": "deleted"},
	"spacelift_stack_destructor": {"deleted": "deleted"},
}

stack_id_attribute := {
	"spacelift_environment_variable": "stack_id",
	"spacelift_stack": "id",
	"spacelift_stack_destructor": "stack_id",
}

stack_refs contains [kind, ref] if {
	kinds := change_kinds
	attributes := stack_id_attribute
	some change in input.run.changes
	change.phase == "apply"
	entity := change.entity
	kind := kinds[entity.type][change.action]
	ref := entity.data.values[attributes[entity.type]]
}

has_ref(kind, stack_id) if [kind, stack_id] in stack_refs

has_ref(kind, stack_id) if [kind, sanitized(stack_id)] in stack_refs

trigger contains stack.id if {
	manager_run_applied
	some stack in input.stacks
	managed_label in stack.labels
	stack.id != input.stack.id
	has_ref("changed", stack.id)
	not has_ref("deleted", stack.id)
}
`

// plainTrigger evaluates query on in the plain way: the input marshalled to
// JSON and handed to OPA whole (no projection, no duplicate dropping), the
// module compiled for this one evaluation.
func plainTrigger(t *testing.T, module, query string, in TriggerInput) ast.Value {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(
		rego.Query(query),
		rego.Module("trigger.rego", module),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Input(doc),
		sanitizedOption(),
	).Eval(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return ast.NewSet() // trigger undefined: nothing triggered
	}
	v, err := ast.InterfaceToValue(rs[0].Expressions[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sortedIDs(t *testing.T, v ast.Value) []string {
	t.Helper()
	var ids []string
	switch c := v.(type) {
	case *ast.Array: // a set, as JSON
		c.Foreach(func(x *ast.Term) { ids = append(ids, string(x.Value.(ast.String))) })
	case ast.Set:
		c.Foreach(func(x *ast.Term) { ids = append(ids, string(x.Value.(ast.String))) })
	default:
		t.Fatalf("trigger is %v", v)
	}
	slices.Sort(ids)
	return append([]string{}, ids...)
}

// The fast path (Trigger: typed input projected, iterated arrays without
// their duplicates, the current policy) decides exactly what the reference
// policy decides when evaluated the plain way, on large randomized accounts
// with every case the policy distinguishes, and the current policy's whole
// output is the same on the projected and on the full input.
func TestTriggerFastPathMatchesPlainEvaluation(t *testing.T) {
	e := newEvaluator(t)
	inputs := map[string]TriggerInput{"bench": benchTriggerInput(2000, 10000)}
	for seed := range uint64(4) {
		inputs[fmt.Sprintf("seed %d", seed)] = largeRandomTriggerInput(rand.New(rand.NewPCG(seed, 16)), 3000, 15000)
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got, err := e.Trigger(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := sortedIDs(t, plainTrigger(t, referenceTriggerPolicy, "data.spacelift.trigger", in))
			if !slices.Equal(got, want) {
				t.Fatalf("Trigger: %d stacks, reference policy (plain evaluation): %d\nonly in Trigger: %q\nonly in reference: %q",
					len(got), len(want), missing(got, want), missing(want, got))
			}
			if len(want) < 50 {
				t.Fatalf("only %d stacks triggered: the input proves little", len(want))
			}
			if name != "bench" {
				// Deletions must keep some changed stacks out, or that case is untested.
				kept := in
				kept.Run.Changes = slices.DeleteFunc(slices.Clone(in.Run.Changes), func(c Change) bool { return c.Action == "deleted" })
				if n := len(sortedIDs(t, plainTrigger(t, referenceTriggerPolicy, "data.spacelift.trigger", kept))); n <= len(want) {
					t.Fatalf("without deletions %d stacks are triggered, with them %d: no deletion matters", n, len(want))
				}
			}
			current := sortedIDs(t, plainTrigger(t, TriggerSource(), "data.spacelift.trigger", in))
			if !slices.Equal(current, want) {
				t.Fatalf("trigger.rego evaluated the plain way: %d stacks, reference: %d", len(current), len(want))
			}

			full, err := toValue(in)
			if err != nil {
				t.Fatal(err)
			}
			projected, err := toProjectedValue(in, e.triggerReads)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := projected.Find(ast.MustParseRef("x.run.changes")[1:])
			if err != nil {
				t.Fatal(err)
			}
			if n := changes.(*ast.Array).Len(); n >= len(in.Run.Changes) {
				t.Fatalf("projected input keeps all %d changes: duplicates were not dropped", n)
			}
			if got, want := evalAll(t, e.triggerFull, projected), evalAll(t, e.triggerFull, full); ast.Compare(got, want) != 0 {
				t.Errorf("policy output on the projected input differs from the output on the full input")
			}
		})
	}
}

// missing lists the elements of a (sorted) that b (sorted) lacks.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

// largeRandomTriggerInput is an account of `stacks` stacks and a finished
// tracked run of `changes` changes drawn from changes/5 distinct ones, so
// most changes repeat another in everything the policy reads. It mixes
// stacks of this manager, of another one and of none, the manager itself
// among its own stacks, plain, sanitized, null, missing and numeric
// references, plan and apply phases, every action, deletions by stack and
// by destructor, context variables and unrelated resources.
func largeRandomTriggerInput(r *rand.Rand, stacks, changes int) TriggerInput {
	const mgr = "mgr-a"
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	in := TriggerInput{
		Run:   Run{ID: "run", Type: "TRACKED", State: "FINISHED", Branch: "main"},
		Stack: Stack{ID: mgr, Name: mgr, Labels: []string{"preview-environments"}},
	}
	ids := []string{mgr, "mgr-b"}
	for i := range stacks - len(ids) {
		ids = append(ids, fmt.Sprintf("env-%05d", i))
	}
	for _, id := range ids {
		labels := []string{"service:hello"}
		switch r.IntN(8) {
		case 0, 1, 2, 3:
			labels = append(labels, "preview-environment-managed-by:"+mgr)
		case 4, 5:
			labels = append(labels, "preview-environment-managed-by:mgr-b")
		case 6:
			labels = append(labels, "preview-environment-managed-by:"+mgr, "preview-environment-managed-by:mgr-b")
		}
		if id == mgr {
			labels = append(labels, "preview-environment-managed-by:"+mgr) // labelled as its own
		}
		in.Stacks = append(in.Stacks, Stack{ID: id, Name: id, Labels: labels, Branch: "main", ProjectRoot: "infra"})
	}
	distinct := make([]Change, max(1, changes/5))
	for i := range distinct {
		id := ids[r.IntN(len(ids))]
		typ := pick("spacelift_environment_variable", "spacelift_environment_variable", "spacelift_environment_variable",
			"spacelift_environment_variable", "spacelift_stack", "spacelift_stack_destructor", "aws_s3_bucket", "output")
		attr := "stack_id"
		if typ == "spacelift_stack" {
			attr = "id"
		}
		values := map[string]any{}
		switch r.IntN(20) {
		case 0, 1:
			values[attr] = nil // a context's variable
		case 2:
			// no such attribute
		case 3:
			values[attr] = 7.0
		case 4:
			values[attr] = Sanitized("no-such-stack")
		case 5, 6, 7, 8, 9, 10:
			values[attr] = id
		default:
			values[attr] = Sanitized(id)
		}
		action := pick("added", "changed", "create-Before-destroy-replaced", "destroy-Before-create-replaced", "import", "forget")
		if typ != "spacelift_environment_variable" || r.IntN(10) == 0 {
			action = pick("deleted", "deleted", "changed", "added")
		}
		distinct[i] = Change{
			Action: action,
			Phase:  pick("plan", "apply", "apply"),
			Entity: Entity{Type: typ, EntityType: "resource", EntityVendor: "terraform", Data: map[string]any{"values": values}},
		}
	}
	for i := range changes {
		c := distinct[r.IntN(len(distinct))]
		// Differs from its template only in what the policy never reads.
		values := map[string]any{"name": Sanitized(fmt.Sprintf("TF_VAR_v%d", i)), "write_only": r.IntN(2) == 0}
		for k, v := range c.Entity.Data["values"].(map[string]any) {
			values[k] = v
		}
		c.Moved = r.IntN(10) == 0
		c.Entity.Name = fmt.Sprintf("v%d", i)
		c.Entity.Address = fmt.Sprintf("%s.v%d", c.Entity.Type, i)
		c.Entity.Data = map[string]any{"values": values, "sensitive_values": map[string]any{}}
		in.Run.Changes = append(in.Run.Changes, c)
	}
	return in
}
