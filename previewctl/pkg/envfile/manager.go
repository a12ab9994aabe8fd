package envfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoTemplate means manager/<service>/template does not exist.
var ErrNoTemplate = errors.New("no template")

// Prepare checks e against a manager directory before it is written: the
// template's variables must fit, no other PR may hold e's ID, and when the
// PR already has an environment its created-at is kept (a render renews the
// TTL, it does not reset the age). It returns e as it should be rendered.
func Prepare(managerDir string, e Environment) (Environment, error) {
	tdir := TemplateDir(managerDir, e.Service)
	if st, err := os.Stat(tdir); err != nil || !st.IsDir() {
		return e, fmt.Errorf("%w at %s", ErrNoTemplate, tdir)
	}
	vars, err := ReadTemplateVariables(tdir)
	if err != nil {
		return e, err
	}
	if err := CheckAgainstTemplate(e, vars); err != nil {
		return e, err
	}
	edir := EnvironmentsDir(managerDir, e.Service)
	existing, errs := ReadDir(edir)
	for _, err := range errs {
		if errors.Is(err, fs.ErrNotExist) {
			continue // no environments yet
		}
		// A broken file that claims this ID could hide a collision.
		var pe *ParseError
		if errors.As(err, &pe) && strings.HasSuffix(filepath.Base(pe.File), "-"+e.ID+".tf") && filepath.Base(pe.File) != FileName(e) {
			return e, fmt.Errorf("%w: %s holds ID %s but cannot be read: %v", ErrCollision, pe.File, e.ID, err)
		}
	}
	if err := CheckCollision(e, existing); err != nil {
		return e, err
	}
	for _, o := range existing {
		if o.Key() == e.Key() && o.CreatedAt.Before(e.CreatedAt) {
			e.CreatedAt = o.CreatedAt
		}
	}
	return e, e.Validate()
}
