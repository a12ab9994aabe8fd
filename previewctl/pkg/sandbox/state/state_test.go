package state

import (
	"context"
	"path/filepath"
	"testing"
)

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v1 := []string{`CREATE TABLE a (x INTEGER)`}
	v2 := append(v1, `ALTER TABLE a ADD COLUMN y TEXT`)
	bad := append(v2, `THIS IS NOT SQL`)
	for _, tc := range []struct {
		component string
		steps     []string
		wantErr   bool
		version   int
	}{
		{"one", v1, false, 1},
		{"one", v1, false, 1}, // again: nothing to do
		{"one", v2, false, 2}, // appended step runs alone
		{"two", []string{`CREATE TABLE b (z INTEGER)`}, false, 1},
		{"one", bad, true, 2}, // the failing step is not recorded
	} {
		err := Migrate(ctx, db, tc.component, tc.steps)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Migrate(%s, %d steps) = %v; want error %v", tc.component, len(tc.steps), err, tc.wantErr)
		}
		var v int
		db.QueryRow(`SELECT MAX(version) FROM schema_migrations WHERE component = ?`, tc.component).Scan(&v)
		if v != tc.version {
			t.Fatalf("%s at version %d, want %d", tc.component, v, tc.version)
		}
	}
	if _, err := db.Exec(`INSERT INTO a (x, y) VALUES (1, 'ok')`); err != nil {
		t.Fatalf("migrated table: %v", err)
	}
	db.Close()
	// Reopening keeps everything.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after reopen: %d rows, %v", n, err)
	}
}
