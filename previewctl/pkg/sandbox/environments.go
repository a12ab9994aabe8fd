package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"preview-environments/previewctl/pkg/sandbox/gateway"
	"preview-environments/previewctl/pkg/sandbox/lambda"
)

var migrations = []string{
	`CREATE TABLE environments (
		id         TEXT PRIMARY KEY,
		service    TEXT NOT NULL,
		routes     TEXT NOT NULL,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL)`,
	// S3 versioning is per bucket (s3versions.go).
	`CREATE TABLE s3_bucket_versioning (
		bucket TEXT PRIMARY KEY,
		status TEXT NOT NULL CHECK (status IN ('Enabled', 'Suspended')))`,
}

// Deployment is one version of an environment: its function and routes.
type Deployment struct {
	// ID is the environment ID (also the function's name and the stage).
	ID string `json:"id"`
	// Service names the gateway host: <id>.<service>.localhost.
	Service string `json:"service"`
	// Version labels the code (commit sha or "latest").
	Version string `json:"version"`
	// ArtifactKey is the zip's key in the artifact bucket ("<sha>.zip").
	ArtifactKey string `json:"artifact_key"`
	// Env is the function's environment variables.
	Env map[string]string `json:"env,omitempty"`
	// TimeoutSeconds is Lambda's timeout (default 3).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
	// PoolSize bounds the function's concurrent emulators (default 4).
	PoolSize int `json:"pool_size,omitempty"`
	// Routes are "METHOD /path" keys; empty means ANY / and ANY /{proxy+}.
	Routes []string `json:"routes,omitempty"`
}

// Environment is a deployed environment as the API reports it.
type Environment struct {
	ID          string            `json:"id"`
	Service     string            `json:"service"`
	URL         string            `json:"url"`
	Version     string            `json:"version"`
	ArtifactKey string            `json:"artifact_key"`
	Env         map[string]string `json:"env,omitempty"`
	Timeout     string            `json:"timeout"`
	PoolSize    int               `json:"pool_size"`
	Warm        int               `json:"warm_processes"`
	Routes      []string          `json:"routes"`
	// Function and ObjectVersion are set for an environment deployed
	// through the AWS control plane (OpenTofu): its Lambda function and the
	// S3 object version of its code.
	Function      string `json:"function,omitempty"`
	ObjectVersion string `json:"object_version,omitempty"`
}

// InputError is a deployment the caller got wrong (HTTP 400).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ErrNoEnvironment is returned (wrapped) for an unknown environment ID.
var ErrNoEnvironment = errors.New("no such environment")

// ErrManaged is returned (wrapped) by Deploy and Remove for an environment
// or function that the AWS control plane (OpenTofu) manages: the direct API
// must not change what the engine's state describes.
var ErrManaged = errors.New("managed through the AWS control plane")

