package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/state"
)

// TestMigrationsKeepTheirComponent: the schema's steps run under component
// "spacelift", all of them once, so a data directory an older sandbox made
// opens and a second open changes nothing.
func TestMigrationsKeepTheirComponent(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if _, err := New(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	var n, max int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations WHERE component = 'spacelift'`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != len(migrations) || len(migrations) < 3 {
		t.Fatalf("component spacelift has %d step(s) up to version %d; want all %d", n, max, len(migrations))
	}
}

// TestStackRunAndLog is one stack's records through the store: a stack,
// a run queued and moved on, its log, and a missing stack's ErrNotFound.
func TestStackRunAndLog(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stack(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing stack: %v, want ErrNotFound", err)
	}
	s := Stack{ID: "svc-a", Name: "svc-a", Repository: "o/r", Branch: "main", ProjectRoot: "infra",
		Labels: []string{LabelEnvironmentID + "a", LabelStack + "data"}, EnvironmentID: "a"}
	if err := st.PutStack(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Stack(ctx, "svc-a")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StackNone || got.Role != "data" || got.Env == nil {
		t.Fatalf("stack read back: %+v", got)
	}
	r, err := st.InsertRun(ctx, Run{StackID: "svc-a", Type: RunTracked, Branch: "main", Commit: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "run-000001" || r.State != StateQueued {
		t.Fatalf("queued run %+v", r)
	}
	if _, err := st.SetRunState(ctx, r.ID, StatePreparing); err != nil {
		t.Fatal(err)
	}
	if active, err := st.ActiveRuns(ctx); err != nil || len(active) != 1 {
		t.Fatalf("active runs %v, %v", active, err)
	}
	if err := st.AppendLogs(ctx, r.ID, []string{"one", "two"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendLog(ctx, r.ID, "three"); err != nil {
		t.Fatal(err)
	}
	logs, err := st.Logs(ctx, r.ID)
	if err != nil || len(logs) != 3 || logs[2].Line != "three" {
		t.Fatalf("log %v, %v", logs, err)
	}
	if n, err := st.LogLineCount(ctx, r.ID); err != nil || n != 3 {
		t.Fatalf("log lines %d, %v", n, err)
	}
}
