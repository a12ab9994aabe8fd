package envfile

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldError is a refusal of one field: it names the field (as the CLI flag
// spells it) and why, on one line whatever the value holds.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s %s: %s", e.Field, quoteShort(e.Value), e.Reason)
}

// quoteShort quotes a value for an error message: one line, ASCII (strconv.QuoteToASCII
// escapes newlines and control characters) and bounded in length.
func quoteShort(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return strconv.QuoteToASCII(s)
	}
	r := []rune(s)
	return strconv.QuoteToASCII(string(r[:max])) + fmt.Sprintf("...(%d bytes)", len(s))
}

// Limits on what we accept; GitHub's own limits where it has them.
const (
	MaxOwnerLen   = 39
	MaxRepoLen    = 100
	MaxServiceLen = 63
	MaxBranchLen  = 255
	MaxPR         = math.MaxInt32
)

var (
	serviceRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	repoRE    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	shaRE     = regexp.MustCompile(`^[0-9a-f]{40}$`)
	idRE      = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

// ValidateService checks a service name: a DNS label, because it becomes
// part of the environment's host name and a directory name.
func ValidateService(s string) error {
	switch {
	case s == "":
		return &FieldError{"service", s, "must not be empty"}
	case len(s) > MaxServiceLen:
		return &FieldError{"service", s, fmt.Sprintf("longer than %d characters", MaxServiceLen)}
	case !serviceRE.MatchString(s):
		return &FieldError{"service", s, "must be a DNS label: lowercase letters, digits and inner hyphens"}
	}
	return nil
}

// ValidateOwner checks a GitHub user or organisation name: alphanumerics
// and single hyphens, not at either end, at most 39 characters.
func ValidateOwner(s string) error {
	switch {
	case s == "":
		return &FieldError{"owner", s, "must not be empty"}
	case len(s) > MaxOwnerLen:
		return &FieldError{"owner", s, fmt.Sprintf("longer than %d characters", MaxOwnerLen)}
	case strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-"):
		return &FieldError{"owner", s, "must not begin or end with a hyphen"}
	case strings.Contains(s, "--"):
		return &FieldError{"owner", s, "must not contain consecutive hyphens"}
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')) {
			return &FieldError{"owner", s, "may contain only ASCII letters, digits and hyphens"}
		}
	}
	return nil
}

// ValidateRepo checks a GitHub repository name: ASCII letters, digits, '.',
// '_' and '-', at most 100 characters, and not "." or "..".
func ValidateRepo(s string) error {
	switch {
	case s == "":
		return &FieldError{"repo", s, "must not be empty"}
	case len(s) > MaxRepoLen:
		return &FieldError{"repo", s, fmt.Sprintf("longer than %d characters", MaxRepoLen)}
	case s == "." || s == "..":
		return &FieldError{"repo", s, `must not be "." or ".."`}
	case !repoRE.MatchString(s):
		return &FieldError{"repo", s, "may contain only ASCII letters, digits, '.', '_' and '-'"}
	}
	return nil
}

// ValidatePR checks a pull request number.
func ValidatePR(n int) error {
	if n <= 0 || n > MaxPR {
		return &FieldError{"pr", strconv.Itoa(n), "must be a positive pull request number"}
	}
	return nil
}

// ValidateCodeVersion checks a code version: a full lowercase 40-hex commit
// sha, or "latest".
func ValidateCodeVersion(s string) error {
	if s == "latest" || shaRE.MatchString(s) {
		return nil
	}
	return &FieldError{"code-version", s, `must be a 40-character lowercase hex commit sha or "latest"`}
}

