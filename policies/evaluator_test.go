package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newEvaluator(tb testing.TB) *Evaluator {
	tb.Helper()
	e, err := New(tb.Context())
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return e
}

// loadFixture decodes a testdata input strictly: an unknown field means the
// typed structs no longer cover Spacelift's documented shape.
func loadFixture[T any](t *testing.T, name string) (T, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s into %T: %v", name, v, err)
	}
	return v, raw
}

func TestTrigger(t *testing.T) {
	e := newEvaluator(t)
	cases := []struct {
		name    string
		fixture string
		edit    func(*TriggerInput)
		want    []string
	}{
		{"default sanitization: the one updated stack", "trigger/code_version_update", nil, []string{"hello-service-5f3c2a1b"}},
		{"smart sanitization: updated and new, not deleted", "trigger/new_and_deleted_smart", nil, []string{"hello-service-44ee55ff", "hello-service-5f3c2a1b"}},
		{"failed run", "trigger/code_version_update", func(in *TriggerInput) { in.Run.State = "FAILED" }, []string{}},
		{"canceled run", "trigger/new_and_deleted_smart", func(in *TriggerInput) { in.Run.State = "CANCELED" }, []string{}},
		{"proposed run", "trigger/code_version_update", func(in *TriggerInput) { in.Run.Type = "PROPOSED" }, []string{}},
		{"plan phase only", "trigger/code_version_update", func(in *TriggerInput) {
			in.Run.Changes = slices.DeleteFunc(in.Run.Changes, func(c Change) bool { return c.Phase == "apply" })
		}, []string{}},
		{"other manager", "trigger/code_version_update", func(in *TriggerInput) {
			in.Stack = *findStack(t, in.Stacks, "other-service-manager")
		}, []string{"other-service-77aa88bb"}},
		{"no stacks in the account", "trigger/code_version_update", func(in *TriggerInput) { in.Stacks = nil }, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, _ := loadFixture[TriggerInput](t, c.fixture)
			if c.edit != nil {
				c.edit(&in)
			}
			got, err := e.Trigger(t.Context(), in)
			if err != nil {
				t.Fatalf("Trigger: %v", err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Trigger = %q, want %q", got, c.want)
			}
		})
	}
}

func findStack(t *testing.T, stacks []Stack, id string) *Stack {
	t.Helper()
	for i := range stacks {
		if stacks[i].ID == id {
			return &stacks[i]
		}
	}
	t.Fatalf("no stack %q in fixture", id)
	return nil
}

