// Package updatefile creates, updates or deletes one file in a GitHub
// repository through the contents API, safely when many writers race on the
// same branch: each attempt is one API call that lands or does not, and
// conflicts are re-read and retried with jittered exponential backoff.
package updatefile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// Operation is what Apply did.
type Operation string

const (
	Created   Operation = "created"
	Updated   Operation = "updated"
	Unchanged Operation = "unchanged" // identical content: no commit
	Deleted   Operation = "deleted"
	Absent    Operation = "absent" // delete asked, file already gone: no commit
)

// DefaultMaxAttempts is used when Request.MaxAttempts is 0.
const DefaultMaxAttempts = 8

var (
	// ErrInvalidRequest: the Request itself is wrong; nothing was called.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrBadCredentials: GitHub answered 401, the token is wrong or expired.
	ErrBadCredentials = errors.New("bad credentials (401): the token is invalid or expired")
	// ErrForbidden: GitHub answered 403 without a rate limit: the token may
	// not write to this repository.
	ErrForbidden = errors.New("no permission (403): the token may not write contents to this repository")
	// ErrNotFound is wrapped by ErrRepoNotFound and ErrBranchNotFound.
	ErrNotFound = errors.New("not found (404)")
	// ErrRepoNotFound: no such repository, or the token cannot see it.
	ErrRepoNotFound = fmt.Errorf("no such repository, or the token cannot see it: %w", ErrNotFound)
	// ErrBranchNotFound: the repository exists, the branch does not.
	ErrBranchNotFound = fmt.Errorf("no such branch: %w", ErrNotFound)
	// ErrRateLimited: GitHub asked to wait longer than Backoff.MaxWait.
	ErrRateLimited = errors.New("rate limited")
	// ErrAttemptsExhausted: every attempt hit a conflict, rate limit or
	// server error; the last one is wrapped too.
	ErrAttemptsExhausted = errors.New("gave up after max attempts")
)

// Signature names a commit's author or committer.
type Signature struct {
	Name  string
	Email string
}

// Backoff configures the waits between attempts. Zero values take defaults.
type Backoff struct {
	// Base is the first delay; it doubles per attempt up to Max.
	Base time.Duration
	Max  time.Duration
	// MaxWait caps a wait the server asks for (Retry-After, rate-limit
	// reset); asked for more, Apply fails with ErrRateLimited instead of
	// holding a CI job for up to an hour. Default 5 minutes.
	MaxWait time.Duration
	// Sleep waits d or until ctx is done; tests inject a fast one.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for x-ratelimit-reset.
	Now func() time.Time
	// Rand returns a number in [0,1) for jitter.
	Rand func() float64
	// OnRetry, if set, is told about every retry before its wait.
	OnRetry func(attempt int, wait time.Duration, cause error)
}

// Request describes one file change. Content nil with Delete false writes an
// empty file.
type Request struct {
	Owner   string
	Repo    string
	Path    string
	Branch  string // empty: the repository's default branch
	Message string
	Content []byte
	Delete  bool
	// MaxAttempts bounds the attempts (each a read plus at most one write);
	// 0 means DefaultMaxAttempts.
	MaxAttempts int
	Committer   *Signature // nil: GitHub uses the token's user
	Author      *Signature // nil: the committer
	Backoff     Backoff
}

// Result is what Apply did. CommitSHA is empty when no commit was made
// (unchanged, absent); FileSHA is the blob sha of the file as it now is
// (empty after deleted/absent).
type Result struct {
	Operation Operation
	Branch    string
	CommitSHA string
	FileSHA   string
	// Attempts is how many attempts it took (1 = no retry).
	Attempts int
}

