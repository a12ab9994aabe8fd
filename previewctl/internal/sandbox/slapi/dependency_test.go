package slapi

import (
	"context"
	"errors"
	"testing"
)

func TestStackDependencies(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, _ *Memory) {
		ctx := context.Background()
		for _, name := range []string{"data", "service", "other"} {
			if _, err := a.CreateStack(ctx, StackSpec{Name: name, Repository: "r", Branch: "main"}); err != nil {
				t.Fatal(err)
			}
		}
		dep, err := a.CreateStackDependency(ctx, "service", StackDependencySpec{DependsOnStackID: "data"})
		if err != nil {
			t.Fatal(err)
		}
		if dep.StackID != "service" || dep.DependsOnStackID != "data" || len(dep.ID) != 26 {
			t.Fatalf("dependency = %+v", dep)
		}
		if got, err := a.GetStackDependency(ctx, "service", dep.ID); err != nil || got != dep {
			t.Fatalf("get = %+v, %v", got, err)
		}

		refused := []struct {
			name    string
			stack   string
			spec    StackDependencySpec
			wantErr error
		}{
			{"the same pair again", "service", StackDependencySpec{DependsOnStackID: "data"}, ErrConflict},
			{"a cycle", "data", StackDependencySpec{DependsOnStackID: "service"}, ErrInvalid},
			{"itself", "data", StackDependencySpec{DependsOnStackID: "data"}, ErrInvalid},
			{"no such upstream", "service", StackDependencySpec{DependsOnStackID: "nope"}, ErrNotFound},
			{"no such dependent", "nope", StackDependencySpec{DependsOnStackID: "data"}, ErrNotFound},
			{"empty upstream", "service", StackDependencySpec{}, ErrInvalid},
		}
		for _, tc := range refused {
			if _, err := a.CreateStackDependency(ctx, tc.stack, tc.spec); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
		}

		ref, err := a.AddReference(ctx, "service", dep.ID, ReferenceSpec{OutputName: "bucket", InputName: "TF_VAR_greeting_bucket"})
		if err != nil {
			t.Fatal(err)
		}
		if ref.StackID != "service" || ref.DependencyID != dep.ID || ref.OutputName != "bucket" {
			t.Fatalf("reference = %+v", ref)
		}
		badRefs := []struct {
			name    string
			dep     string
			spec    ReferenceSpec
			wantErr error
		}{
			{"input taken", dep.ID, ReferenceSpec{OutputName: "other", InputName: "TF_VAR_greeting_bucket"}, ErrConflict},
			{"bad input name", dep.ID, ReferenceSpec{OutputName: "bucket", InputName: "TF VAR"}, ErrInvalid},
			{"bad output name", dep.ID, ReferenceSpec{OutputName: "${x}", InputName: "X"}, ErrInvalid},
			{"no such dependency", "01ARZ3NDEKTSV4RRFFQ69G5FAV", ReferenceSpec{OutputName: "bucket", InputName: "Y"}, ErrNotFound},
		}
		for _, tc := range badRefs {
			if _, err := a.AddReference(ctx, "service", tc.dep, tc.spec); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
		}
		up, err := a.UpdateReference(ctx, "service", dep.ID, ref.ID, ReferenceSpec{OutputName: "bucket", InputName: "TF_VAR_b", TriggerAlways: true})
		if err != nil || up.InputName != "TF_VAR_b" || !up.TriggerAlways {
			t.Fatalf("update = %+v, %v", up, err)
		}

		// The upstream cannot go while something depends on it; the
		// dependent can (its dependencies go with it).
		if _, err := a.DeleteStack(ctx, "data", false); !errors.Is(err, ErrConflict) {
			t.Fatalf("delete of a stack with dependents: err = %v, want conflict", err)
		}
		if err := a.DeleteStackDependency(ctx, "service", dep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.GetReference(ctx, "service", dep.ID, ref.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reference outlived its dependency: err = %v", err)
		}
		if _, err := a.DeleteStack(ctx, "data", false); err != nil {
			t.Fatalf("delete after the dependency went: %v", err)
		}
		if err := a.DeleteStackDependency(ctx, "service", dep.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: err = %v, want not found", err)
		}
	})
}