// Deploy makes d the environment's live version: the artifact is fetched,
// checked and unpacked, function and routes are recorded in one transaction,
// then swapped in; requests under way finish on the old version. On error
// nothing changed and the previous version keeps serving.
func (s *Sandbox) Deploy(ctx context.Context, d Deployment) (Environment, error) {
	env := gateway.Environment{ID: d.ID, Service: d.Service, Function: d.ID}
	for _, r := range d.Routes {
		rt, err := gateway.ParseRoute(r)
		if err != nil {
			return Environment{}, &InputError{err}
		}
		env.Routes = append(env.Routes, rt)
	}
	if err := env.Validate(); err != nil {
		return Environment{}, &InputError{err}
	}
	if d.TimeoutSeconds < 0 {
		return Environment{}, &InputError{fmt.Errorf("timeout_seconds %d: want a positive number", d.TimeoutSeconds)}
	}
	spec := lambda.Spec{
		Name: d.ID, Version: d.Version, ArtifactKey: d.ArtifactKey, Env: d.Env,
		Timeout: time.Duration(d.TimeoutSeconds) * time.Second, PoolSize: d.PoolSize,
	}
	if err := spec.Normalize(); err != nil {
		return Environment{}, &InputError{err}
	}
	if s.aws.managedEnv(d.ID) {
		return Environment{}, &InputError{fmt.Errorf("environment %s: %w: change it with OpenTofu", d.ID, ErrManaged)}
	}
	routes, _ := json.Marshal(routeKeys(env.Routes))
	now := time.Now().UTC().Format(time.RFC3339)
	_, err := s.lambdas.Deploy(ctx, spec, func(tx *sql.Tx) error {
		// Checked in the transaction: the control plane checks the other way.
		if managed, err := s.functionIsManaged(ctx, tx, d.ID); err != nil || managed {
			if err == nil {
				err = &InputError{fmt.Errorf("function %s: %w: an environment ID may not name a control-plane function", d.ID, ErrManaged)}
			}
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO environments (id, service, routes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET service = excluded.service, routes = excluded.routes, updated_at = excluded.updated_at`,
			d.ID, d.Service, string(routes), now, now)
		return err
	})
	if ie := (*InputError)(nil); errors.As(err, &ie) {
		return Environment{}, ie
	}
	if err != nil {
		return Environment{}, err
	}
	if err := s.gw.Set(env); err != nil {
		// Validated above; only a bug gets here.
		return Environment{}, fmt.Errorf("environment %s: %w", d.ID, err)
	}
	s.log.Info("environment deployed", "id", d.ID, "service", d.Service, "version", spec.Version)
	e, _ := s.Environment(d.ID)
	return e, nil
}

// Remove takes an environment down: routes first (it answers 404 at once),
// then its function, whose emulators are stopped before Remove returns.
func (s *Sandbox) Remove(ctx context.Context, id string) error {
	if s.aws.managedEnv(id) {
		return fmt.Errorf("environment %q: %w: destroy it with OpenTofu", id, ErrManaged)
	}
	e, ok := s.Environment(id)
	if !ok {
		return fmt.Errorf("environment %q: %w", id, ErrNoEnvironment)
	}
	s.gw.Remove(id)
	err := s.lambdas.Remove(ctx, id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM environments WHERE id = ?`, id)
		return err
	})
	if err != nil {
		// Still recorded: put the routes back so state and serving agree.
		if env, ok := s.gatewayEnv(ctx, id); ok {
			s.gw.Set(env)
		}
		return err
	}
	s.log.Info("environment removed", "id", id, "service", e.Service)
	return nil
}

// Environment reports one environment.
func (s *Sandbox) Environment(id string) (Environment, bool) {
	for _, e := range s.Environments() {
		if e.ID == id {
			return e, true
		}
	}
	return Environment{}, false
}

// Environments reports every environment, sorted by ID: those deployed
// through Deploy and those the AWS control plane serves on a custom domain
// (ID and service from the domain's first two labels; see awsapi.go).
func (s *Sandbox) Environments() []Environment {
	var out []Environment
	owned := s.aws.ownedFunctions()
	for _, f := range s.lambdas.List() {
		if owned[f.Spec.Name] {
			continue
		}
		e := Environment{
			ID: f.Spec.Name, Version: f.Spec.Version, ArtifactKey: f.Spec.ArtifactKey, Env: f.Spec.Env,
			Timeout: f.Spec.Timeout.String(), PoolSize: f.Spec.PoolSize, Warm: f.Warm(),
		}
		if ge, ok := s.gatewayByID(f.Spec.Name); ok {
			e.Service = ge.Service
			e.Routes = routeKeys(ge.Routes)
			e.URL = EnvironmentURL(s.Addr(), e.ID, e.Service)
		}
		out = append(out, e)
	}
	if managed := s.aws.environments(); len(managed) > 0 {
		out = append(out, managed...)
		sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	}
	return out
}

func (s *Sandbox) gatewayByID(id string) (*gateway.Environment, bool) {
	var service string
	if err := s.db.QueryRow(`SELECT service FROM environments WHERE id = ?`, id).Scan(&service); err != nil {
		return nil, false
	}
	return s.gw.Lookup(id, service)
}

func (s *Sandbox) gatewayEnv(ctx context.Context, id string) (gateway.Environment, bool) {
	var service, routes string
	if err := s.db.QueryRowContext(ctx, `SELECT service, routes FROM environments WHERE id = ?`, id).Scan(&service, &routes); err != nil {
		return gateway.Environment{}, false
	}
	env := gateway.Environment{ID: id, Service: service, Function: id}
	var keys []string
	if err := json.Unmarshal([]byte(routes), &keys); err != nil {
		return gateway.Environment{}, false
	}
	for _, k := range keys {
		r, err := gateway.ParseRoute(k)
		if err != nil {
			return gateway.Environment{}, false
		}
		env.Routes = append(env.Routes, r)
	}
	return env, true
}

func (s *Sandbox) restoreEnvironments(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM environments`)
	if err != nil {
		return 0, fmt.Errorf("load environments: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("load environments: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		env, ok := s.gatewayEnv(ctx, id)
		if _, fok := s.lambdas.Get(id); !ok || !fok {
			fmt.Fprintf(s.cfg.Progress, "sandbox: warning: environment %s not restored (its function or routes are unreadable)\n", id)
			continue
		}
		if err := s.gw.Set(env); err != nil {
			fmt.Fprintf(s.cfg.Progress, "sandbox: warning: environment %s not restored: %v\n", id, err)
			continue
		}
		n++
	}
	return n, nil
}

func routeKeys(rs []gateway.Route) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}
