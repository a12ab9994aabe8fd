// Package cmdtest runs previewctl's command tree in-process for tests,
// exactly as main does (same exit-code mapping), capturing the streams.
package cmdtest

import (
	"bytes"
	"context"
	"os"
	"testing"

	"preview-environments/previewctl/pkg/cmd/root"
)

// Result is one run.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run executes previewctl with args in dir ("" keeps the working directory).
func Run(t testing.TB, dir string, args ...string) Result {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	code := root.Execute(context.Background(), args, bytes.NewReader(nil), &out, &errb)
	return Result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// TempRoot makes a directory that looks like a repository root (go.work).
func TempRoot(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(d+"/go.work", []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}