var (
	// ownerRE is GitHub's account names: letters and digits joined by
	// single hyphens; a managed user of an Enterprise Managed Users
	// enterprise adds "_" and the enterprise's 3 to 8 character shortcode
	// (mona-cat_octo). Both fit in 39 characters (ValidateOwner).
	ownerRE = regexp.MustCompile(`^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:_[A-Za-z0-9]{3,8})?$`)
	repoRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ValidateOwner accepts a GitHub user or organization name, including an
// enterprise managed user's HANDLE_SHORTCODE.
func ValidateOwner(owner string) error {
	if len(owner) > 39 || !ownerRE.MatchString(owner) {
		return invalid("owner %q is not a GitHub user or organization name", owner)
	}
	return nil
}

// ValidateRepo accepts a GitHub repository name. GitHub drops a ".git"
// suffix when it creates a repository and keeps ".wiki" for wikis, so a
// name with either (in any case, as URLs ignore it) names no repository:
// most often a clone URL's "manager.git" pasted as the name.
func ValidateRepo(repo string) error {
	lower := strings.ToLower(repo)
	switch {
	case !repoRE.MatchString(repo) || repo == "." || repo == "..":
		return invalid("repository %q is not a GitHub repository name", repo)
	case strings.HasSuffix(lower, ".git"), strings.HasSuffix(lower, ".wiki"):
		return invalid("repository %q is not a GitHub repository name: it ends in %q", repo, repo[strings.LastIndex(repo, "."):])
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// Validate checks the request before any API call. Names and paths end up in
// URLs, and go-github does not escape the path of writes, so anything that
// could change the URL's meaning ('?', '#', '%', "..") is refused here.
func (r Request) Validate() error {
	if err := ValidateOwner(r.Owner); err != nil {
		return err
	}
	if err := ValidateRepo(r.Repo); err != nil {
		return err
	}
	if err := ValidatePath(r.Path); err != nil {
		return err
	}
	if r.Branch != "" {
		if err := validateBranch(r.Branch); err != nil {
			return err
		}
	}
	if strings.TrimSpace(r.Message) == "" {
		return invalid("commit message is empty")
	}
	if r.MaxAttempts < 0 {
		return invalid("max attempts %d is negative", r.MaxAttempts)
	}
	return nil
}

// ValidatePath accepts a relative, slash-separated file path with no empty,
// "." or ".." segments, no ".git" segment in any case (git refuses those in
// trees, and case-insensitive file systems would take ".GIT" for the
// repository's own directory) and no characters that would alter a URL.
func ValidatePath(p string) error {
	if p == "" {
		return invalid("target file path is empty")
	}
	if len(p) > 4096 {
		return invalid("target file path is longer than 4096 bytes")
	}
	if strings.HasPrefix(p, "/") {
		return invalid("target file path %q is absolute", p)
	}
	for _, c := range p {
		if unicode.IsControl(c) || strings.ContainsRune(`?#%\`, c) {
			return invalid("target file path %q contains %q", p, c)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return invalid("target file path %q has an empty segment", p)
		case ".", "..":
			return invalid("target file path %q has a %q segment", p, seg)
		}
		if strings.EqualFold(seg, ".git") {
			return invalid("target file path %q has a %q segment", p, seg)
		}
	}
	return nil
}

// validateBranch applies git's ref-name rules (git check-ref-format) that
// matter here.
func validateBranch(b string) error {
	bad := func(why string) error { return invalid("branch %q %s", b, why) }
	switch {
	case len(b) > 255:
		return bad("is longer than 255 bytes")
	case strings.HasPrefix(b, "-"), strings.HasPrefix(b, "/"), strings.HasSuffix(b, "/"),
		strings.HasSuffix(b, "."), strings.HasSuffix(b, ".lock"):
		return bad("is not a valid git branch name")
	case strings.Contains(b, ".."), strings.Contains(b, "//"), strings.Contains(b, "@{"), b == "@":
		return bad("is not a valid git branch name")
	}
	for _, c := range b {
		if unicode.IsControl(c) || unicode.IsSpace(c) || strings.ContainsRune(`~^:?*[\`, c) {
			return bad(fmt.Sprintf("contains %q", c))
		}
	}
	for _, seg := range strings.Split(b, "/") {
		if strings.HasPrefix(seg, ".") {
			return bad("has a segment starting with '.'")
		}
	}
	return nil
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 250 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 16 * time.Second
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	if b.MaxWait <= 0 {
		b.MaxWait = 5 * time.Minute
	}
	if b.Sleep == nil {
		b.Sleep = sleep
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// delay is the wait after failed attempt n (1-based): "full jitter", a
// uniform pick in [0, min(Max, Base*2^(n-1))]. Racing writers that all failed
// together then spread over the whole window instead of colliding again.
func (b Backoff) delay(n int) time.Duration {
	d := b.Max
	if n < 31 {
		if e := b.Base << (n - 1); e > 0 && e < b.Max {
			d = e
		}
	}
	return time.Duration(b.Rand() * float64(d))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
