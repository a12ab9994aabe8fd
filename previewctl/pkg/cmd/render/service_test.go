package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/cmdtest"
)

// TestRenderUnknownService: with a manager directory at hand, a service
// that has no template there is refused input (exit 2, the service named);
// outside a checkout with one, the file is still printed with a note that
// nothing was checked.
func TestRenderUnknownService(t *testing.T) {
	repo := repoWithTemplate(t)
	bare := cmdtest.TempRoot(t) // a repository root without manager/
	for _, tc := range []struct {
		name   string
		dir    string
		extra  []string
		code   int
		stderr string // a substring of stderr
	}{
		{"in the repository", repo, nil, 2, `previewctl: invalid service "nosuch-service": no template at ` + filepath.Join(repo, "manager", "nosuch-service", "template") + "\n"},
		{"in the repository, writing", repo, []string{"--write"}, 2, `invalid service "nosuch-service": no template at `},
		{"explicit manager dir", t.TempDir(), []string{"--manager-dir", filepath.Join(repo, "manager")}, 2, `invalid service "nosuch-service": no template at `},
		{"explicit manager dir that does not exist", t.TempDir(), []string{"--manager-dir", filepath.Join(bare, "manager")}, 2, `invalid service "nosuch-service": no template at `},
		{"a repository without a manager directory", bare, nil, 0, "template and collisions not checked"},
		{"outside any repository", t.TempDir(), nil, 0, "template and collisions not checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cmdtest.Run(t, tc.dir, append(args("--service", "nosuch-service"), tc.extra...)...)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.Code, r.Stderr, tc.code, tc.stderr)
			}
			if tc.code == 0 && !strings.Contains(r.Stdout, `service        = "nosuch-service"`) {
				t.Errorf("stdout %q, want the environment file", r.Stdout)
			}
			if tc.code != 0 && (r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1) {
				t.Errorf("stdout %q, stderr %q; want nothing and one line", r.Stdout, r.Stderr)
			}
			if left, _ := os.ReadDir(filepath.Join(repo, "manager", "nosuch-service")); len(left) != 0 {
				t.Errorf("wrote %v", left)
			}
		})
	}
}
