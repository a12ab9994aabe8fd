// Package managerdir finds the manager Terraform directory (an explicit
// path, or manager/ under the repository root found by walking up from the
// working directory to a go.work or .git) and reads from it, offline, the
// Spacelift stacks each environment's template creates (OpenManager,
// Manager.Template, Template.Stacks).
package managerdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNoRoot means no go.work or .git was found above the start directory.
var ErrNoRoot = errors.New("no repository root (go.work or .git) above the working directory; pass --manager-dir")

// Resolve returns flagValue when set, else <root>/manager for the root
// found from start. explicit reports whether the user named the directory.
func Resolve(flagValue, start string) (dir string, explicit bool, err error) {
	if flagValue != "" {
		abs, err := filepath.Abs(flagValue)
		if err != nil {
			return "", true, fmt.Errorf("manager dir %q: %w", flagValue, err)
		}
		return abs, true, nil
	}
	root, err := FindRoot(start)
	if err != nil {
		return "", false, err
	}
	return filepath.Join(root, "manager"), false, nil
}

// FindRoot walks up from start to the first directory holding go.work or .git.
func FindRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("finding repository root: %w", err)
	}
	for {
		for _, marker := range []string{"go.work", ".git"} {
			if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoRoot
		}
		dir = parent
	}
}
