package updatefile

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Apply makes the file at Request.Path hold Request.Content (or not exist,
// with Delete), on the branch, with at most one commit. It re-reads and
// retries on 409/422 sha conflicts, 5xx, network errors and rate limits, and
// fails at once on 401, 403 and 404 with ErrBadCredentials, ErrForbidden,
// ErrRepoNotFound or ErrBranchNotFound.
func Apply(ctx context.Context, client *github.Client, req Request) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	if client == nil {
		return Result{}, invalid("no GitHub client")
	}
	a := &applier{c: client, r: req, b: req.Backoff.withDefaults(), branch: req.Branch}
	max := req.MaxAttempts
	if max == 0 {
		max = DefaultMaxAttempts
	}
	for attempt := 1; ; attempt++ {
		res, err := a.attempt(ctx)
		if err == nil {
			res.Attempts, res.Branch = attempt, a.branch
			return res, nil
		}
		var rt *retryable
		if !errors.As(err, &rt) {
			return Result{Attempts: attempt}, a.wrap(err)
		}
		if attempt >= max {
			return Result{Attempts: attempt}, a.wrap(fmt.Errorf("%w (%d): %w", ErrAttemptsExhausted, attempt, rt.err))
		}
		wait := rt.wait
		if wait > a.b.MaxWait {
			return Result{Attempts: attempt}, a.wrap(fmt.Errorf("%w: GitHub asks to wait %s, more than the %s allowed: %w",
				ErrRateLimited, wait.Round(time.Second), a.b.MaxWait, rt.err))
		}
		if wait <= 0 {
			wait = a.b.delay(attempt)
		}
		if a.b.OnRetry != nil {
			a.b.OnRetry(attempt, wait, rt.err)
		}
		if err := a.b.Sleep(ctx, wait); err != nil {
			return Result{Attempts: attempt}, a.wrap(fmt.Errorf("waiting to retry after %w: %w", rt.err, err))
		}
	}
}

type applier struct {
	c              *github.Client
	r              Request
	b              Backoff
	branch         string
	branchVerified bool
}

func (a *applier) wrap(err error) error {
	branch := a.branch
	if branch == "" {
		branch = "(default branch)"
	}
	verb := "write"
	if a.r.Delete {
		verb = "delete"
	}
	return fmt.Errorf("%s %s in %s/%s on %s: %w", verb, a.r.Path, a.r.Owner, a.r.Repo, branch, err)
}

// retryable marks a failure worth another attempt; wait > 0 is the server's
// own instruction (Retry-After, rate-limit reset).
type retryable struct {
	err  error
	wait time.Duration
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// attempt is one read and at most one write.
func (a *applier) attempt(ctx context.Context) (Result, error) {
	if a.branch == "" {
		repo, resp, err := a.c.Repositories.Get(ctx, a.r.Owner, a.r.Repo)
		if err != nil {
			return Result{}, a.classify(ctx, "read repository", resp, err, ErrRepoNotFound)
		}
		a.branch = repo.GetDefaultBranch()
		if a.branch == "" {
			return Result{}, fmt.Errorf("repository %s/%s reports no default branch: %w", a.r.Owner, a.r.Repo, ErrBranchNotFound)
		}
	}
	cur, dir, resp, err := a.c.Repositories.GetContents(ctx, a.r.Owner, a.r.Repo, a.r.Path,
		&github.RepositoryContentGetOptions{Ref: a.branch})
	exists := true
	if err != nil {
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return Result{}, a.classify(ctx, "read file", resp, err, nil)
		}
		if err := a.verifyBranch(ctx); err != nil {
			return Result{}, err
		}
		exists = false
	} else if cur == nil || dir != nil || cur.GetType() != "file" {
		return Result{}, invalid("target file path %q is a directory or not a regular file", a.r.Path)
	}

	opts := &github.RepositoryContentFileOptions{
		Message:   github.String(a.r.Message),
		Branch:    github.String(a.branch),
		Committer: commitAuthor(a.r.Committer),
		Author:    commitAuthor(a.r.Author),
	}
	var out *github.RepositoryContentResponse
	var op Operation
	switch {
	case a.r.Delete && !exists:
		return Result{Operation: Absent}, nil
	case a.r.Delete:
		opts.SHA = github.String(cur.GetSHA())
		out, resp, err = a.c.Repositories.DeleteFile(ctx, a.r.Owner, a.r.Repo, a.r.Path, opts)
		op = Deleted
	case exists && cur.GetSHA() == blobSHA(a.r.Content):
		return Result{Operation: Unchanged, FileSHA: cur.GetSHA()}, nil
	default:
		// A nil slice would be sent as "content": null; an empty file is "".
		opts.Content = append([]byte{}, a.r.Content...)
		if exists {
			opts.SHA = github.String(cur.GetSHA())
			out, resp, err = a.c.Repositories.UpdateFile(ctx, a.r.Owner, a.r.Repo, a.r.Path, opts)
			op = Updated
		} else {
			out, resp, err = a.c.Repositories.CreateFile(ctx, a.r.Owner, a.r.Repo, a.r.Path, opts)
			op = Created
		}
	}
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			// The file or branch vanished since the read; the next read says which.
			a.branchVerified = false
			return Result{}, &retryable{err: fmt.Errorf("%s: %w", op, err)}
		}
		return Result{}, a.classify(ctx, string(op), resp, err, nil)
	}
	res := Result{Operation: op, CommitSHA: out.Commit.GetSHA()}
	if op != Deleted {
		res.FileSHA = out.GetContent().GetSHA()
	}
	return res, nil
}

