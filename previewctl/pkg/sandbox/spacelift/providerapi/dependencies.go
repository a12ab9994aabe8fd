package providerapi

import (
	"context"
	"errors"
	"fmt"

	"preview-environments/previewctl/internal/sandbox/slapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

// Stack dependencies and their references as the provider creates them
// (spacelift_stack_dependency, spacelift_stack_dependency_reference). What
// they do to runs is the engine's (package spacelift, dependencies.go).

func (b *Backend) dependency(ctx context.Context, stackID, id string) (slapi.StackDependency, error) {
	d, err := b.st.Dependency(ctx, stackID, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, notFound("dependency " + id + " of stack " + stackID)
	}
	return d, err
}

// reaches reports whether from depends, directly or not, on to.
func (b *Backend) reaches(ctx context.Context, from, to string) (bool, error) {
	all, err := b.st.Dependencies(ctx, "", "")
	if err != nil {
		return false, err
	}
	seen := map[string]bool{}
	next := []string{from}
	for len(next) > 0 {
		s := next[0]
		next = next[1:]
		if s == to {
			return true, nil
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		for _, d := range all {
			if d.StackID == s {
				next = append(next, d.DependsOn)
			}
		}
	}
	return false, nil
}

// dependents names the stacks that depend on id, for the deletion guard.
func (b *Backend) dependents(ctx context.Context, id string) ([]string, error) {
	deps, err := b.st.Dependencies(ctx, "", id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range deps {
		out = append(out, d.StackID)
	}
	return out, nil
}

// CreateStackDependency makes stackID depend on spec.DependsOnStackID; one
// that would close a cycle is refused.
func (b *Backend) CreateStackDependency(ctx context.Context, stackID string, spec slapi.StackDependencySpec) (slapi.StackDependency, error) {
	if err := spec.Validate(stackID); err != nil {
		return slapi.StackDependency{}, err
	}
	for _, id := range []string{stackID, spec.DependsOnStackID} {
		if _, err := b.st.Stack(ctx, id); errors.Is(err, store.ErrNotFound) {
			return slapi.StackDependency{}, notFound("stack " + id)
		} else if err != nil {
			return slapi.StackDependency{}, err
		}
	}
	cycle, err := b.reaches(ctx, spec.DependsOnStackID, stackID)
	if err != nil {
		return slapi.StackDependency{}, err
	}
	if cycle {
		return slapi.StackDependency{}, fmt.Errorf("%s depending on %s would make a cycle: %w", stackID, spec.DependsOnStackID, slapi.ErrInvalid)
	}
	d := slapi.StackDependency{ID: newULID(), StackID: stackID, DependsOnStackID: spec.DependsOnStackID}
	err = b.st.InsertDependency(ctx, d)
	if errors.Is(err, store.ErrExists) {
		return slapi.StackDependency{}, fmt.Errorf("stack %s already depends on %s: %w", stackID, spec.DependsOnStackID, slapi.ErrConflict)
	}
	if err != nil {
		return slapi.StackDependency{}, err
	}
	b.hooks.Changed(stackID, "UPDATED")
	return d, nil
}

// GetStackDependency reads a dependency of stackID.
func (b *Backend) GetStackDependency(ctx context.Context, stackID, id string) (slapi.StackDependency, error) {
	return b.dependency(ctx, stackID, id)
}

// DeleteStackDependency removes a dependency with its references.
func (b *Backend) DeleteStackDependency(ctx context.Context, stackID, id string) error {
	if _, err := b.dependency(ctx, stackID, id); err != nil {
		return err
	}
	err := b.st.DeleteDependency(ctx, id)
	if err == nil {
		b.hooks.Changed(stackID, "UPDATED")
	}
	return err
}

func (b *Backend) reference(ctx context.Context, stackID, depID, id string) (slapi.Reference, error) {
	r, err := b.st.Reference(ctx, stackID, depID, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, notFound("reference " + id + " of dependency " + depID)
	}
	return r, err
}

// AddReference makes an output of the upstream an input of stackID's runs.
func (b *Backend) AddReference(ctx context.Context, stackID, depID string, spec slapi.ReferenceSpec) (slapi.Reference, error) {
	if err := spec.Validate(); err != nil {
		return slapi.Reference{}, err
	}
	if _, err := b.dependency(ctx, stackID, depID); err != nil {
		return slapi.Reference{}, err
	}
	r := slapi.Reference{ID: newULID(), StackID: stackID, DependencyID: depID, ReferenceSpec: spec}
	err := b.st.InsertReference(ctx, r)
	if errors.Is(err, store.ErrExists) {
		return slapi.Reference{}, fmt.Errorf("stack %s already has a reference setting %s: %w", stackID, spec.InputName, slapi.ErrConflict)
	}
	if err != nil {
		return slapi.Reference{}, err
	}
	b.hooks.Changed(stackID, "UPDATED")
	return r, nil
}

// GetReference reads a reference.
func (b *Backend) GetReference(ctx context.Context, stackID, depID, id string) (slapi.Reference, error) {
	return b.reference(ctx, stackID, depID, id)
}

// UpdateReference changes a reference's output, input or trigger_always.
func (b *Backend) UpdateReference(ctx context.Context, stackID, depID, id string, spec slapi.ReferenceSpec) (slapi.Reference, error) {
	if err := spec.Validate(); err != nil {
		return slapi.Reference{}, err
	}
	r, err := b.reference(ctx, stackID, depID, id)
	if err != nil {
		return r, err
	}
	err = b.st.UpdateReference(ctx, id, spec)
	if errors.Is(err, store.ErrExists) {
		return slapi.Reference{}, fmt.Errorf("stack %s already has a reference setting %s: %w", stackID, spec.InputName, slapi.ErrConflict)
	}
	if err != nil {
		return slapi.Reference{}, err
	}
	r.ReferenceSpec = spec
	return r, nil
}

// DeleteReference removes a reference.
func (b *Backend) DeleteReference(ctx context.Context, stackID, depID, id string) error {
	if _, err := b.reference(ctx, stackID, depID, id); err != nil {
		return err
	}
	return b.st.DeleteReference(ctx, id)
}
