package policies

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Evaluator evaluates the trigger and push policies with real OPA. Its
// queries are compiled once by New; it is safe for concurrent use.
type Evaluator struct {
	trigger     rego.PreparedEvalQuery // data.spacelift.trigger
	triggerFull rego.PreparedEvalQuery // data.spacelift, for the decision log
	pushFull    rego.PreparedEvalQuery // data.spacelift
	// triggerReads is the part of a TriggerInput the trigger policy can
	// read; Trigger converts only that (see projection.go).
	triggerReads *projection
}

// PushDecision is what the push policy decided. Spacelift gives Ignore
// precedence over Track and Propose.
type PushDecision struct {
	Track   bool
	Propose bool
	Ignore  bool
	// Reasons says why a push was ignored (the policy's reasons rule).
	Reasons []string
}

// New compiles both policies, each on its own as Spacelift evaluates them.
func New(ctx context.Context) (*Evaluator, error) {
	var e Evaluator
	var err error
	if e.trigger, err = prepare(ctx, TriggerPolicy, "data.spacelift.trigger"); err != nil {
		return nil, err
	}
	if e.triggerFull, err = prepare(ctx, TriggerPolicy, "data.spacelift"); err != nil {
		return nil, err
	}
	if e.pushFull, err = prepare(ctx, PushPolicy, "data.spacelift"); err != nil {
		return nil, err
	}
	if e.triggerReads, err = policyProjection(TriggerPolicy); err != nil {
		return nil, err
	}
	return &e, nil
}

func prepare(ctx context.Context, p Policy, query string) (rego.PreparedEvalQuery, error) {
	src, err := Source(p)
	if err != nil {
		return rego.PreparedEvalQuery{}, err
	}
	q, err := rego.New(
		rego.Query(query),
		rego.Module(p.File(), src),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Strict(true),
		sanitizedOption(),
	).PrepareForEval(ctx)
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("policies: compile %s policy (%s): %w", p, p.File(), err)
	}
	return q, nil
}

// Trigger returns the sorted IDs of the stacks the trigger policy triggers
// when in.Run finishes on in.Stack.
func (e *Evaluator) Trigger(ctx context.Context, in TriggerInput) ([]string, error) {
	what := fmt.Sprintf("run %q of stack %q", in.Run.ID, in.Stack.ID)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("policies: %s policy: %s: %w", TriggerPolicy, what, err)
	}
	v, err := toProjectedValue(in, e.triggerReads)
	if err != nil {
		return nil, fmt.Errorf("policies: %s policy: encode input for %s: %w", TriggerPolicy, what, err)
	}
	rs, err := e.trigger.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return nil, fmt.Errorf("policies: %s policy: evaluate %s: %w", TriggerPolicy, what, err)
	}
	ids := []string{}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return ids, nil // undefined: the rule has no value, nothing to trigger
	}
	set, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("policies: %s policy: %s: trigger is %T, want a set of stack IDs", TriggerPolicy, what, rs[0].Expressions[0].Value)
	}
	for _, x := range set {
		id, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("policies: %s policy: %s: trigger holds %T %v, want a stack ID string", TriggerPolicy, what, x, x)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// Push returns the push policy's decision for in.Push on in.Stack.
func (e *Evaluator) Push(ctx context.Context, in PushInput) (PushDecision, error) {
	what := fmt.Sprintf("push %q on branch %q for stack %q", in.Push.Hash, in.Push.Branch, in.Stack.ID)
	if err := ctx.Err(); err != nil {
		return PushDecision{}, fmt.Errorf("policies: %s policy: %s: %w", PushPolicy, what, err)
	}
	v, err := toValue(in)
	if err != nil {
		return PushDecision{}, fmt.Errorf("policies: %s policy: encode input for %s: %w", PushPolicy, what, err)
	}
	doc, err := evalDocument(ctx, e.pushFull, v)
	if err != nil {
		return PushDecision{}, fmt.Errorf("policies: %s policy: evaluate %s: %w", PushPolicy, what, err)
	}
	d, err := decodePush(doc)
	if err != nil {
		return PushDecision{}, fmt.Errorf("policies: %s policy: %s: %w", PushPolicy, what, err)
	}
	return d, nil
}

// EvalJSON evaluates policy p on a raw JSON input document and returns every
// rule of package spacelift that has a value, as the sandbox's decision log
// shows it. Sets come back as JSON arrays.
func (e *Evaluator) EvalJSON(ctx context.Context, p Policy, input []byte) (map[string]any, error) {
	var q rego.PreparedEvalQuery
	switch p {
	case TriggerPolicy:
		q = e.triggerFull
	case PushPolicy:
		q = e.pushFull
	default:
		_, err := Source(p)
		return nil, err
	}
	v, err := ast.ValueFromReader(bytes.NewReader(input))
	if err != nil {
		return nil, fmt.Errorf("policies: %s policy: input is not valid JSON: %w", p, err)
	}
	if _, ok := v.(ast.Object); !ok {
		return nil, fmt.Errorf("policies: %s policy: input is %s, want a JSON object", p, ast.ValueName(v))
	}
	doc, err := evalDocument(ctx, q, v)
	if err != nil {
		return nil, fmt.Errorf("policies: %s policy: evaluate raw input: %w", p, err)
	}
	return doc, nil
}

func evalDocument(ctx context.Context, q rego.PreparedEvalQuery, input ast.Value) (map[string]any, error) {
	// OPA only polls for cancellation inside long evaluations; a request that
	// is already canceled should not start one.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs, err := q.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return map[string]any{}, nil
	}
	doc, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("package spacelift evaluated to %T, want an object", rs[0].Expressions[0].Value)
	}
	return doc, nil
}

func decodePush(doc map[string]any) (PushDecision, error) {
	var d PushDecision
	for name, dst := range map[string]*bool{"track": &d.Track, "propose": &d.Propose, "ignore": &d.Ignore} {
		raw, ok := doc[name]
		if !ok {
			continue // undefined rule: false, as Spacelift reads it
		}
		b, ok := raw.(bool)
		if !ok {
			return PushDecision{}, fmt.Errorf("rule %s is %T, want a boolean", name, raw)
		}
		*dst = b
	}
	if raw, ok := doc["reasons"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return PushDecision{}, fmt.Errorf("rule reasons is %T, want a set of strings", raw)
		}
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return PushDecision{}, fmt.Errorf("rule reasons holds %T, want strings", x)
			}
			d.Reasons = append(d.Reasons, s)
		}
		slices.Sort(d.Reasons)
	}
	return d, nil
}
