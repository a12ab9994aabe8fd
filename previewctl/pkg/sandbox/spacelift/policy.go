package spacelift

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"preview-environments/policies"
)

// The push policy on every push and the trigger policy after every
// terminal run, evaluated by the real Rego (Policies), with their inputs
// in Spacelift's shape and every decision recorded.

// HandlePush decides, for every stack on the pushed repository, whether the
// push starts a tracked run: through the push policy where one is attached,
// else with Spacelift's default rule (affected files under the project root
// or an additional glob, on the stack's branch).
func (e *Engine) HandlePush(ctx context.Context, p PushEvent) error {
	stacks, err := e.st.Stacks(ctx)
	if err != nil {
		return err
	}
	var runs []Run
	for _, s := range stacks {
		if s.Repository != p.Repository || s.State == StackDeleting {
			continue
		}
		track, why, err := e.decidePush(ctx, s, p)
		if err != nil {
			return err
		}
		if !track {
			continue
		}
		runs = append(runs, Run{StackID: s.ID, Type: RunTracked, Branch: p.Branch, Commit: p.After,
			Cause: fmt.Sprintf("push %s to %s: %s", short(p.After), p.Branch, why)})
	}
	_, err = e.enqueueAll(ctx, runs)
	return err
}

func (e *Engine) decidePush(ctx context.Context, s Stack, p PushEvent) (bool, string, error) {
	attached := false
	for _, id := range s.Policies {
		attached = attached || s.PolicyTypes[id] == PolicyTypePush
	}
	if !attached {
		affected := p.Tag == "" && affects(s, p.AffectedFiles)
		track := affected && p.Branch == s.Branch
		why := "default push rule: "
		switch {
		case p.Tag != "":
			why += "tag pushes are ignored"
		case !affected:
			why += "no affected file under " + s.ProjectRoot
		case !track:
			why += "branch " + p.Branch + " is not the stack's " + s.Branch
		default:
			why += "affects " + s.ProjectRoot + " on the tracked branch"
		}
		if track || p.Branch == s.Branch {
			e.recordEvaluation(ctx, PolicyEvaluation{Policy: "push (default)", StackID: s.ID,
				Summary:  fmt.Sprintf("push %s to %s, %d file(s)", short(p.After), p.Branch, len(p.AffectedFiles)),
				Decision: map[bool]string{true: "track", false: "ignore"}[track] + " (" + why + ")"})
		}
		return track, why, nil
	}
	in := policies.PushInput{
		Push: policies.Push{AffectedFiles: nonNil(p.AffectedFiles), Author: p.Author, Branch: p.Branch,
			CreatedAt: time.Now().UnixNano(), Hash: p.After, Message: p.Message, Tag: p.Tag},
		Stack:      e.policyStack(s, nil),
		InProgress: []policies.InProgressRun{},
	}
	d, err := e.pol.Push(ctx, in)
	if err != nil {
		return false, "", fmt.Errorf("push policy for stack %s: %w", s.ID, err)
	}
	decision := "ignore"
	switch {
	case d.Ignore:
	case d.Track:
		decision = "track"
	case d.Propose:
		decision = "propose (the sandbox runs no proposed runs)"
	}
	if len(d.Reasons) > 0 {
		decision += ": " + strings.Join(d.Reasons, "; ")
	}
	// Only record decisions about the stack's own branch: every other push
	// is ignored by construction and would drown the log.
	if p.Branch == s.Branch {
		e.recordEvaluation(ctx, PolicyEvaluation{Policy: "push", StackID: s.ID,
			Summary:  fmt.Sprintf("push %s to %s, %d file(s)", short(p.After), p.Branch, len(p.AffectedFiles)),
			Decision: decision})
	}
	return d.Track && !d.Ignore, "push policy: " + decision, nil
}

func affects(s Stack, files []string) bool {
	root := strings.Trim(s.ProjectRoot, "/")
	for _, f := range files {
		f = strings.Trim(f, "/")
		if root == "" || f == root || strings.HasPrefix(f, root+"/") {
			return true
		}
		for _, g := range s.AdditionalGlobs {
			if globMatch(g, f) {
				return true
			}
		}
	}
	return false
}

