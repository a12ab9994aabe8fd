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
	// MinNameLen and MaxNameLen bound an on-demand environment's name.
	MinNameLen = 3
	MaxNameLen = 40
	// MaxTTL caps --ttl. Every render renews the TTL, so a live PR never
	// needs more; a longer one would keep a forgotten environment (and its
	// bill) beyond the reach of gc's expiry.
	MaxTTL = 90 * 24 * time.Hour
)

var (
	serviceRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	repoRE    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	shaRE     = regexp.MustCompile(`^[0-9a-f]{40}$`)
	idRE      = regexp.MustCompile(`^[0-9a-f]{8}$`)
	prRE      = regexp.MustCompile(`^[1-9][0-9]*$|^0$`)
	// shortcodeRE is an Enterprise Managed Users shortcode.
	shortcodeRE = regexp.MustCompile(`^[A-Za-z0-9]{3,8}$`)
)

var (
	// onDemandIDRE is OnDemandID's form: never a PR ID (idRE), whose first
	// character is a hex digit.
	onDemandIDRE = regexp.MustCompile(`^o[0-9a-f]{7}$`)
	nameRE       = regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)
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

// ValidateName checks an on-demand environment's name: 3 to 40 lowercase
// ASCII letters, digits and hyphens, starting with a letter and not ending
// with a hyphen. It is part of a file name and of the stack's labels, so it
// is a DNS-label-like word: no path separators, dots, quotes or template
// introducers can pass.
func ValidateName(s string) error {
	bad := func(reason string) error { return &FieldError{"name", s, reason} }
	switch {
	case s == "":
		return bad("must not be empty")
	case len(s) > MaxNameLen:
		return bad(fmt.Sprintf("longer than %d characters", MaxNameLen))
	case strings.ToLower(s) != s:
		return bad("must be lowercase")
	case len(s) < MinNameLen:
		return bad(fmt.Sprintf("shorter than %d characters", MinNameLen))
	case !nameRE.MatchString(s):
		return bad("must be lowercase ASCII letters, digits and hyphens, starting with a letter and not ending with a hyphen")
	}
	return nil
}

