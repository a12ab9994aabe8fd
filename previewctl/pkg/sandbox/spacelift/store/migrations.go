package store

import (
	"context"
	"database/sql"

	"preview-environments/previewctl/pkg/sandbox/state"
)

// component is the name the store's migrations run under in
// schema_migrations; existing data directories know it by this name.
const component = "spacelift"

// migrations are append-only (see state.Migrate): step i is version i+1 of
// component "spacelift", so a database from an older sandbox upgrades. Never
// edit, reorder or remove a step; add a new one at the end.
var migrations = []string{
	// 1: stacks, their variables, policy attachments and destructors;
	// runs, their logs and the policy decisions.
	`CREATE TABLE sl_stacks (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		repository TEXT NOT NULL,
		branch TEXT NOT NULL,
		project_root TEXT NOT NULL DEFAULT '',
		globs TEXT NOT NULL DEFAULT '[]',
		labels TEXT NOT NULL DEFAULT '[]',
		autodeploy INTEGER NOT NULL DEFAULT 0,
		administrative INTEGER NOT NULL DEFAULT 0,
		managed_by TEXT NOT NULL DEFAULT '',
		environment_id TEXT NOT NULL DEFAULT '',
		service TEXT NOT NULL DEFAULT '',
		tracked_commit TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL DEFAULT 'NONE',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE sl_env_vars (
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		name TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (stack_id, name)
	);
	CREATE TABLE sl_policy_attachments (
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		policy TEXT NOT NULL,
		PRIMARY KEY (stack_id, policy)
	);
	CREATE TABLE sl_destructors (
		stack_id TEXT PRIMARY KEY REFERENCES sl_stacks(id),
		created_at INTEGER NOT NULL
	);
	CREATE TABLE sl_runs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		stack_id TEXT NOT NULL,
		type TEXT NOT NULL,
		state TEXT NOT NULL,
		branch TEXT NOT NULL,
		commit_sha TEXT NOT NULL,
		triggered_by TEXT NOT NULL DEFAULT '',
		cause TEXT NOT NULL DEFAULT '',
		changes TEXT NOT NULL DEFAULT '[]',
		history TEXT NOT NULL DEFAULT '[]',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX sl_runs_stack ON sl_runs(stack_id, seq);
	CREATE INDEX sl_runs_state ON sl_runs(state, seq);
	CREATE TABLE sl_run_logs (
		run_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		at INTEGER NOT NULL,
		line TEXT NOT NULL,
		PRIMARY KEY (run_id, seq)
	);
	CREATE TABLE sl_policy_evals (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at INTEGER NOT NULL,
		policy TEXT NOT NULL,
		stack_id TEXT NOT NULL,
		run_id TEXT NOT NULL DEFAULT '',
		summary TEXT NOT NULL,
		decision TEXT NOT NULL
	);`,
	// 2: what the provider API sets (stack specs, variables' flags,
	// policies, AWS integrations and their attachments, role attachments)
	// and each stack's Terraform state and outputs.
	`ALTER TABLE sl_stacks ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE sl_env_vars ADD COLUMN write_only INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sl_env_vars ADD COLUMN description TEXT NOT NULL DEFAULT '';
	CREATE TABLE sl_policies (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		spec TEXT NOT NULL
	);
	CREATE TABLE sl_aws_integrations (
		id TEXT PRIMARY KEY,
		spec TEXT NOT NULL
	);
	CREATE TABLE sl_aws_attachments (
		integration_id TEXT NOT NULL REFERENCES sl_aws_integrations(id),
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		attachment_id TEXT NOT NULL,
		read INTEGER NOT NULL,
		write INTEGER NOT NULL,
		PRIMARY KEY (integration_id, stack_id)
	);
	CREATE TABLE sl_role_attachments (
		id TEXT PRIMARY KEY,
		role_id TEXT NOT NULL,
		space_id TEXT NOT NULL,
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id)
	);
	CREATE TABLE sl_tf_state (
		stack_id TEXT PRIMARY KEY,
		state BLOB NOT NULL,
		lock_info TEXT NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE sl_outputs (
		stack_id TEXT PRIMARY KEY,
		outputs TEXT NOT NULL
	);`,
	// 3: stack dependencies and their references.
	`CREATE TABLE sl_dependencies (
		id TEXT PRIMARY KEY,
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		depends_on TEXT NOT NULL REFERENCES sl_stacks(id),
		UNIQUE (stack_id, depends_on)
	);
	CREATE INDEX sl_dependencies_upstream ON sl_dependencies(depends_on);
	CREATE TABLE sl_references (
		id TEXT PRIMARY KEY,
		dependency_id TEXT NOT NULL REFERENCES sl_dependencies(id),
		stack_id TEXT NOT NULL,
		output_name TEXT NOT NULL,
		input_name TEXT NOT NULL,
		trigger_always INTEGER NOT NULL DEFAULT 0,
		UNIQUE (stack_id, input_name)
	);`,
}

// Store is the stand-in's records in the sandbox database.
type Store struct{ db *sql.DB }

// New applies the store's migrations to db and returns the store on it.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if err := state.Migrate(ctx, db, component, migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}
