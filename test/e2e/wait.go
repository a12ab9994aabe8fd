package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	http_helper "github.com/gruntwork-io/terratest/modules/http-helper"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/retry"
)

// Budget is how long each phase of the lifecycle may take on a backend.
type Budget struct {
	Deploy         time.Duration // PR opened -> URL serves its head
	Redeploy       time.Duration // push -> URL serves the new head
	Destroy        time.Duration // PR closed -> URL gone, stack and function destroyed
	Poll           time.Duration // between two checks
	CleanupTimeout time.Duration // for t.Cleanup work after a failure
}

// CloudBudget is for the real thing: GitHub Actions, Spacelift, AWS.
var CloudBudget = Budget{
	// The package workflow (~2 min) and the preview workflow run first; then
	// the manager run, then the environment stack's first apply, whose
	// regional custom domain and Route 53 alias take minutes to resolve.
	// Queued Spacelift runs on a shared public worker pool add more.
	Deploy: 30 * time.Minute,
	// Same chain as Deploy, but only the function's code changes.
	Redeploy: 20 * time.Minute,
	// Manager run, then the destructor's destroy run, then stack deletion
	// (the provider's own destructor timeout is 2 h; a healthy one takes
	// well under 10 min, so 20 leaves room for a queued worker).
	Destroy: 20 * time.Minute,
	// Runs move in minutes; 15 s keeps the GitHub and Spacelift calls of a
	// whole run in the low hundreds, far below their rate limits.
	Poll: 15 * time.Second,
	// Closing a PR and deleting a branch are two API calls each.
	CleanupTimeout: 2 * time.Minute,
}

// SandboxBudget is for the embedded sandbox on loopback: a deploy is a local
// build, zip and emulator start (seconds), a poll is a loopback request.
var SandboxBudget = Budget{
	Deploy:         2 * time.Minute, // first go build of bootstrap on a cold cache
	Redeploy:       time.Minute,     // cached build
	Destroy:        30 * time.Second,
	Poll:           250 * time.Millisecond,
	CleanupTimeout: 30 * time.Second,
}

// requestTimeoutSeconds bounds one GET: a warm API Gateway + Lambda answers
// in well under a second and a cold one in ~1 s, so 10 s only cuts off a
// connection that hangs (terratest takes whole seconds).
const requestTimeoutSeconds = 10

// Response is the last thing an endpoint answered, for failure output.
type Response struct {
	Status int
	Body   string
	Err    string
	At     time.Time
}

// String shows the response the way a person debugging wants it: status
// and the start of the body, or the transport error.
func (r Response) String() string {
	switch {
	case r.At.IsZero():
		return "(none)"
	case r.Err != "":
		return fmt.Sprintf("%s: error: %s", r.At.UTC().Format(time.RFC3339), r.Err)
	}
	body := r.Body
	const max = 300
	if len(body) > max {
		body = body[:max] + "..."
	}
	return fmt.Sprintf("%s: %d %s: %q", r.At.UTC().Format(time.RFC3339), r.Status, http.StatusText(r.Status), body)
}

// lastResponse is written by the validation callback and read on failure.
type lastResponse struct {
	mu sync.Mutex
	r  Response
}

func (l *lastResponse) set(r Response) { l.mu.Lock(); l.r = r; l.mu.Unlock() }
func (l *lastResponse) get() Response  { l.mu.Lock(); defer l.mu.Unlock(); return l.r }

// ServesVersion reports whether a response is the service answering for
// version sha: 200 with the body "<sha>: Hello world" (the service's
// text/plain answer; terratest trims the body).
func ServesVersion(status int, body, sha string) bool {
	return status == http.StatusOK && sha != "" && strings.HasPrefix(body, sha+": ")
}

// NotServed reports whether a response means no environment is there: the
// name no longer resolves or nobody listens (err), or the front door says the
// route or domain is unknown (API Gateway answers 403 for an unmapped custom
// domain, the sandbox gateway 404). A 5xx is a backend mid-change, not gone.
func NotServed(status int, err error) bool {
	if err != nil {
		return true
	}
	switch status {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusMisdirectedRequest:
		return true
	}
	return false
}

