// Package state is the sandbox's SQLite store: one database file shared by
// every sandbox component, each of which owns its own tables and migrates
// them with Migrate under its own component name.
package state

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // pure-Go driver: no cgo, builds anywhere Go does
)

// Open opens (creating if needed) the SQLite database at path. WAL and a busy
// timeout let the HTTP handlers read while a deploy writes; foreign keys are
// on because components reference each other's rows.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	// One writer at a time is SQLite's model; a single connection also makes
	// the pragmas above apply to every statement.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL,
		version   INTEGER NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema_migrations in %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies, in order and each in its own transaction, the steps of
// component that have not run yet. Step i has version i+1; steps are only
// ever appended, never edited, so a database from an older sandbox upgrades.
func Migrate(ctx context.Context, db *sql.DB, component string, steps []string) error {
	var done int
	if err := db.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`, component).Scan(&done); err != nil {
		return fmt.Errorf("read migrations of %s: %w", component, err)
	}
	for i := done; i < len(steps); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s to %d: %w", component, i+1, err)
		}
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %d: %w", component, i+1, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (component, version) VALUES (?, ?)`, component, i+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %d: %w", component, i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s to %d: %w", component, i+1, err)
		}
	}
	return nil
}
