package spacelift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Stack dependencies as Spacelift runs them (spacelift-facts.md section 5):
//   - a dependent's tracked run waits while a stack it depends on has a
//     tracked run queued or in progress;
//   - a stack's FINISHED tracked run triggers its dependents: those with
//     no reference, or with a reference whose output was created or
//     changed by that run, or marked trigger_always;
//   - a failed upstream run cancels the queued tracked runs down the chain;
//   - a reference sets the dependent's input (an environment variable) to
//     the upstream's output in every run; a tracked run whose inputs are
//     missing fails at assignment, as on Spacelift;
//   - a stack with dependents cannot be deleted (providerapi's DeleteStack).
// Not modelled: "adding a reference always triggers a run". The manager
// adds references in the run that creates both stacks, and the trigger
// policy queues both after it; an extra run at that moment could only fail
// for missing inputs.
//
// The dependencies and references themselves are created and deleted by
// the provider (package providerapi) and kept by package store.

// Dependencies lists every dependency with its references.
func (e *Engine) Dependencies(ctx context.Context) ([]Dependency, error) {
	return e.st.Dependencies(ctx, "", "")
}

// waitingOn names the upstream of a queued tracked run that has a tracked
// run queued or executing (pending), which the run must wait for; "" when
// none does.
func waitingOn(upstreams []string, pending map[string]bool) string {
	for _, u := range upstreams {
		if pending[u] {
			return u
		}
	}
	return ""
}

// inputs are the environment variables a stack's references set from its
// upstreams' outputs, and the inputs whose output does not exist (yet).
func (e *Engine) inputs(ctx context.Context, stackID string) (map[string]string, []string, error) {
	deps, err := e.st.Dependencies(ctx, stackID, "")
	if err != nil {
		return nil, nil, err
	}
	vals := map[string]string{}
	var missing []string
	for _, d := range deps {
		if len(d.References) == 0 {
			continue
		}
		outs, err := e.Outputs(ctx, d.DependsOn)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		for _, r := range d.References {
			v, ok := outs[r.OutputName]
			if !ok {
				missing = append(missing, fmt.Sprintf("%s (output %s of %s)", r.InputName, r.OutputName, d.DependsOn))
				continue
			}
			vals[r.InputName] = outputString(v)
		}
	}
	return vals, missing, nil
}

// outputString is how an output becomes an environment variable: a string
// as it is, anything else as JSON (which TF_VAR_ of a complex type reads).
func outputString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// afterUpstream triggers or cancels the dependents of stack after its
// tracked run ended in final, before and after being its outputs around
// the run.
func (e *Engine) afterUpstream(ctx context.Context, r Run, stack Stack, final string, before, after map[string]any) {
	deps, err := e.st.Dependencies(ctx, "", stack.ID)
	if err != nil {
		e.log.Error("list dependents", "stack", stack.ID, "err", err)
		return
	}
	if len(deps) == 0 {
		return
	}
	if final != StateFinished {
		e.cancelChain(ctx, stack.ID, r.ID, map[string]bool{})
		return
	}
	for _, d := range deps {
		why := ""
		if len(d.References) == 0 {
			why = "it has no references, so every run triggers"
		}
		var changed []string
		for _, ref := range d.References {
			bv, had := before[ref.OutputName]
			av, has := after[ref.OutputName]
			switch {
			case ref.TriggerAlways:
				why = "reference " + ref.InputName + " triggers always"
			case has && (!had || !reflect.DeepEqual(bv, av)):
				changed = append(changed, ref.OutputName)
			}
		}
		if len(changed) > 0 {
			why = "output " + strings.Join(changed, ", ") + " changed"
		}
		if why == "" {
			_ = e.st.AppendLog(ctx, r.ID, fmt.Sprintf("dependency: %s not triggered, no referenced output changed", d.StackID))
			continue
		}
		if e.hasQueuedTracked(ctx, d.StackID) {
			_ = e.st.AppendLog(ctx, r.ID, fmt.Sprintf("dependency: %s has a tracked run queued already; it reads the new outputs when it starts", d.StackID))
			continue
		}
		target, err := e.st.Stack(ctx, d.StackID)
		if err != nil || target.State == StackDeleting {
			continue
		}
		head, err := e.src.Head(ctx, target.Repository, target.Branch)
		if err != nil {
			_ = e.st.AppendLog(ctx, r.ID, fmt.Sprintf("dependency: head of %s for %s: %v", target.Branch, d.StackID, err))
			continue
		}
		_ = e.st.AppendLog(ctx, r.ID, fmt.Sprintf("dependency: triggered %s at %s (%s)", d.StackID, short(head), why))
		if _, err := e.enqueue(ctx, Run{StackID: d.StackID, Type: RunTracked, Branch: target.Branch, Commit: head,
			TriggeredBy: r.ID, Cause: "dependency on " + stack.ID + ": " + why}); err != nil {
			e.log.Error("queue dependent run", "stack", d.StackID, "err", err)
		}
	}
}

func (e *Engine) hasQueuedTracked(ctx context.Context, stackID string) bool {
	queued, err := e.st.HasQueuedTrackedRun(ctx, stackID)
	return err == nil && queued
}

// cancelChain cancels the queued tracked runs of every stack downstream
// of stackID: "if one fails, the rest of the chain is cancelled".
func (e *Engine) cancelChain(ctx context.Context, stackID, failedRun string, seen map[string]bool) {
	deps, err := e.st.Dependencies(ctx, "", stackID)
	if err != nil {
		e.log.Error("list dependents", "stack", stackID, "err", err)
		return
	}
	for _, d := range deps {
		if seen[d.StackID] {
			continue
		}
		seen[d.StackID] = true
		runs, err := e.st.Runs(ctx, d.StackID, 50)
		if err != nil {
			continue
		}
		for _, x := range runs {
			if x.Type != RunTracked || x.State != StateQueued {
				continue
			}
			if e.transition(ctx, x.ID, d.StackID, StateCanceled) {
				_ = e.st.AppendLog(ctx, x.ID, fmt.Sprintf("canceled: run %s of %s, which this stack depends on, did not finish", failedRun, stackID))
			}
		}
		e.cancelChain(ctx, d.StackID, failedRun, seen)
	}
}
