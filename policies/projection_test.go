package policies

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// The trigger policy's projection is what its rules read and nothing else.
// If trigger.rego starts reading another field, this list (and the
// equivalence test below) says so.
func TestTriggerProjectionPaths(t *testing.T) {
	p, err := policyProjection(TriggerPolicy)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"input.run.changes.*.action",
		"input.run.changes.*.entity.data.values.id",
		"input.run.changes.*.entity.data.values.stack_id",
		"input.run.changes.*.entity.type",
		"input.run.changes.*.phase",
		"input.run.state",
		"input.run.type",
		"input.stack.id",
		"input.stacks.*.id",
		"input.stacks.*.labels",
	}
	if got := strings.Split(p.String(), "\n"); !slices.Equal(got, want) {
		t.Errorf("trigger policy reads\n%s\nwant\n%s", p, strings.Join(want, "\n"))
	}
	// Both arrays are only iterated: their duplicates are dropped.
	if got, want := p.unorderedPaths(), "input.run.changes\ninput.stacks"; got != want {
		t.Errorf("trigger policy's unordered arrays\n%s\nwant\n%s", got, want)
	}
}

// unorderedPaths lists, sorted, the paths of the arrays whose duplicates
// the encoder drops.
func (p *projection) unorderedPaths() string {
	var lines []string
	var walk func(prefix string, n *projection)
	walk = func(prefix string, n *projection) {
		if n.whole {
			return // converted in full, duplicates and all
		}
		if n.unordered() {
			lines = append(lines, prefix)
		}
		for k, c := range n.children {
			walk(prefix+"."+k, c)
		}
	}
	walk("input", p)
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// An array may lose its duplicates only if nothing can count or locate its
// elements: every access is an iteration whose index is used for nothing
// else, outside any array comprehension, and the array is never used whole.
func TestInputProjectionUnordered(t *testing.T) {
	cases := []struct {
		name string
		body string
		want string // unorderedPaths
	}{
		{"iteration", `p if { some x in input.xs; x.k == 1 }`, "input.xs"},
		{"wildcard", `p if input.xs[_].k == 1`, "input.xs"},
		{"declared index used once", `p if { some i; input.xs[i].k == 1 }`, "input.xs"},
		{"partial set", `s contains x.k if { some x in input.xs }`, "input.xs"},
		{"partial object", `o[x.k] := x.v if { some x in input.xs }`, "input.xs"},
		{"complete rule", `v := x.k if { some x in input.xs }`, "input.xs"},
		{"function", `f(k) if { some x in input.xs; x.k == k }
p if f(1)`, "input.xs"},
		{"alias of the array", `p if { xs := input.xs; some x in xs; x.k == 1 }`, "input.xs"},
		{"element used whole", `p if { some x in input.xs; x == {"k": 1} }`, "input.xs"},
		{"set comprehension", `p if count({x | some x in input.xs}) > 1`, "input.xs"},
		{"object comprehension", `p if count({x.k: x.v | some x in input.xs}) > 1`, "input.xs"},
		{"negation", `p if not q
q if input.xs[_].k == 1`, "input.xs"},
		{"nested arrays", `p if { some x in input.xs; some y in x.ys; y == 1 }`, "input.xs\ninput.xs.*.ys"},
		{"array comprehension", `p if count([x | some x in input.xs]) > 1`, ""},
		{"set comprehension inside an array comprehension", `p if count([1 | some y in {x | some x in input.xs}]) > 1`, ""},
		{"index used", `p if { some i, x in input.xs; i > 0; x.k == 1 }`, ""},
		{"index shared by two arrays", `p if { some i; input.xs[i] == input.ys[i] }`, ""},
		{"constant index", `p if input.xs[0].k == 1`, ""},
		{"index passed in", `f(i) := input.xs[i].k
p if f(0) == 1`, ""},
		{"counted", `p if { some x in input.xs; x.k == 1; count(input.xs) > 1 }`, ""},
		{"alias counted", `p if { xs := input.xs; some x in xs; x.k == 1; count(xs) > 1 }`, ""},
		{"membership", `p if 1 in input.xs`, ""},
		{"every", `p if { every x in input.xs { x.k == 1 } }`, ""},
		{"with", `q if input.xs[_].k == 1
p if q with input.a as 1`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := inputProjection(compiled(t, c.body)).unorderedPaths(); got != c.want {
				t.Errorf("unordered arrays of\n%s\n= %q, want %q", c.body, got, c.want)
			}
		})
	}
}

