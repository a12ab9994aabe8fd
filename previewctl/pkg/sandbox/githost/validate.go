package githost

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"preview-environments/previewctl/pkg/envfile"
)

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// validateRepo reuses envfile's GitHub name rules, which are what the
// environment files accept too.
func validateRepo(owner, repo string) error {
	if err := envfile.ValidateOwner(owner); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := envfile.ValidateRepo(repo); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidateBranch applies git check-ref-format's branch rules (through
// envfile.ValidateBranch, which also refuses quotes and template
// introducers no honest branch needs), naming the field "branch".
func ValidateBranch(b string) error {
	if err := envfile.ValidateBranch(b); err != nil {
		var fe *envfile.FieldError
		if errors.As(err, &fe) {
			c := *fe
			c.Field = "branch"
			return fmt.Errorf("%w: %w", ErrInvalid, &c)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidatePath accepts a relative, slash-separated file path inside a
// repository: no empty, "." or ".." segments, no ".git" segment (git refuses
// it in trees), no control characters, valid UTF-8.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return invalidf("path is empty")
	case len(p) > 4096:
		return invalidf("path %.40q... is longer than 4096 bytes", p)
	case !utf8.ValidString(p):
		return invalidf("path %q is not valid UTF-8", p)
	case strings.HasPrefix(p, "/"):
		return invalidf("path %q is absolute", p)
	}
	for _, c := range p {
		if unicode.IsControl(c) || c == '\\' {
			return invalidf("path %q contains %q", p, c)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return invalidf("path %q has an empty segment", p)
		case seg == "." || seg == "..":
			return invalidf("path %q has a %q segment", p, seg)
		case strings.EqualFold(seg, ".git"):
			return invalidf("path %q has a .git segment", p)
		}
	}
	return nil
}

// validateSubdir is ValidatePath that also accepts "" and "." (the whole
// tree) and a trailing slash.
func validateSubdir(s string) (string, error) {
	s = strings.TrimSuffix(s, "/")
	if s == "" || s == "." {
		return "", nil
	}
	if err := ValidatePath(s); err != nil {
		return "", err
	}
	return s, nil
}

// validateRef accepts a branch name or a full 40-hex commit sha.
func validateRef(ref string) error {
	if shaRE.MatchString(ref) {
		return nil
	}
	if err := ValidateBranch(ref); err != nil {
		return fmt.Errorf("ref %q is neither a 40-hex commit sha nor a branch: %w", ref, err)
	}
	return nil
}