// ValidateBranch checks an infra branch name by git check-ref-format's rules
// for a branch (refs/heads/<name>, as `git check-ref-format --branch` does),
// a length cap, ASCII only (no look-alikes), and, as defence in depth on top of
// the escaping Render does, refuses the HCL template introducers "${" and
// "%{" and double quotes, which no honest branch needs.
func ValidateBranch(s string) error {
	bad := func(reason string) error { return &FieldError{"infra-branch", s, reason} }
	switch {
	case s == "":
		return bad("must not be empty")
	case len(s) > MaxBranchLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxBranchLen))
	case !utf8.ValidString(s):
		return bad("is not valid UTF-8")
	case strings.HasPrefix(s, "-"):
		return bad("must not begin with '-'")
	case s == "@":
		return bad(`must not be "@"`)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return bad("must not begin or end with '/'")
	case strings.Contains(s, "//"):
		return bad(`must not contain "//"`)
	case strings.Contains(s, ".."):
		return bad(`must not contain ".."`)
	case strings.Contains(s, "@{"):
		return bad(`must not contain "@{"`)
	case strings.HasSuffix(s, "."):
		return bad("must not end with '.'")
	case strings.Contains(s, "${"):
		return bad(`must not contain "${" (template interpolation)`)
	case strings.Contains(s, "%{"):
		return bad(`must not contain "%{" (template directive)`)
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			return bad("must not contain control characters")
		case r == ' ':
			return bad("must not contain spaces")
		case strings.ContainsRune(`~^:?*[\`, r):
			return bad(fmt.Sprintf("must not contain %q", r))
		case r == '"':
			return bad("must not contain double quotes")
		case r >= utf8.RuneSelf:
			// Git allows any UTF-8, but a look-alike ("mаin" with a Cyrillic
			// a) would make a stack track a different branch than it shows.
			return bad(fmt.Sprintf("must be ASCII, found %U", r))
		}
	}
	for _, c := range strings.Split(s, "/") {
		if strings.HasPrefix(c, ".") {
			return bad("no path component may begin with '.'")
		}
		if strings.HasSuffix(c, ".lock") {
			return bad(`no path component may end with ".lock"`)
		}
	}
	return nil
}

func validateTime(field string, t time.Time) error {
	switch {
	case t.IsZero():
		return &FieldError{field, "", "must be set"}
	case t.Location() != time.UTC:
		return &FieldError{field, t.String(), "must be in UTC"}
	case !t.Equal(t.Truncate(time.Second)):
		return &FieldError{field, t.Format(time.RFC3339Nano), "must be whole seconds"}
	case t.Year() < 2000 || t.Year() > 9999:
		return &FieldError{field, t.Format(time.RFC3339), "is out of range"}
	}
	return nil
}

// validateInputs checks the fields that come from outside, in the order the
// CLI takes them, so the first refusal names the first bad flag.
func (e Environment) validateInputs() error {
	for _, err := range []error{
		ValidateService(e.Service),
		ValidateOwner(e.Owner),
		ValidateRepo(e.Repo),
		ValidatePR(e.PR),
		ValidateCodeVersion(e.CodeVersion),
		ValidateBranch(e.InfraBranch),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks every field, and that the ID is the one the PR derives
// and the expiry follows the creation.
func (e Environment) Validate() error {
	if err := e.validateInputs(); err != nil {
		return err
	}
	if !idRE.MatchString(e.ID) {
		return &FieldError{"id", e.ID, "must be 8 lowercase hex characters"}
	}
	if want := ID(e.Owner, e.Repo, e.PR); e.ID != want {
		return &FieldError{"id", e.ID, fmt.Sprintf("does not match %s/%s#%d (want %s)", e.Owner, e.Repo, e.PR, want)}
	}
	if err := validateTime("created-at", e.CreatedAt); err != nil {
		return err
	}
	if err := validateTime("expires-at", e.ExpiresAt); err != nil {
		return err
	}
	if !e.ExpiresAt.After(e.CreatedAt) {
		return &FieldError{"expires-at", e.ExpiresAt.Format(time.RFC3339), "must be after created-at " + e.CreatedAt.Format(time.RFC3339)}
	}
	return nil
}