// Whatever the analysis cannot follow keeps the whole value it touches.
func TestInputProjectionIsConservative(t *testing.T) {
	cases := []struct {
		name string
		body string
		want string
	}{
		{"field", `p if input.a.b == 1`, "input.a.b"},
		{"alias and iteration", `p if { some x in input.xs; x.k == 1 }`, "input.xs.*.k"},
		{"alias of an alias", `p if { x := input.a; y := x.b; y.c == 1 }`, "input.a.b.c"},
		{"aliased value used whole", `p if { x := input.a; x.b == 1; count(x) > 0 }`, "input.a"},
		{"passed to a function", `f(x) := x.b
p if f(input.a) == 1`, "input.a"},
		{"function argument compared to input", `f(x) if { x = input.a; x.b == 1 }
p if f({"b": 1})`, "input.a"},
		{"function argument compared to input in an else", `f(x) if { x == 0 } else if { x = input.a; x.b == 1 }
p if f({"b": 1})`, "input.a"},
		{"existence only", `p if { x := input.a }`, "input.a"},
		{"key from a constant rule", `attrs := {"a": "x", "b": "y"}
p if { some t in input.ts; input.o[attrs[t]] == 1 }`, "input.o.x\ninput.o.y\ninput.ts.*"},
		{"key from a constant rule, only keys that exist", `attrs := {"a": "x", "b": "y"}
p if { some t in ["a", "c"]; input.o[attrs[t]] == 1 }`, "input.o.x"},
		{"key from a constant rule, constant lookup", `attrs := {"a": "x", "b": "y"}
p if { k := attrs.b; input.o[k] == 1 }`, "input.o.y"},
		{"key from a rule that is not constant", `attrs := {"a": input.k}
p if { k := attrs.a; input.o[k] == 1 }`, "input.k\ninput.o.*"},
		{"key from a constant holding a non-string", `attrs := {"a": 1, "b": "y"}
p if { some t in ["a", "b"]; input.o[attrs[t]] == 1 }`, "input.o.*"},
		{"key from a rule defined twice", `attrs := {"a": "x"} if input.z
attrs := {"a": "y"} if not input.z
p if { k := attrs.a; input.o[k] == 1 }`, "input.o.*\ninput.z"},
		{"variable key", `p if { some k; input.o[k] == 1 }`, "input.o.*"},
		{"key computed from input", `p if input.o[input.k] == 1`, "input.k\ninput.o.*"},
		{"alias of input itself", `p if { x := input; x.a == 1 }`, "input.a"},
		{"bare input", `p if count(input) > 0`, "input"},
		{"object.get on input", `p if object.get(input, "a", 0) == 1`, "input"},
		{"with replaces input", `q if input.a == 1
p if q with input.a as 1`, "input"},
		{"comprehension", `p if count([x | some x in input.xs; x.k == 1]) > 0`, "input.xs.*.k"},
		{"every", `p if { every x in input.xs { x.k == 1 } }`, "input.xs"},
		{"rule value", `v := input.a.b
p if v == 1`, "input.a.b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := inputProjection(compiled(t, c.body)).String(); got != c.want {
				t.Errorf("projection of\n%s\n= %q, want %q", c.body, got, c.want)
			}
		})
	}
}