// globMatch supports the doublestar forms stacks use: a trailing /** and
// path.Match patterns per segment.
func globMatch(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		return name == prefix || strings.HasPrefix(name, prefix+"/")
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

func (e *Engine) recordEvaluation(ctx context.Context, ev PolicyEvaluation) {
	rec, err := e.st.AddEvaluation(ctx, ev)
	if err != nil {
		e.log.Warn("record policy evaluation", "err", err)
		return
	}
	e.emit(Event{Kind: "evaluation", StackID: rec.StackID, RunID: rec.RunID, Detail: rec.Policy + ": " + rec.Decision})
}

// afterTerminal evaluates the trigger policies attached to the stack whose
// run just ended, and queues a tracked run on every stack they name.
func (e *Engine) afterTerminal(ctx context.Context, runID string, stack Stack) {
	attached := false
	for _, id := range stack.Policies {
		attached = attached || stack.PolicyTypes[id] == PolicyTypeTrigger
	}
	if !attached {
		return
	}
	r, err := e.st.Run(ctx, runID)
	if err != nil {
		e.log.Error("read run", "run", runID, "err", err)
		return
	}
	stacks, err := e.st.Stacks(ctx)
	if err != nil {
		e.log.Error("list stacks", "err", err)
		return
	}
	in := policies.TriggerInput{Run: e.policyRun(r), Stack: e.policyStack(stack, nil), Workflow: []policies.WorkflowRun{}}
	for _, s := range stacks {
		q := 0
		in.Stacks = append(in.Stacks, e.policyStack(s, &q))
	}
	ids, err := e.pol.Trigger(ctx, in)
	if err != nil {
		_ = e.st.AppendLog(ctx, runID, "trigger policy failed: "+err.Error())
		e.recordEvaluation(ctx, PolicyEvaluation{Policy: "trigger", StackID: stack.ID, RunID: runID,
			Summary: "evaluation failed", Decision: err.Error()})
		return
	}
	envChanges := 0
	for _, c := range r.Changes {
		if c.Phase == "apply" && c.Type == "spacelift_environment_variable" {
			envChanges++
		}
	}
	decision := "trigger nothing"
	if len(ids) > 0 {
		decision = "trigger " + strings.Join(ids, ", ")
	}
	e.recordEvaluation(ctx, PolicyEvaluation{Policy: "trigger", StackID: stack.ID, RunID: runID,
		Summary: fmt.Sprintf("%s %s run %s: %d change(s), %d to environment variables, %d stack(s)",
			strings.ToLower(r.State), strings.ToLower(r.Type), r.ID, len(r.Changes), envChanges, len(stacks)),
		Decision: decision})
	byID := map[string]Stack{}
	for _, s := range stacks {
		byID[s.ID] = s
	}
	var runs []Run
	for _, id := range ids {
		target, ok := byID[id]
		if !ok {
			continue // Spacelift ignores IDs that name no stack
		}
		head, err := e.src.Head(ctx, target.Repository, target.Branch)
		if err != nil {
			_ = e.st.AppendLog(ctx, runID, fmt.Sprintf("trigger %s: head of %s: %v", id, target.Branch, err))
			continue
		}
		_ = e.st.AppendLog(ctx, runID, fmt.Sprintf("trigger policy: triggered %s at %s", id, short(head)))
		runs = append(runs, Run{StackID: id, Type: RunTracked, Branch: target.Branch, Commit: head,
			TriggeredBy: runID, Cause: "trigger policy after " + runID + " on " + stack.ID + " changed its variables"})
	}
	// Queued together: a dependent triggered with its upstream waits for it.
	if _, err := e.enqueueAll(ctx, runs); err != nil {
		e.log.Error("queue triggered runs", "stacks", strings.Join(ids, ","), "err", err)
	}
}

// policyStack renders a stack as policy input.
func (e *Engine) policyStack(s Stack, queued *int) policies.Stack {
	ps := policies.Stack{
		AdditionalProjectGlobs: nonNil(s.AdditionalGlobs), Administrative: s.Administrative, Autodeploy: s.Autodeploy,
		Branch: s.Branch, Contexts: []string{}, ID: s.ID, Labels: nonNil(s.Labels), Name: s.Name,
		Namespace: ownerOf(s.Repository), ProjectRoot: s.ProjectRoot, Repository: repoOf(s.Repository),
		Space: policies.Space{ID: "root", Labels: []string{}, Name: "root"}, State: s.State,
		TerraformWorkflowTool: "OPEN_TOFU", QueuedRuns: queued,
		WorkerPool: &policies.WorkerPool{Labels: []string{}, Public: true},
	}
	if s.TrackedCommit != "" {
		ps.TrackedCommit = &policies.Commit{Branch: s.Branch, Hash: s.TrackedCommit}
	}
	return ps
}

func (e *Engine) policyRun(r Run) policies.Run {
	pr := policies.Run{
		Branch: r.Branch, Commit: &policies.Commit{Branch: r.Branch, Hash: r.Commit}, CreatedAt: r.CreatedAt.UnixNano(),
		Flags: []string{}, ID: r.ID, State: r.State, Type: r.Type, UpdatedAt: r.UpdatedAt.UnixNano(),
		UserProvidedMetadata: []string{}, Command: "", Changes: []policies.Change{},
	}
	if r.TriggeredBy != "" {
		t := r.TriggeredBy
		pr.TriggeredBy = &t
	}
	for _, h := range r.History {
		pr.StatesHistory = append(pr.StatesHistory, policies.StateChange{NewState: h.State})
	}
	for _, c := range r.Changes {
		pr.Changes = append(pr.Changes, policies.Change{Action: c.Action, Phase: c.Phase, Entity: policies.Entity{
			Address: c.Address, Name: c.Name, Type: c.Type, EntityVendor: "terraform", EntityType: "resource",
			Data: map[string]any{"values": e.sanitizeValues(c.Values, c.Sensitive)},
		}})
	}
	return pr
}

// sanitizeValues applies Spacelift's default sanitization (every string,
// at any depth, hashed) unless the sandbox runs in smart mode, where only
// the attributes the plan marks sensitive are, and stack IDs arrive in
// plain text.
func (e *Engine) sanitizeValues(v map[string]any, sensitive []string) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if !e.cfg.SmartSanitization || slices.Contains(sensitive, k) {
			out[k] = sanitizeAll(x)
			continue
		}
		out[k] = x
	}
	return out
}

func sanitizeAll(x any) any {
	switch t := x.(type) {
	case string:
		return policies.Sanitized(t)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = sanitizeAll(v)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, v := range t {
			l[i] = sanitizeAll(v)
		}
		return l
	}
	return x
}
