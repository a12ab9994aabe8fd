package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"preview-environments/previewctl/pkg/managerdir"
)

// RepoRoot walks up from the working directory to the folder holding go.work
// (the monorepo root): the tree the sandbox imports as main, and where the
// default data directory lives.
func RepoRoot() (string, error) {
	root, err := managerdir.FindRoot(".")
	if err != nil {
		return "", fmt.Errorf("%w: run previewctl inside the preview-environments checkout", err)
	}
	return root, nil
}

// FindRIE finds aws-lambda-rie in PATH or the repository's bin/: make puts
// bin/ on PATH, a person running bin/previewctl may not have.
func FindRIE(root string) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	p := filepath.Join(root, "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("aws-lambda-rie not found in PATH or bin/: run make tools")
	}
	return p, nil
}
