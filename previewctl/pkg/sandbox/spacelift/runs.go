package spacelift

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type logFunc func(format string, args ...any)

// runManager is a tracked run of the manager stack: it reads every
// environment file and the template at the run's commit, plans the
// difference with the stacks it manages, and applies it. Deletions go
// through each stack's destructor, and the run waits for them, as
// Terraform waits for spacelift_stack_destructor's delete.
func (e *Engine) runManager(ctx context.Context, r Run, manager Stack, logf logFunc) (string, []Change) {
	files, err := e.src.ReadTree(ctx, manager.Repository, r.Commit, manager.ProjectRoot)
	if err != nil {
		logf("error: check out %s at %s: %v", manager.ProjectRoot, short(r.Commit), err)
		return StateFailed, nil
	}
	if !e.transition(ctx, r.ID, manager.ID, StatePlanning) {
		return StateFailed, nil
	}
	root := strings.Trim(manager.ProjectRoot, "/")
	t := tree(files)
	if root != "" {
		t = t.subtree(root)
	}
	desired, err := readManagerTree(t, root, e.cfg.Shared, map[string]string{e.cfg.Shared.PushPolicyID: PolicyPush}, &e.plans)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			logf("error: %s", strings.TrimSpace(line))
		}
		logf("plan failed: nothing was changed; live environments keep serving")
		return StateFailed, nil
	}
	for id, d := range desired {
		// Spacelift's repository is a name within the VCS namespace (the
		// owner); the sandbox keys its git host by owner/name.
		if !strings.Contains(d.Stack.Repository, "/") {
			d.Stack.Repository = ownerOf(e.cfg.Repository) + "/" + d.Stack.Repository
			desired[id] = d
		}
	}
	all, err := e.st.stacks(ctx)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	current := map[string]Stack{}
	for _, s := range all {
		if s.ManagedBy == manager.ID {
			current[s.ID] = s
		}
	}
	plan := diffStacks(current, desired)
	// A stack that a run killed mid-apply created never got its trigger
	// decision (that comes after the run), and no later plan would show it
	// as a change: report it as created again so the policy runs it now.
	for _, id := range sortedKeys(desired) {
		cur, ok := current[id]
		if !ok || cur.State != StackNone || !sameStack(cur, desired[id].Stack) {
			continue
		}
		if runs, err := e.st.runs(ctx, id, 1); err == nil && len(runs) == 0 {
			logf("%s exists but never ran (its creator was interrupted): reported as created", id)
			plan = append(plan, diffStacks(nil, map[string]desiredStack{id: desired[id]})...)
		}
	}
	// One line per resource type, not per environment: with thousands of
	// environments a line each was a tenth of the run.
	notEmulated := map[string]int{}
	for _, d := range desired {
		for _, ne := range d.NotEmulated {
			notEmulated[ne]++
		}
	}
	for _, ne := range sortedKeys(notEmulated) {
		logf("  %s in %d environment(s): recorded, not emulated (no cloud account in the sandbox)", ne, notEmulated[ne])
	}
	if len(plan) == 0 {
		logf("no changes: %d environment(s) up to date", len(desired))
		return StateFinished, nil
	}
	var changes []Change
	for _, c := range plan {
		logf("plan: %-8s %s", c.Action, c.Address)
		pc := c
		pc.Phase = "plan"
		changes = append(changes, pc)
	}
	if !e.transition(ctx, r.ID, manager.ID, StateApplying) {
		return StateFailed, changes
	}
	// Creations and updates first, in one transaction per stack.
	for _, id := range sortedKeys(desired) {
		d := desired[id]
		cur, exists := current[id]
		if exists && sameStack(cur, d.Stack) {
			continue
		}
		s := d.Stack
		s.State = StackNone
		if exists {
			s.TrackedCommit, s.State, s.CreatedAt = cur.TrackedCommit, cur.State, cur.CreatedAt
			if cur.State == StackDeleting {
				logf("warning: %s is being destroyed; it is recreated after its destroy finishes", id)
				continue
			}
		}
		if err := e.st.putStack(ctx, s, d.Destructor); err != nil {
			logf("error: %v", err)
			return StateFailed, changes
		}
		e.emit(Event{Kind: "stack", StackID: id, State: map[bool]string{true: "UPDATED", false: "CREATED"}[exists]})
		logf("applied: stack %s (branch %s, %d variable(s))", id, s.Branch, len(s.Env))
	}
	for _, c := range plan {
		if _, kept := desired[c.StackID()]; kept {
			ac := c
			ac.Phase = "apply"
			changes = append(changes, ac)
		}
	}
	// Then deletions: each through its destructor.
	for _, id := range sortedKeys(current) {
		if _, keep := desired[id]; keep {
			continue
		}
		if err := e.destroyStack(ctx, r, current[id], logf); err != nil {
			logf("error: %v", err)
			return StateFailed, changes
		}
		for _, c := range plan {
			if c.StackID() == id {
				ac := c
				ac.Phase = "apply"
				changes = append(changes, ac)
			}
		}
	}
	return StateFinished, changes
}