// attempts turns a budget into terratest's retry count.
func attempts(budget, poll time.Duration) int {
	if poll <= 0 {
		return 1
	}
	n := int(budget / poll)
	if n < 1 {
		n = 1
	}
	return n
}

func options(ep Endpoint) http_helper.HttpDoOptions {
	o := http_helper.HttpDoOptions{Method: http.MethodGet, Url: ep.URL, Timeout: requestTimeoutSeconds}
	if ep.Host != "" {
		// terratest's request builder moves a "Host" header to req.Host.
		o.Headers = map[string]string{"Host": ep.Host}
	}
	return o
}

// ctxStop makes terratest's retry loop, which knows no context, stop when
// ctx ends.
func ctxStop(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return retry.FatalError{Underlying: err}
	}
	return nil
}

// WaitServes polls ep until it serves version sha, for at most budget. It
// returns the last response it saw, for failure output.
func WaitServes(ctx context.Context, t testing.TB, ep Endpoint, sha string, budget, poll time.Duration) (Response, error) {
	var last lastResponse
	desc := fmt.Sprintf("GET %s serves %s", ep.URL, short(sha))
	_, err := retry.DoWithRetryE(t, desc, attempts(budget, poll), poll, func() (string, error) {
		if err := ctxStop(ctx); err != nil {
			return "", err
		}
		err := http_helper.HTTPDoWithCustomValidationWithOptionsE(t, options(ep), func(status int, body string) bool {
			last.set(Response{Status: status, Body: body, At: time.Now()})
			return ServesVersion(status, body, sha)
		})
		var vf http_helper.ValidationFunctionFailed
		if err != nil && !errors.As(err, &vf) {
			last.set(Response{Err: err.Error(), At: time.Now()})
		}
		return "", err
	})
	if err != nil {
		return last.get(), fmt.Errorf("%s within %s: %w", desc, budget, err)
	}
	return last.get(), nil
}

// WaitNotServed polls ep until it is no longer served (see NotServed).
func WaitNotServed(ctx context.Context, t testing.TB, ep Endpoint, budget, poll time.Duration) (Response, error) {
	var last lastResponse
	desc := fmt.Sprintf("GET %s is no longer served", ep.URL)
	_, err := retry.DoWithRetryE(t, desc, attempts(budget, poll), poll, func() (string, error) {
		if err := ctxStop(ctx); err != nil {
			return "", err
		}
		status, body, err := http_helper.HTTPDoWithOptionsE(t, options(ep))
		r := Response{Status: status, Body: body, At: time.Now()}
		if err != nil {
			r = Response{Err: err.Error(), At: r.At}
		}
		last.set(r)
		if NotServed(status, err) {
			return "", nil
		}
		return "", fmt.Errorf("still served: %d", status)
	})
	if err != nil {
		return last.get(), fmt.Errorf("%s within %s: %w", desc, budget, err)
	}
	return last.get(), nil
}

// WaitUntil polls check until it returns nil, for at most budget; the error
// names the last reason check gave.
func WaitUntil(ctx context.Context, t testing.TB, desc string, budget, poll time.Duration, check func() error) error {
	var lastErr error
	_, err := retry.DoWithRetryE(t, desc, attempts(budget, poll), poll, func() (string, error) {
		if err := ctxStop(ctx); err != nil {
			return "", err
		}
		lastErr = check()
		return "", lastErr
	})
	if err != nil {
		if lastErr != nil && !errors.Is(err, lastErr) {
			return fmt.Errorf("%s within %s: %w (last: %v)", desc, budget, err, lastErr)
		}
		return fmt.Errorf("%s within %s: %w", desc, budget, err)
	}
	return nil
}

// UniqueID is terratest's per-run ID (6 base-62 characters), so parallel
// runs never pick the same branch, marker or state file.
func UniqueID() string { return random.UniqueId() }

// EnvironmentIDFor derives a DNS-safe 8-hex environment ID from a run ID,
// for suites that make their own environment (infra) rather than get one
// from a PR.
func EnvironmentIDFor(runID string) string {
	sum := sha256.Sum256([]byte("e2e/" + runID))
	return hex.EncodeToString(sum[:])[:8]
}
