// Package ondemand creates, extends, deletes and lists on-demand
// environments: preview environments that belong to no pull request, named
// by hand (qa-checkout), that live until their expires_at (gc removes them
// then). Their files are ordinary environment files (envfile.NewOnDemand),
// rendered, checked against the template and refused on ID collisions by
// the same code as a PR's (envfile.Prepare, envfile.Render), and written
// by a Store: on disk, or through the update-file-action into the manager
// repository, as gc deletes.
package ondemand

import (
	"context"
	"errors"
	"fmt"
	"time"

	"preview-environments/previewctl/pkg/envfile"
)

var (
	// ErrExists: create was asked for a name that has an environment.
	ErrExists = errors.New("on-demand environment already exists")
	// ErrNotFound: extend was asked for a name that has none.
	ErrNotFound = errors.New("no such on-demand environment")
)

// Store reads and writes environment files where they live.
type Store interface {
	// Get returns e's file as it is now, or ok false when there is none.
	Get(ctx context.Context, e envfile.Environment) (src []byte, ok bool, err error)
	// Put writes e's file (rendered from e) and says what it did.
	Put(ctx context.Context, e envfile.Environment, message string) (string, error)
	// Remove deletes e's file; a file already gone is not an error.
	Remove(ctx context.Context, e envfile.Environment, message string) (string, error)
	// Where describes e's file for people.
	Where(e envfile.Environment) string
}

// Manager runs the operations against a manager directory (the checkout
// whose template and environment files are checked, as render does) and a
// Store (where the file is written; it may be the same directory).
type Manager struct {
	Dir   string
	Store Store
}

// CreateRequest is what `env create` takes.
type CreateRequest struct {
	Service     string
	Name        string
	CodeVersion string
	InfraBranch string
	TTL         time.Duration
}

// Result is what an operation did.
type Result struct {
	Env   envfile.Environment
	Where string // the file, as Store.Where says
	Op    string // what the store did: "created (commit ...)", "deleted", ...
}

// Create validates the request (a *envfile.FieldError names the bad input;
// nothing is read or written before it passes), refuses a name that already
// has an environment (ErrExists), checks the file against the template and
// other environments' IDs, and writes it.
func (m Manager) Create(ctx context.Context, req CreateRequest, now time.Time) (Result, error) {
	e, err := envfile.NewOnDemand(req.Service, req.Name, req.CodeVersion, req.InfraBranch, now, req.TTL)
	if err != nil {
		return Result{}, err
	}
	if _, found, err := m.find(ctx, e); err != nil {
		return Result{}, err
	} else if found {
		return Result{}, fmt.Errorf("%w: %s (%s) at %s; extend it with `previewctl env extend --name %s --ttl D`, or delete it first",
			ErrExists, e.Name, e.ID, m.Store.Where(e), e.Name)
	}
	if e, err = envfile.Prepare(m.Dir, e); err != nil {
		return Result{}, err
	}
	msg := fmt.Sprintf("previewctl env: create on-demand environment %s (%s), code_version %s, infra branch %s, expires %s",
		e.Name, e.ID, e.CodeVersion, e.InfraBranch, e.ExpiresAt.Format(time.RFC3339))
	op, err := m.Store.Put(ctx, e, msg)
	if err != nil {
		return Result{}, fmt.Errorf("writing %s: %w", m.Store.Where(e), err)
	}
	return Result{Env: e, Where: m.Store.Where(e), Op: op}, nil
}

// Extend sets an existing environment's expires_at to now+ttl (shorter or
// longer than before: the TTL counts from now, as a render's does) and
// keeps everything else. A name without an environment is ErrNotFound.
func (m Manager) Extend(ctx context.Context, service, name string, ttl time.Duration, now time.Time) (Result, error) {
	probe, err := probe(service, name)
	if err != nil {
		return Result{}, err
	}
	if err := envfile.ValidateTTL(ttl); err != nil {
		return Result{}, err
	}
	cur, found, err := m.find(ctx, probe)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{}, fmt.Errorf("%w: %s (%s) at %s; create it with `previewctl env create --name %s ...`", ErrNotFound, name, probe.ID, m.Store.Where(probe), name)
	}
	e := cur.Renewed(now, ttl)
	if err := e.Validate(); err != nil {
		return Result{}, err
	}
	if e, err = envfile.Prepare(m.Dir, e); err != nil {
		return Result{}, err
	}
	msg := fmt.Sprintf("previewctl env: extend on-demand environment %s (%s) to %s", e.Name, e.ID, e.ExpiresAt.Format(time.RFC3339))
	op, err := m.Store.Put(ctx, e, msg)
	if err != nil {
		return Result{}, fmt.Errorf("writing %s: %w", m.Store.Where(e), err)
	}
	return Result{Env: e, Where: m.Store.Where(e), Op: op}, nil
}

// Delete removes a name's environment file (its stack's destructor then
// destroys the resources). A name without a file is success, with Op
// "absent": deleting is idempotent.
func (m Manager) Delete(ctx context.Context, service, name string) (Result, error) {
	e, err := probe(service, name)
	if err != nil {
		return Result{}, err
	}
	if cur, found, err := m.find(ctx, e); err == nil && found {
		e = cur
	}
	op, err := m.Store.Remove(ctx, e, fmt.Sprintf("previewctl env: delete on-demand environment %s (%s)", e.Name, e.ID))
	if err != nil {
		return Result{}, fmt.Errorf("deleting %s: %w", m.Store.Where(e), err)
	}
	return Result{Env: e, Where: m.Store.Where(e), Op: op}, nil
}

// List returns the on-demand environments of one service (every service
// when empty) in the manager directory, sorted by file name, and the files
// that could not be read.
func List(managerDir, service string) ([]envfile.Environment, []error) {
	envs, errs := envfile.ReadManager(managerDir, service)
	out := []envfile.Environment{}
	for _, e := range envs {
		if e.OnDemand() {
			out = append(out, e)
		}
	}
	return out, errs
}

// probe is the environment a name would have: enough to find its file.
func probe(service, name string) (envfile.Environment, error) {
	if err := envfile.ValidateService(service); err != nil {
		return envfile.Environment{}, err
	}
	if err := envfile.ValidateName(name); err != nil {
		return envfile.Environment{}, err
	}
	return envfile.Environment{Kind: envfile.KindOnDemand, Service: service, Name: name, ID: envfile.OnDemandID(name)}, nil
}

// find reads a name's current file from the store and parses it; a file
// that does not parse is an error (it is not silently replaced).
func (m Manager) find(ctx context.Context, e envfile.Environment) (envfile.Environment, bool, error) {
	src, ok, err := m.Store.Get(ctx, e)
	if err != nil {
		return envfile.Environment{}, false, fmt.Errorf("reading %s: %w", m.Store.Where(e), err)
	}
	if !ok {
		return envfile.Environment{}, false, nil
	}
	cur, err := envfile.Parse(envfile.FileName(e), src)
	if err != nil {
		return envfile.Environment{}, false, fmt.Errorf("%s: %w", m.Store.Where(e), err)
	}
	if cur.Service != e.Service || cur.Name != e.Name {
		return envfile.Environment{}, false, fmt.Errorf("%s holds %s of service %s", m.Store.Where(e), cur.Key(), cur.Service)
	}
	return cur, true, nil
}