// destroyStack queues the destroy run (once) and waits until the stack is
// gone, or its destroy failed.
func (e *Engine) destroyStack(ctx context.Context, r Run, s Stack, logf logFunc) error {
	has, err := e.st.hasDestructor(ctx, s.ID)
	if err != nil {
		return err
	}
	if !has {
		// Without a destructor Spacelift deletes the stack and orphans its
		// resources; the template always has one, so refuse loudly.
		return fmt.Errorf("stack %s has no destructor: refusing to delete it and orphan its resources", s.ID)
	}
	if s.State != StackDeleting {
		if err := e.st.setStackState(ctx, s.ID, StackDeleting); err != nil {
			return err
		}
		e.emit(Event{Kind: "stack", StackID: s.ID, State: StackDeleting})
	}
	runs, err := e.st.runs(ctx, s.ID, 50)
	if err != nil {
		return err
	}
	pending := false
	for _, x := range runs {
		if x.Type == RunDestroy && !Terminal(x.State) {
			pending = true
		}
	}
	if !pending {
		head := s.TrackedCommit
		if h, err := e.src.Head(ctx, s.Repository, s.Branch); err == nil {
			head = h
		}
		if _, err := e.enqueue(ctx, Run{StackID: s.ID, Type: RunDestroy, Branch: s.Branch, Commit: head,
			TriggeredBy: "destructor", Cause: "destructor: " + r.ID + " on " + r.StackID + " removed the environment"}); err != nil {
			return err
		}
	}
	logf("destroying %s: waiting for its destroy run (timeout %s)", s.ID, e.cfg.DestroyTimeout)
	deadline := time.Now().Add(e.cfg.DestroyTimeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := e.st.stack(ctx, s.ID)
		if errors.Is(err, ErrNotFound) {
			logf("destroyed and deleted: %s", s.ID)
			return nil
		}
		if err != nil {
			return err
		}
		runs, err := e.st.runs(ctx, s.ID, 1)
		if err != nil {
			return err
		}
		if len(runs) == 1 && runs[0].Type == RunDestroy && runs[0].State == StateFailed {
			return fmt.Errorf("destroy run %s of %s failed: the stack and its variables are kept", runs[0].ID, s.ID)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("destroy of %s did not finish within %s", s.ID, e.cfg.DestroyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// runEnvironment is a tracked run of an environment stack: infra/ at the
// run's commit, evaluated with the stack's TF_VAR_* values, deployed to the
// data plane.
func (e *Engine) runEnvironment(ctx context.Context, r Run, s Stack, logf logFunc) (string, []Change) {
	dir, cleanup, err := e.export(ctx, s.Repository, r.Commit, s.ProjectRoot)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	defer cleanup()
	if !e.transition(ctx, r.ID, s.ID, StatePlanning) {
		return StateFailed, nil
	}
	plan, err := planInfra(filepath.Join(dir, s.ProjectRoot), s)
	if err != nil {
		logf("error: %v", err)
		return StateFailed, nil
	}
	f := plan.Function
	logf("plan: function %s from s3://%s/%s (%s, handler %s, timeout %s)", f.Name, f.Bucket, f.ArtifactKey, f.Runtime, f.Handler, f.Timeout)
	for _, rt := range f.Routes {
		logf("plan: route %s %s", rt.Method, rt.Path)
	}
	for _, k := range sortedKeys(f.Env) {
		logf("plan: function environment %s", k)
	}
	for _, ne := range plan.NotEmulated {
		logf("  %s: not emulated (no cloud account in the sandbox)", ne)
	}
	if !e.transition(ctx, r.ID, s.ID, StateApplying) {
		return StateFailed, nil
	}
	if err := e.dp.Deploy(ctx, f); err != nil {
		logf("error: deploy: %v", err)
		logf("the previous version, if any, keeps serving")
		return StateFailed, nil
	}
	logf("applied: environment %s serves %s", s.EnvironmentID, f.ArtifactKey)
	var changes []Change
	for _, a := range plan.Emulated {
		typ, name, _ := strings.Cut(a, ".")
		changes = append(changes, Change{Action: ActionChanged, Phase: "apply", Address: a, Type: typ, Name: name,
			Values: map[string]any{"stack_id": s.ID}})
	}
	return StateFinished, changes
}

// runDestroy removes what the environment's runs deployed.
func (e *Engine) runDestroy(ctx context.Context, r Run, s Stack, logf logFunc) (string, []Change) {
	if !e.transition(ctx, r.ID, s.ID, StateDestroying) {
		return StateFailed, nil
	}
	if s.EnvironmentID != "" {
		if err := e.dp.Remove(ctx, s.EnvironmentID); err != nil {
			logf("error: destroy: %v", err)
			return StateFailed, nil
		}
	}
	logf("destroyed: function and routes of environment %s", s.EnvironmentID)
	return StateFinished, []Change{{Action: ActionDeleted, Phase: "apply", Address: "aws_lambda_function.handler",
		Type: "aws_lambda_function", Name: "handler", Values: map[string]any{"stack_id": s.ID}}}
}

// StackID is the stack a change belongs to (from its values).
func (c Change) StackID() string {
	if v, ok := c.Values["stack_id"].(string); ok {
		return v
	}
	if v, ok := c.Values["id"].(string); ok {
		return v
	}
	return ""
}

func sameStack(a, b Stack) bool {
	return a.Name == b.Name && a.Description == b.Description && a.Repository == b.Repository &&
		a.Branch == b.Branch && a.ProjectRoot == b.ProjectRoot && slices.Equal(a.Labels, b.Labels) &&
		a.Autodeploy == b.Autodeploy && slices.Equal(a.Policies, b.Policies) && mapsEqual(a.Env, b.Env)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// diffStacks plans the resource changes between the stacks the manager has
// and the stacks its files declare, shaped as Spacelift reports them.
func diffStacks(current map[string]Stack, desired map[string]desiredStack) []Change {
	var out []Change
	addr := func(s Stack, typ, name string) string {
		return fmt.Sprintf("module.%s.module.env_%s.%s.%s", s.Service, s.EnvironmentID, typ, name)
	}
	stackValues := func(s Stack) map[string]any {
		return map[string]any{"id": s.ID, "name": s.Name, "branch": s.Branch, "project_root": s.ProjectRoot}
	}
	varValues := func(s Stack, name, value string) map[string]any {
		return map[string]any{"stack_id": s.ID, "name": name, "value": value, "write_only": false}
	}
	for _, id := range sortedKeys(desired) {
		d := desired[id].Stack
		cur, exists := current[id]
		if !exists {
			out = append(out, Change{Action: ActionAdded, Address: addr(d, "spacelift_stack", "this"), Type: "spacelift_stack", Name: "this", Values: stackValues(d)})
			for _, k := range sortedKeys(d.Env) {
				out = append(out, Change{Action: ActionAdded, Address: addr(d, "spacelift_environment_variable", fmt.Sprintf("tf_vars[%q]", k)),
					Type: "spacelift_environment_variable", Name: "tf_vars", Values: varValues(d, k, d.Env[k])})
			}
			for _, p := range d.Policies {
				out = append(out, Change{Action: ActionAdded, Address: addr(d, "spacelift_policy_attachment", p), Type: "spacelift_policy_attachment", Name: p,
					Values: map[string]any{"stack_id": d.ID, "policy_id": p}})
			}
			if desired[id].Destructor {
				out = append(out, Change{Action: ActionAdded, Address: addr(d, "spacelift_stack_destructor", "this"), Type: "spacelift_stack_destructor", Name: "this",
					Values: map[string]any{"stack_id": d.ID}})
			}
			continue
		}
		if cur.Name != d.Name || cur.Description != d.Description || cur.Branch != d.Branch || cur.ProjectRoot != d.ProjectRoot ||
			!slices.Equal(cur.Labels, d.Labels) || cur.Autodeploy != d.Autodeploy || cur.Repository != d.Repository {
			out = append(out, Change{Action: ActionChanged, Address: addr(d, "spacelift_stack", "this"), Type: "spacelift_stack", Name: "this", Values: stackValues(d)})
		}
		for _, k := range sortedKeys(d.Env) {
			old, had := cur.Env[k]
			switch {
			case !had:
				out = append(out, Change{Action: ActionAdded, Address: addr(d, "spacelift_environment_variable", fmt.Sprintf("tf_vars[%q]", k)),
					Type: "spacelift_environment_variable", Name: "tf_vars", Values: varValues(d, k, d.Env[k])})
			case old != d.Env[k]:
				// Every argument is ForceNew in the provider: a new value replaces the variable.
				out = append(out, Change{Action: ActionReplaced, Address: addr(d, "spacelift_environment_variable", fmt.Sprintf("tf_vars[%q]", k)),
					Type: "spacelift_environment_variable", Name: "tf_vars", Values: varValues(d, k, d.Env[k])})
			}
		}
		for _, k := range sortedKeys(cur.Env) {
			if _, keep := d.Env[k]; !keep {
				out = append(out, Change{Action: ActionDeleted, Address: addr(cur, "spacelift_environment_variable", fmt.Sprintf("tf_vars[%q]", k)),
					Type: "spacelift_environment_variable", Name: "tf_vars", Values: varValues(cur, k, cur.Env[k])})
			}
		}
	}
	for _, id := range sortedKeys(current) {
		if _, keep := desired[id]; keep {
			continue
		}
		s := current[id]
		// Destroy order: the destructor first (its delete runs the destroy),
		// then what the destroy run needed, then the stack.
		out = append(out, Change{Action: ActionDeleted, Address: addr(s, "spacelift_stack_destructor", "this"), Type: "spacelift_stack_destructor", Name: "this",
			Values: map[string]any{"stack_id": s.ID}})
		for _, k := range sortedKeys(s.Env) {
			out = append(out, Change{Action: ActionDeleted, Address: addr(s, "spacelift_environment_variable", fmt.Sprintf("tf_vars[%q]", k)),
				Type: "spacelift_environment_variable", Name: "tf_vars", Values: varValues(s, k, s.Env[k])})
		}
		for _, p := range s.Policies {
			out = append(out, Change{Action: ActionDeleted, Address: addr(s, "spacelift_policy_attachment", p), Type: "spacelift_policy_attachment", Name: p,
				Values: map[string]any{"stack_id": s.ID, "policy_id": p}})
		}
		out = append(out, Change{Action: ActionDeleted, Address: addr(s, "spacelift_stack", "this"), Type: "spacelift_stack", Name: "this", Values: stackValues(s)})
	}
	return out
}
