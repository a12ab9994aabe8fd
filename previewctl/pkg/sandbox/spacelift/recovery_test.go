package spacelift

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/envfile"
)

// TestRestartRunsStackCreatedByInterruptedRun is the crash the platform's
// kill -9 test found: the manager run had created an environment's stack
// (one transaction) and died before its trigger decision. The resumed run
// sees no difference between files and stacks, yet the stack must run.
func TestRestartRunsStackCreatedByInterruptedRun(t *testing.T) {
	h := newHarness(t)
	h.settle()
	path, file := envFile(t, "acme", "shop", 21, sha1, "main")
	ev := h.repo.commit("main", map[string][]byte{path: file})
	h.cancel()

	ctx := context.Background()
	r, st, db := h.interruptedManagerRun(ev.After)
	// What the run had applied when it died: the stack, as its apply
	// step writes it.
	cfg := testConfig(t)
	cfg.Shared.ManagerStackID, cfg.Shared.PushPolicyID = cfg.Manager, PolicyPush
	desired, err := readManager(filepath.Join(h.repo.dir, "manager"), cfg.Shared, map[string]string{PolicyPush: PolicyPush})
	if err != nil || len(desired) != 1 {
		t.Fatalf("read manager: %d stacks, %v", len(desired), err)
	}
	for _, d := range desired {
		s := d.Stack
		if !strings.Contains(s.Repository, "/") {
			s.Repository = ownerOf(cfg.Repository) + "/" + s.Repository
		}
		s.State = StackNone
		if err := st.putStack(ctx, s, d.Destructor); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	h.start()
	h.settle()
	id := envfile.ID("acme", "shop", 21)
	if _, live := h.plane.snapshot(); live[id].ArtifactKey != sha1+".zip" {
		t.Fatalf("environment %s not deployed after the restart: %+v", id, live)
	}
	resumed := h.lastRun("manager-hello-service")
	if resumed.State != StateFinished || !strings.HasPrefix(resumed.Cause, "resumed after restart: "+r.ID) {
		t.Fatalf("last manager run %+v, want the finished resumption of %s", resumed, r.ID)
	}
	env := h.lastRun("hello-service-" + id)
	if env.TriggeredBy != resumed.ID || env.State != StateFinished {
		t.Fatalf("environment run %+v, want a finished run triggered by %s", env, resumed.ID)
	}
}