// ValidateOwner checks a GitHub account name as GitHub forms them: runs of
// ASCII letters and digits joined by single hyphens, at most 39 characters.
// A managed user of an Enterprise Managed Users enterprise is named
// HANDLE_SHORTCODE (mona-cat_octo): GitHub appends an underscore and the
// enterprise's shortcode, 3 to 8 letters and digits, within the same 39.
// Such a user can own the repository a PR targets, so refusing the
// underscore would refuse real PRs.
func ValidateOwner(s string) error {
	bad := func(reason string) error { return &FieldError{"owner", s, reason} }
	switch {
	case s == "":
		return bad("must not be empty")
	case len(s) > MaxOwnerLen:
		return bad(fmt.Sprintf("longer than %d characters", MaxOwnerLen))
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (r == '-' || r == '_' || isAlnum(byte(r)))) {
			return bad("may contain only ASCII letters, digits and hyphens")
		}
	}
	handle, shortcode, managed := strings.Cut(s, "_")
	switch {
	case managed && strings.Contains(shortcode, "_"):
		return bad("may contain at most one '_' (before a managed user's enterprise shortcode)")
	case managed && handle == "":
		return bad("must not begin with '_'")
	case managed && !shortcodeRE.MatchString(shortcode):
		return bad("a managed user's enterprise shortcode after '_' must be 3 to 8 ASCII letters and digits")
	case strings.HasPrefix(handle, "-") || strings.HasSuffix(handle, "-"):
		return bad("must not begin or end with a hyphen")
	case strings.Contains(handle, "--"):
		return bad("must not contain consecutive hyphens")
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ValidateRepo checks a GitHub repository name: ASCII letters, digits, '.',
// '_' and '-', at most 100 characters, not "." or "..", and not ending in
// ".git" or ".wiki": GitHub strips a ".git" suffix when it creates a
// repository and keeps ".wiki" for wikis, so no repository has either name
// and a PR naming one is forged or mistyped. URLs ignore case, so the
// suffixes do too.
func ValidateRepo(s string) error {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return &FieldError{"repo", s, "must not be empty"}
	case len(s) > MaxRepoLen:
		return &FieldError{"repo", s, fmt.Sprintf("longer than %d characters", MaxRepoLen)}
	case s == "." || s == "..":
		return &FieldError{"repo", s, `must not be "." or ".."`}
	case !repoRE.MatchString(s):
		return &FieldError{"repo", s, "may contain only ASCII letters, digits, '.', '_' and '-'"}
	case strings.HasSuffix(lower, ".git"):
		return &FieldError{"repo", s, `must not end in ".git" (GitHub drops that suffix from repository names)`}
	case strings.HasSuffix(lower, ".wiki"):
		return &FieldError{"repo", s, `must not end in ".wiki" (GitHub reserves it for wikis)`}
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

// ParsePR reads a pull request number as people write it: decimal digits,
// no sign, no leading zero. strconv and flag parsing also take "+5", "010"
// (octal 8 for base-0 parsers), "0x10" and "1_0", each of which would
// silently name another PR's environment.
func ParsePR(s string) (int, error) {
	if !prRE.MatchString(s) {
		return 0, &FieldError{"pr", s, "must be a decimal integer without sign or leading zeros"}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxPR {
		return 0, &FieldError{"pr", s, fmt.Sprintf("must be at most %d", MaxPR)}
	}
	if err := ValidatePR(n); err != nil {
		return 0, err
	}
	return n, nil
}

// ValidateTTL checks how long an environment may live after a render: whole
// seconds (the file holds whole seconds, so a finer TTL would fail later as
// a bad expires-at) from 1s to MaxTTL.
func ValidateTTL(d time.Duration) error {
	switch {
	case d <= 0:
		return &FieldError{"ttl", d.String(), "must be positive"}
	case d%time.Second != 0:
		return &FieldError{"ttl", d.String(), "must be a whole number of seconds"}
	case d > MaxTTL:
		return &FieldError{"ttl", d.String(), "must be at most " + formatTTL(MaxTTL)}
	}
	return nil
}

// formatTTL writes a TTL as the flag takes it, without Duration.String's
// trailing zero units, and in days too when whole: "2160h (90 days)".
func formatTTL(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if d%(24*time.Hour) == 0 {
		s += fmt.Sprintf(" (%d days)", d/(24*time.Hour))
	}
	return s
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
	switch e.Kind {
	case "", KindPR:
		if e.Name != "" {
			return &FieldError{"name", e.Name, "must be empty for a PR environment"}
		}
	case KindOnDemand:
		return e.validateOnDemandInputs()
	default:
		return &FieldError{"kind", e.Kind, fmt.Sprintf("must be %q or %q", KindPR, KindOnDemand)}
	}
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

func (e Environment) validateOnDemandInputs() error {
	for _, err := range []error{
		ValidateService(e.Service),
		ValidateName(e.Name),
		ValidateCodeVersion(e.CodeVersion),
		ValidateBranch(e.InfraBranch),
	} {
		if err != nil {
			return err
		}
	}
	switch {
	case e.Owner != "":
		return &FieldError{"owner", e.Owner, "must be empty for an on-demand environment"}
	case e.Repo != "":
		return &FieldError{"repo", e.Repo, "must be empty for an on-demand environment"}
	case e.PR != 0:
		return &FieldError{"pr", strconv.Itoa(e.PR), "must be empty for an on-demand environment"}
	}
	return nil
}

// Validate checks every field, and that the ID is the one the PR (or the
// on-demand name) derives and the expiry follows the creation.
func (e Environment) Validate() error {
	if err := e.validateInputs(); err != nil {
		return err
	}
	if e.OnDemand() {
		if !onDemandIDRE.MatchString(e.ID) {
			return &FieldError{"id", e.ID, "must be \"o\" and 7 lowercase hex characters"}
		}
		if want := OnDemandID(e.Name); e.ID != want {
			return &FieldError{"id", e.ID, fmt.Sprintf("does not match on-demand name %s (want %s)", e.Name, want)}
		}
	} else {
		if !idRE.MatchString(e.ID) {
			return &FieldError{"id", e.ID, "must be 8 lowercase hex characters"}
		}
		if want := ID(e.Owner, e.Repo, e.PR); e.ID != want {
			return &FieldError{"id", e.ID, fmt.Sprintf("does not match %s/%s#%d (want %s)", e.Owner, e.Repo, e.PR, want)}
		}
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
