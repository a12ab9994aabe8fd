package envfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// envFileRE and onDemandFileRE match generated file names (a PR's, an
// on-demand environment's); other .tf files in the environments directory
// (variables.tf and the like) are not environments.
var (
	envFileRE      = regexp.MustCompile(`^[a-z0-9._-]+-[0-9]+-[0-9a-f]{8}\.tf$`)
	onDemandFileRE = regexp.MustCompile(`^ondemand-[a-z][a-z0-9-]{1,38}[a-z0-9]-o[0-9a-f]{7}\.tf$`)
)

// IsEnvFileName reports whether a base name has the form FileName produces.
func IsEnvFileName(name string) bool {
	return envFileRE.MatchString(name) || onDemandFileRE.MatchString(name)
}

// EnvironmentsDir is manager/<service>/environments.
func EnvironmentsDir(managerDir, service string) string {
	return filepath.Join(managerDir, service, "environments")
}

// TemplateDir is manager/<service>/template.
func TemplateDir(managerDir, service string) string {
	return filepath.Join(managerDir, service, "template")
}

// ReadDir parses every environment file in dir, sorted by file name. Files
// that fail to parse are reported (with file:line) and left out; callers
// that act on the listing must treat any error as "listing incomplete".
func ReadDir(dir string) ([]Environment, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("reading environments directory: %w", err)}
	}
	names := make([]string, 0, len(entries))
	for _, ent := range entries {
		if ent.Type().IsRegular() && IsEnvFileName(ent.Name()) {
			names = append(names, ent.Name())
		}
	}
	sort.Strings(names)
	var envs []Environment
	var errs []error
	for _, name := range names {
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", path, err))
			continue
		}
		e, err := Parse(path, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		envs = append(envs, e)
	}
	return envs, errs
}

// ErrCollision is returned when another environment (another PR's, or
// another on-demand name's) already holds an ID.
var ErrCollision = errors.New("environment ID collision")

// CheckCollision refuses e when an environment in existing has the same ID
// but belongs to a different PR or on-demand name. A PR and an on-demand
// environment cannot share an ID (OnDemandIDPrefix), so this only ever
// finds two PRs, or two names, whose hashes agree.
func CheckCollision(e Environment, existing []Environment) error {
	for _, o := range existing {
		if o.ID == e.ID && o.Key() != e.Key() {
			return fmt.Errorf("%w: %s for %s is already used by %s (%s)", ErrCollision, e.ID, e.Key(), o.Key(), FileName(o))
		}
	}
	return nil
}

// WriteAtomic renders e into dir/FileName(e) through a temp file and a
// rename, so a reader (or a crash) never sees half a file.
func WriteAtomic(dir string, e Environment) (string, error) {
	src, err := Render(e)
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, FileName(e))
	tmp, err := os.CreateTemp(dir, ".previewctl-*.tf.tmp")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if _, err := tmp.Write(src); err != nil {
		tmp.Close()
		cleanup()
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		cleanup()
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		cleanup()
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		cleanup()
		return "", fmt.Errorf("writing %s: %w", final, err)
	}
	return final, nil
}

// Remove deletes e's file from dir. A file that is already gone is not an
// error: deleting is idempotent (the original failed the workflow here).
func Remove(dir string, e Environment) error {
	name := FileName(e)
	if strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("refusing to remove %q: not a plain file name", name)
	}
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing environment %s: %w", e.ID, err)
	}
	return nil
}
