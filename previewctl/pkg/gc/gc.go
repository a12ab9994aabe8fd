// Package gc decides which environments to remove (PR closed, or TTL
// passed; an on-demand environment has no PR, so only its TTL counts) and
// removes them, behind a guard against mass deletion: a broken clock, a
// failing API or an unreadable listing must never turn into "destroy
// everything". On-demand environments about to expire are warned about.
package gc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/envlist"
	"preview-environments/previewctl/pkg/prstate"
)

// DefaultMaxFraction is the largest share of all environments one pass may
// delete without --force.
const DefaultMaxFraction = 0.5

// ErrGuard is returned when a pass would delete more than allowed.
var ErrGuard = errors.New("mass-deletion guard")

// Deleter removes one environment's file.
type Deleter interface {
	Delete(ctx context.Context, e envfile.Environment, reason string) error
	// Where describes the target for progress lines.
	Where(e envfile.Environment) string
}

// Decision is what gc decided for one environment.
type Decision struct {
	Env    envfile.Environment
	Delete bool
	Reason string // why it is deleted or kept
	Err    error  // a lookup that failed: the environment is kept
}

// Options configure a pass.
type Options struct {
	Now         time.Time
	Lookup      prstate.Lookup // nil: TTL only
	Deleter     Deleter
	DryRun      bool
	Force       bool
	MaxFraction float64 // 0: DefaultMaxFraction
	// WarnWithin makes the pass warn about each on-demand environment it
	// keeps that expires within this long (0: no warnings).
	WarnWithin time.Duration
	Progress   io.Writer
}

// Report is the outcome of a pass.
type Report struct {
	Total     int // parsed environments plus unparseable files
	Decisions []Decision
	Deleted   []envfile.Environment
	// Expiring are the on-demand environments kept that expire within
	// Options.WarnWithin.
	Expiring []envfile.Environment
	Errors   []error
}

// Allowed is how many of total environments one pass may delete: the
// fraction, rounded down, but at least one so a lone stale environment can
// still be collected.
func Allowed(total int, fraction float64) int {
	return max(1, int(math.Floor(fraction*float64(total))))
}

// Plan decides for each environment, asking GitHub only for those whose
// TTL has not already passed. A failed lookup keeps the environment.
func Plan(ctx context.Context, envs []envfile.Environment, opts Options) []Decision {
	out := make([]Decision, 0, len(envs))
	for _, e := range envs {
		d := Decision{Env: e}
		switch {
		case !opts.Now.Before(e.ExpiresAt):
			d.Delete, d.Reason = true, "expired at "+e.ExpiresAt.Format(time.RFC3339)
		case e.OnDemand():
			// No PR to ask about: only its TTL ends it.
			d.Reason = "on-demand, expires at " + e.ExpiresAt.Format(time.RFC3339)
		case opts.Lookup == nil:
			d.Reason = "not expired"
		default:
			state, err := opts.Lookup.State(ctx, e.Owner, e.Repo, e.PR)
			switch {
			case errors.Is(err, prstate.ErrNotFound):
				d.Reason, d.Err = "PR not found; kept until its TTL", err
			case err != nil:
				d.Reason, d.Err = "PR state unknown; kept", err
			case state == prstate.Closed:
				d.Delete, d.Reason = true, "PR closed"
			default:
				d.Reason = "PR open"
			}
		}
		out = append(out, d)
	}
	return out
}

// Run plans and, unless the guard trips or DryRun is set, deletes. broken
// are the listing's parse errors: they count towards the total (so a
// half-unreadable directory lowers what may be deleted) and are reported.
func Run(ctx context.Context, envs []envfile.Environment, broken []error, opts Options) (Report, error) {
	if opts.MaxFraction == 0 {
		opts.MaxFraction = DefaultMaxFraction
	}
	if opts.MaxFraction < 0 || opts.MaxFraction > 1 {
		return Report{}, fmt.Errorf("max fraction %v: must be in (0, 1]", opts.MaxFraction)
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	rep := Report{Total: len(envs) + len(broken), Errors: append([]error(nil), broken...)}
	for _, err := range broken {
		fmt.Fprintf(progress, "gc: skipping unreadable file: %v\n", err)
	}
	rep.Decisions = Plan(ctx, envs, opts)
	var doomed []Decision
	for _, d := range rep.Decisions {
		verb := "keep"
		if d.Delete {
			verb = "delete"
			doomed = append(doomed, d)
		}
		line := fmt.Sprintf("gc: %s %s (%s): %s", verb, d.Env.ID, d.Env.Key(), d.Reason)
		if d.Err != nil {
			line += ": " + d.Err.Error()
			if !errors.Is(d.Err, prstate.ErrNotFound) {
				rep.Errors = append(rep.Errors, d.Err)
			}
		}
		fmt.Fprintln(progress, line)
	}
	for _, d := range rep.Decisions {
		if left := d.Env.ExpiresAt.Sub(opts.Now); !d.Delete && d.Env.OnDemand() && opts.WarnWithin > 0 && left <= opts.WarnWithin {
			rep.Expiring = append(rep.Expiring, d.Env)
			fmt.Fprintf(progress, "gc: warning: on-demand environment %s (%s) expires in %s at %s; keep it with `previewctl env extend --name %s --ttl D`\n",
				d.Env.Name, d.Env.ID, envlist.Human(left), d.Env.ExpiresAt.Format(time.RFC3339), d.Env.Name)
		}
	}
	if len(doomed) == 0 {
		fmt.Fprintf(progress, "gc: nothing to delete (%d environments)\n", rep.Total)
		return rep, rep.err()
	}
	if allowed := Allowed(rep.Total, opts.MaxFraction); len(doomed) > allowed && !opts.Force {
		return rep, fmt.Errorf("%w: would delete %d of %d environments, more than %d (max fraction %.2f); nothing was deleted; re-run with --force if this is right",
			ErrGuard, len(doomed), rep.Total, allowed, opts.MaxFraction)
	}
	if opts.DryRun {
		fmt.Fprintf(progress, "gc: dry run: would delete %d of %d environments\n", len(doomed), rep.Total)
		return rep, rep.err()
	}
	if opts.Deleter == nil {
		return rep, errors.New("gc: no deleter configured")
	}
	for i, d := range doomed {
		if err := ctx.Err(); err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("stopped before deleting %d environments: %w", len(doomed)-i, err))
			break
		}
		fmt.Fprintf(progress, "gc: [%d/%d] deleting %s\n", i+1, len(doomed), opts.Deleter.Where(d.Env))
		if err := opts.Deleter.Delete(ctx, d.Env, d.Reason); err != nil {
			err = fmt.Errorf("deleting %s: %w", d.Env.ID, err)
			fmt.Fprintf(progress, "gc: %v (kept)\n", err)
			rep.Errors = append(rep.Errors, err)
			continue
		}
		rep.Deleted = append(rep.Deleted, d.Env)
	}
	return rep, rep.err()
}

// err summarises the pass's errors: unreadable files, failed lookups and
// failed deletions all make the pass fail (after doing what was safe).
func (r Report) err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	// One line: each error already has its own progress line above.
	return fmt.Errorf("gc finished with %d errors (listed above); first: %w", len(r.Errors), r.Errors[0])
}
