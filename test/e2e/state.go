package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// State is what a suite created outside the test process, saved before it is
// created so that an interrupted run (Ctrl-C, CI timeout, crash) can still be
// cleaned up later by `make e2e-cleanup`. t.Cleanup removes the file once
// the thing it names is gone.
type State struct {
	RunID   string    `json:"run_id"`
	Suite   string    `json:"suite"` // "lifecycle", "infra", "updatefile"
	Backend string    `json:"backend"`
	Created time.Time `json:"created"`

	// GitHub: a scratch branch and, once opened, its PR.
	Repository string `json:"repository,omitempty"` // owner/repo
	Branch     string `json:"branch,omitempty"`
	PRNumber   int    `json:"pr_number,omitempty"`

	// Terraform/OpenTofu: the working directory that holds the state file.
	TerraformDir string `json:"terraform_dir,omitempty"`
	// Terraform variables the destroy needs (no secrets: IDs and names only).
	TerraformVars map[string]string `json:"terraform_vars,omitempty"`
}

// StateDirEnv overrides where state files go (default: test/.e2e-state).
const StateDirEnv = "E2E_STATE_DIR"

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)

// StateDir is the directory for state files, absolute.
func StateDir() (string, error) {
	if d := os.Getenv(StateDirEnv); d != "" {
		return filepath.Abs(d)
	}
	m, err := ModuleDir()
	if err != nil {
		return "", fmt.Errorf("state dir (or set %s): %w", StateDirEnv, err)
	}
	return filepath.Join(m, ".e2e-state"), nil
}

// ModuleDir is the test module's folder (test/), found from the working
// directory: tests run in their package's folder, anywhere below it.
func ModuleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module dir: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module preview-environments/test\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("module dir: no preview-environments/test go.mod above %s", wd)
		}
	}
}

func statePath(dir string, s State) (string, error) {
	if !runIDRe.MatchString(s.RunID) || !runIDRe.MatchString(s.Suite) {
		return "", fmt.Errorf("state: run ID %q and suite %q must be 1-32 letters or digits", s.RunID, s.Suite)
	}
	return filepath.Join(dir, s.Suite+"-"+s.RunID+".json"), nil
}

// SaveState writes s atomically (temp file + rename), so a crash mid-write
// never leaves a half-written record that cleanup would trip over.
func SaveState(dir string, s State) (string, error) {
	path, err := statePath(dir, s)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("state %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("state %s: %w", path, err)
	}
	return path, nil
}

// RemoveState deletes s's file; a file that is already gone is fine.
func RemoveState(dir string, s State) error {
	path, err := statePath(dir, s)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// LoadStates reads every state file in dir, oldest first. A file that does
// not parse is reported by name and skipped, so one bad file never blocks
// cleaning up the others.
func LoadStates(dir string) ([]State, []error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("state dir %s: %w", dir, err)}
	}
	var out []State
	var errs []error
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("state %s: %w", path, err))
			continue
		}
		var s State
		if err := json.Unmarshal(b, &s); err != nil {
			errs = append(errs, fmt.Errorf("state %s: %w", path, err))
			continue
		}
		if want, err := statePath(dir, s); err != nil || want != path {
			errs = append(errs, fmt.Errorf("state %s: does not match its content (run %q, suite %q)", path, s.RunID, s.Suite))
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, errs
}