// verifyBranch tells a missing file from a missing branch or repository,
// which the contents API all answers with 404.
func (a *applier) verifyBranch(ctx context.Context) error {
	if a.branchVerified {
		return nil
	}
	_, resp, err := a.c.Repositories.GetBranch(ctx, a.r.Owner, a.r.Repo, a.branch, 3)
	if err == nil {
		a.branchVerified = true
		return nil
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		return a.classify(ctx, "read branch", resp, err, nil)
	}
	_, resp, rerr := a.c.Repositories.Get(ctx, a.r.Owner, a.r.Repo)
	if rerr != nil {
		return a.classify(ctx, "read repository", resp, rerr, ErrRepoNotFound)
	}
	return fmt.Errorf("%w: %w", ErrBranchNotFound, err)
}

// classify turns a go-github failure into a sentinel error or a retryable.
// notFound is what a 404 means for this call (nil: the repository).
func (a *applier) classify(ctx context.Context, what string, resp *github.Response, err error, notFound error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	err = fmt.Errorf("%s: %w", what, err)
	if wait, ok := a.rateLimitWait(resp, err); ok {
		return &retryable{err: err, wait: wait}
	}
	if resp == nil || resp.Response == nil {
		// No HTTP answer (connection reset, timeout): nothing landed.
		return &retryable{err: err}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrBadCredentials, err)
	case code == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	case code == http.StatusNotFound:
		if notFound == nil {
			notFound = ErrRepoNotFound
		}
		return fmt.Errorf("%w: %w", notFound, err)
	case code == http.StatusConflict:
		return &retryable{err: err}
	case code == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(apiMessage(err)), "sha"):
		return &retryable{err: err}
	case code >= 500:
		return &retryable{err: err}
	default:
		return fmt.Errorf("%w: GitHub refused it (%d): %w", ErrInvalidRequest, code, err)
	}
}

// rateLimitWait recognises GitHub's primary and secondary rate limits and
// returns how long the server asked us to wait (0: unknown, use backoff).
func (a *applier) rateLimitWait(resp *github.Response, err error) (time.Duration, bool) {
	var primary *github.RateLimitError
	if errors.As(err, &primary) {
		return a.until(primary.Rate.Reset.Time), true
	}
	var secondary *github.AbuseRateLimitError
	if errors.As(err, &secondary) {
		if secondary.RetryAfter != nil {
			return *secondary.RetryAfter, true
		}
		// GitHub: with no Retry-After, wait at least a minute.
		return time.Minute, true
	}
	if resp == nil || resp.Response == nil {
		return 0, false
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, perr := strconv.Atoi(strings.TrimSpace(v)); perr == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if t, perr := http.ParseTime(v); perr == nil {
			return a.until(t), true
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if secs, perr := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); perr == nil {
			return a.until(time.Unix(secs, 0)), true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return 0, true
	}
	return 0, false
}

func (a *applier) until(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	// The reset is whole seconds; one more second avoids arriving early.
	if d := t.Sub(a.b.Now()) + time.Second; d > 0 {
		return d
	}
	return 0
}

func apiMessage(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		msg := er.Message
		for _, e := range er.Errors {
			msg += " " + e.Message + " " + e.Field
		}
		return msg
	}
	return ""
}

func commitAuthor(s *Signature) *github.CommitAuthor {
	if s == nil {
		return nil
	}
	return &github.CommitAuthor{Name: github.String(s.Name), Email: github.String(s.Email)}
}

// blobSHA is git's blob object id, which is what the contents API calls sha.
func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return fmt.Sprintf("%x", h.Sum(nil))
}
