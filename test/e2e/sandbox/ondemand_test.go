package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/test/e2e"
)

// TestOnDemandExpirySandbox: an on-demand environment through the whole
// platform, ended by its TTL: created (file on main, manager run, both
// stacks), serving latest with the data stack's greeting; then a gc pass
// judged after its expiry deletes the file on main, and the manager run
// and the destructors take everything down (both stacks, the function,
// the gateway's host), as gc.yml does in production.
func TestOnDemandExpirySandbox(t *testing.T) {
	b := start(t, nil)
	budget := e2e.SandboxBudget
	ctx, cancel := context.WithTimeout(context.Background(), 2*scenarioTimeout(budget))
	defer cancel()
	pl := b.Platform()
	greeting, err := os.ReadFile(filepath.Join(pl.Config().RepoRoot, "infra", "data", "greeting.txt"))
	if err != nil {
		t.Fatal(err)
	}

	v, err := pl.CreateOnDemand(ctx, platform.OnDemandRequest{Name: "qa-expiry", TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	env := e2e.PR{EnvironmentID: v.ID}
	if err := e2e.WaitUntil(ctx, t, "the on-demand environment serves", budget.Deploy, budget.Poll, func() error {
		_, got, err := body(ctx, b, env)
		return checkBody(got, "latest", string(greeting), err)
	}); err != nil {
		t.Fatal(err)
	}

	// Before its expiry a pass keeps it (and warns: it ends within a day).
	rep, err := pl.GC(ctx, platform.GCRequest{})
	if err != nil || rep.Error != "" || len(rep.Deleted) != 0 || len(rep.Expiring) != 1 || rep.Expiring[0].ID != v.ID {
		t.Fatalf("gc before expiry: %v %+v", err, rep)
	}
	rep, err = pl.GC(ctx, platform.GCRequest{Now: time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)})
	if err != nil || rep.Error != "" || len(rep.Deleted) != 1 || rep.Deleted[0].ID != v.ID {
		t.Fatalf("gc after expiry: %v %+v", err, rep)
	}
	if err := e2e.WaitUntil(ctx, t, "the expired environment is gone", budget.Destroy, budget.Poll, func() error {
		return b.Gone(ctx, env)
	}); err != nil {
		t.Fatal(err)
	}
	if list, err := pl.OnDemand(ctx); err != nil || len(list) != 0 {
		t.Fatalf("on-demand environments after gc: %+v %v", list, err)
	}
}