func TestPush(t *testing.T) {
	e := newEvaluator(t)
	cases := []struct {
		name    string
		fixture string
		edit    func(*PushInput)
		want    PushDecision
	}{
		{"on branch inside root", "push/branch_push", nil, PushDecision{Track: true}},
		{"other branch", "push/branch_push", func(in *PushInput) { in.Push.Branch = "main" }, PushDecision{
			Ignore:  true,
			Reasons: []string{`branch "main" is not the stack's branch "feature/login"`},
		}},
		{"outside root", "push/branch_push", func(in *PushInput) { in.Push.AffectedFiles = []string{"service/main.go"} }, PushDecision{
			Ignore:  true,
			Reasons: []string{`no affected file under project root "infra" or its additional globs`},
		}},
		{"additional glob", "push/branch_push", func(in *PushInput) {
			in.Push.AffectedFiles = []string{"shared/terraform/dns/main.tf"}
		}, PushDecision{Track: true}},
		{"tag", "push/branch_push", func(in *PushInput) { in.Push.Tag = "v1.0.0" }, PushDecision{Ignore: true, Reasons: []string{"tag push"}}},
		{"pull request event", "push/pr_synchronize", nil, PushDecision{Ignore: true, Reasons: []string{"pull request event, not a push"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, _ := loadFixture[PushInput](t, c.fixture)
			if c.edit != nil {
				c.edit(&in)
			}
			got, err := e.Push(t.Context(), in)
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			if got.Track != c.want.Track || got.Propose != c.want.Propose || got.Ignore != c.want.Ignore ||
				!slices.Equal(got.Reasons, c.want.Reasons) {
				t.Errorf("Push = %+v, want %+v", got, c.want)
			}
		})
	}
}

// The typed path and the raw JSON path must see the same document: the
// typed structs may not drop or rename anything the policies read.
func TestEvalJSONMatchesTyped(t *testing.T) {
	e := newEvaluator(t)
	for _, name := range []string{"trigger/code_version_update", "trigger/new_and_deleted_smart"} {
		in, raw := loadFixture[TriggerInput](t, name)
		typed, err := e.Trigger(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := e.EvalJSON(t.Context(), TriggerPolicy, raw)
		if err != nil {
			t.Fatal(err)
		}
		var fromRaw []string
		for _, x := range doc["trigger"].([]any) {
			fromRaw = append(fromRaw, x.(string))
		}
		slices.Sort(fromRaw)
		if !slices.Equal(typed, fromRaw) {
			t.Errorf("%s: Trigger = %q, EvalJSON trigger = %q", name, typed, fromRaw)
		}
	}
	for _, name := range []string{"push/branch_push", "push/pr_synchronize"} {
		in, raw := loadFixture[PushInput](t, name)
		typed, err := e.Push(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := e.EvalJSON(t.Context(), PushPolicy, raw)
		if err != nil {
			t.Fatal(err)
		}
		fromRaw, err := decodePush(doc)
		if err != nil {
			t.Fatal(err)
		}
		if typed.Track != fromRaw.Track || typed.Ignore != fromRaw.Ignore || typed.Propose != fromRaw.Propose ||
			!slices.Equal(typed.Reasons, fromRaw.Reasons) {
			t.Errorf("%s: Push = %+v, EvalJSON = %+v", name, typed, fromRaw)
		}
	}
}

func TestEvalJSONErrors(t *testing.T) {
	e := newEvaluator(t)
	cases := []struct {
		name   string
		policy Policy
		input  string
		want   []string // substrings the error must name
	}{
		{"unknown policy", Policy("plan"), `{}`, []string{`"plan"`}},
		{"invalid json", PushPolicy, `{"push":`, []string{"push policy", "not valid JSON"}},
		{"not an object", TriggerPolicy, `[1,2]`, []string{"trigger policy", "array"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.EvalJSON(t.Context(), c.policy, []byte(c.input))
			if err == nil {
				t.Fatal("want an error, got none")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCanceledContextNamesPolicyAndInput(t *testing.T) {
	e := newEvaluator(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tin, _ := loadFixture[TriggerInput](t, "trigger/code_version_update")
	if _, err := e.Trigger(ctx, tin); err == nil || !strings.Contains(err.Error(), "trigger policy") ||
		!strings.Contains(err.Error(), tin.Run.ID) {
		t.Errorf("Trigger with canceled context: err = %v, want one naming the trigger policy and run %s", err, tin.Run.ID)
	}
	pin, _ := loadFixture[PushInput](t, "push/branch_push")
	if _, err := e.Push(ctx, pin); err == nil || !strings.Contains(err.Error(), "push policy") ||
		!strings.Contains(err.Error(), pin.Stack.ID) {
		t.Errorf("Push with canceled context: err = %v, want one naming the push policy and stack %s", err, pin.Stack.ID)
	}
}

func TestSources(t *testing.T) {
	for _, p := range []Policy{TriggerPolicy, PushPolicy} {
		src, err := Source(p)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(p.File())
		if err != nil {
			t.Fatal(err)
		}
		if src != string(disk) {
			t.Errorf("embedded %s differs from %s on disk", p, p.File())
		}
	}
	if TriggerSource() == PushSource() {
		t.Error("TriggerSource and PushSource return the same text")
	}
}

// The sandbox shares one Evaluator between its stacks' goroutines.
func TestEvaluatorConcurrentUse(t *testing.T) {
	e := newEvaluator(t)
	in, _ := loadFixture[TriggerInput](t, "trigger/new_and_deleted_smart")
	want, err := e.Trigger(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := e.Trigger(t.Context(), in)
			if err == nil && !slices.Equal(got, want) {
				err = fmt.Errorf("concurrent Trigger = %q, want %q", got, want)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
