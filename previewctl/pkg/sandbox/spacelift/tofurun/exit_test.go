package tofurun

import (
	"errors"
	"fmt"
	"testing"
)

func TestPlanHasChanges(t *testing.T) {
	failed := &ExitError{Command: "plan", Code: 1}
	for _, tc := range []struct {
		name    string
		err     error
		changes bool
		wantErr error
	}{
		{"exit 0: no changes", nil, false, nil},
		{"exit 2: changes", &ExitError{Command: "plan", Code: 2}, true, nil},
		{"exit 2 wrapped", fmt.Errorf("run: %w", &ExitError{Command: "plan", Code: 2}), true, nil},
		{"exit 1: the plan failed", failed, false, failed},
		{"not an exit: start failed", errors.New("start tofu plan: no such file"), false, errors.New("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := PlanHasChanges(tc.err)
			if changes != tc.changes {
				t.Errorf("changes = %v, want %v", changes, tc.changes)
			}
			if (err == nil) != (tc.wantErr == nil) || (tc.wantErr != nil && err != tc.err) {
				t.Errorf("err = %v, want %v returned as is", err, tc.err)
			}
		})
	}
	if got := failed.Error(); got != "tofu plan exited with status 1" {
		t.Errorf("ExitError text %q", got)
	}
}