// Trigger evaluates the projected input. Proof that this changes no
// decision: on the fixtures, their variants and randomized inputs, the
// policy's complete output (every rule of package spacelift, not only
// trigger) on the projected input equals its output on the full input.
func TestTriggerProjectionEquivalence(t *testing.T) {
	e := newEvaluator(t)
	inputs := map[string]TriggerInput{}
	for _, name := range []string{"trigger/code_version_update", "trigger/new_and_deleted_smart"} {
		in, _ := loadFixture[TriggerInput](t, name)
		inputs[name] = in
		failed := in
		failed.Run.State = "FAILED"
		inputs[name+" failed"] = failed
	}
	for seed := range uint64(200) {
		inputs[fmt.Sprintf("random seed %d", seed)] = randomTriggerInput(rand.New(rand.NewPCG(seed, 7)))
	}
	inputs["bench"] = benchTriggerInput(200, 1000)
	triggered := 0
	for name, in := range inputs {
		full, err := toValue(in)
		if err != nil {
			t.Fatal(err)
		}
		projected, err := toProjectedValue(in, e.triggerReads)
		if err != nil {
			t.Fatal(err)
		}
		if ast.Compare(full, projected) == 0 {
			t.Fatalf("%s: projection kept the whole input", name)
		}
		want := evalAll(t, e.triggerFull, full)
		got := evalAll(t, e.triggerFull, projected)
		if ast.Compare(got, want) != 0 {
			t.Errorf("%s: policy output on projected input\n%v\nwant (full input)\n%v", name, got, want)
		}
		ids, err := e.Trigger(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 {
			triggered++
		}
	}
	// The randomized inputs must exercise both outcomes, or they prove little.
	if triggered < 20 || triggered > len(inputs)-20 {
		t.Errorf("%d of %d inputs trigger something; want both outcomes well represented", triggered, len(inputs))
	}
}

func evalAll(t *testing.T, q rego.PreparedEvalQuery, input ast.Value) ast.Value {
	t.Helper()
	rs, err := q.Eval(t.Context(), rego.EvalParsedInput(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		t.Fatalf("want one result, got %v", rs)
	}
	v, err := ast.InterfaceToValue(rs[0].Expressions[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// randomTriggerInput is a small account where every branch of the trigger
// policy is likely: managed and foreign stacks, the manager labelled as its
// own, plain and sanitized IDs, every action and phase, deletions of the
// same stacks, context variables without a stack_id, and run states.
func randomTriggerInput(r *rand.Rand) TriggerInput {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	mgr := "mgr"
	in := TriggerInput{
		Run: Run{
			ID:    "run",
			Type:  pick("TRACKED", "TRACKED", "TRACKED", "PROPOSED", "TASK"),
			State: pick("FINISHED", "FINISHED", "FINISHED", "FAILED", "CANCELED"),
		},
		Stack: Stack{ID: mgr, Labels: []string{"x"}, Name: "manager", Branch: "main"},
	}
	ids := []string{mgr}
	for i := range 1 + r.IntN(8) {
		ids = append(ids, fmt.Sprintf("env-%d", i))
	}
	for _, id := range ids {
		labels := []string{"service:hello"}
		if r.IntN(4) > 0 {
			labels = append(labels, "preview-environment-managed-by:"+pick(mgr, mgr, "other"))
		}
		in.Stacks = append(in.Stacks, Stack{ID: id, Name: id, Labels: labels, Branch: "main", ProjectRoot: "infra"})
	}
	for i := range r.IntN(20) {
		id := ids[r.IntN(len(ids))]
		ref := any(id)
		switch r.IntN(4) {
		case 0, 1:
			ref = Sanitized(id)
		case 2:
			ref = nil // a context's variable: no stack
		}
		typ := pick("spacelift_environment_variable", "spacelift_environment_variable", "spacelift_stack", "spacelift_stack_destructor", "aws_s3_bucket")
		attr := "stack_id"
		if typ == "spacelift_stack" {
			attr = "id"
		}
		in.Run.Changes = append(in.Run.Changes, Change{
			Action: pick("added", "changed", "create-Before-destroy-replaced", "destroy-Before-create-replaced", "deleted", "import", "forget"),
			Phase:  pick("plan", "apply", "apply"),
			Entity: Entity{
				Address: fmt.Sprintf("%s.r%d", typ, i), Name: fmt.Sprintf("r%d", i), Type: typ,
				EntityType: "resource", EntityVendor: "terraform",
				Data: map[string]any{"values": map[string]any{attr: ref, "name": Sanitized("TF_VAR_x"), "write_only": false}},
			},
		})
	}
	return in
}

// The projected document holds exactly the projected paths, with their
// values unchanged, and nothing else; an iterated array holds each distinct
// projected element once.
func TestToProjectedValueKeepsOnlyReadPaths(t *testing.T) {
	e := newEvaluator(t)
	in := TriggerInput{
		Run: Run{ID: "r1", Type: "TRACKED", State: "FINISHED", Branch: "main", Changes: []Change{{
			Action: "added", Phase: "apply", Moved: true,
			Entity: Entity{Address: "a.b", Name: "b", Type: "spacelift_environment_variable", EntityType: "resource",
				Data: map[string]any{"values": map[string]any{"stack_id": "s1", "write_only": false}, "other": "x"}},
		}, {
			// Equal to the first once projected: dropped.
			Action: "added", Phase: "apply",
			Entity: Entity{Address: "a.c", Name: "c", Type: "spacelift_environment_variable", EntityType: "resource",
				Data: map[string]any{"values": map[string]any{"stack_id": "s1", "name": "y"}}},
		}, {
			Action: "added", Phase: "plan",
			Entity: Entity{Address: "a.b", Name: "b", Type: "spacelift_environment_variable", EntityType: "resource",
				Data: map[string]any{"values": map[string]any{"stack_id": "s1"}}},
		}}},
		Stack:  Stack{ID: "mgr", Name: "manager", Labels: []string{"l"}},
		Stacks: []Stack{{ID: "s1", Name: "one", Labels: []string{"a", "b"}, Branch: "main"}},
	}
	got, err := toProjectedValue(in, e.triggerReads)
	if err != nil {
		t.Fatal(err)
	}
	want := ast.MustParseTerm(`{
		"run": {"type": "TRACKED", "state": "FINISHED", "changes": [
			{"action": "added", "phase": "apply", "entity": {"type": "spacelift_environment_variable", "data": {"values": {"stack_id": "s1"}}}},
			{"action": "added", "phase": "plan", "entity": {"type": "spacelift_environment_variable", "data": {"values": {"stack_id": "s1"}}}}
		]},
		"stack": {"id": "mgr"},
		"stacks": [{"id": "s1", "labels": ["a", "b"]}]
	}`).Value
	if ast.Compare(got, want) != 0 {
		t.Errorf("projected input\n%v\nwant\n%v", got, want)
	}
}

// compiled is a module of body (rules in package x), parsed and compiled.
func compiled(t *testing.T, body string) *ast.Module {
	t.Helper()
	m, err := ast.ParseModuleWithOpts("x.rego", "package x\n\n"+body+"\n", ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	comp := ast.NewCompiler()
	if comp.Compile(map[string]*ast.Module{"x.rego": m}); comp.Failed() {
		t.Fatal(comp.Errors)
	}
	return comp.Modules["x.rego"]
}
