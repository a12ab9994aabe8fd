// Package terraform_test checks the repository's own Terraform (infra/,
// manager/, setup/) offline with tfcheck. tofu fmt and tofu validate run from
// mk/terraform.mk as well; these checks cover what they cannot without the
// Spacelift provider.
package terraform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preview-environments/test/terraform/tfcheck"
)

var tfRoots = []string{"infra", "manager", "setup"}

func root(t *testing.T) string {
	t.Helper()
	r, err := tfcheck.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func moduleDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := tfcheck.ModuleDirs(root(t), tfRoots...)
	if err != nil {
		t.Fatal(err)
	}
	// Guard against a walk that silently finds nothing.
	for _, want := range []string{"infra", "manager", "manager/hello-service", "manager/hello-service/template", "manager/hello-service/environments", "setup"} {
		found := false
		for _, d := range dirs {
			found = found || d == filepath.Join(root(t), want)
		}
		if !found {
			t.Fatalf("module directory %s not found among %v", want, dirs)
		}
	}
	return dirs
}

func rel(t *testing.T, p string) string {
	r, err := filepath.Rel(root(t), p)
	if err != nil {
		return p
	}
	return r
}

func TestFormatted(t *testing.T) {
	var files []string
	for _, sub := range append(tfRoots, "test/terraform/testdata") {
		err := filepath.WalkDir(filepath.Join(root(t), sub), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".tf") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 15 {
		t.Fatalf("found only %d .tf files", len(files))
	}
	for _, f := range files {
		t.Run(rel(t, f), func(t *testing.T) {
			if err := tfcheck.CheckFormat(f); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestModulesLoad(t *testing.T) {
	for _, d := range moduleDirs(t) {
		t.Run(rel(t, d), func(t *testing.T) {
			mod, err := tfcheck.CheckLoad(d)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range mod.Variables {
				if v.Description == "" || v.Type == "" {
					t.Errorf("variable %q in %s needs a type and a description", name, rel(t, d))
				}
			}
			for name, o := range mod.Outputs {
				if o.Description == "" {
					t.Errorf("output %q in %s needs a description", name, rel(t, d))
				}
			}
		})
	}
}

func TestModuleLayout(t *testing.T) {
	for _, d := range moduleDirs(t) {
		t.Run(rel(t, d), func(t *testing.T) {
			for _, f := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} {
				if _, err := os.Stat(filepath.Join(d, f)); err != nil {
					t.Errorf("%s has no %s", rel(t, d), f)
				}
			}
		})
	}
}

func TestModuleCalls(t *testing.T) {
	for _, d := range moduleDirs(t) {
		t.Run(rel(t, d), func(t *testing.T) {
			if err := tfcheck.CheckModuleCalls(d); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestFilePaths(t *testing.T) {
	for _, d := range moduleDirs(t) {
		t.Run(rel(t, d), func(t *testing.T) {
			if err := tfcheck.CheckFilePaths(d); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	s, err := tfcheck.LoadSchemas(filepath.Join(root(t), "test/terraform/testdata/schema"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range moduleDirs(t) {
		t.Run(rel(t, d), func(t *testing.T) {
			if err := tfcheck.CheckSchema(d, s); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSchemaSnapshotsDated(t *testing.T) {
	s, err := tfcheck.LoadSchemas(filepath.Join(root(t), "test/terraform/testdata/schema"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"aws", "spacelift"} {
		snap, ok := s[prefix]
		if !ok {
			t.Errorf("no %s schema snapshot", prefix)
			continue
		}
		if _, err := time.Parse("2006-01-02", snap.Captured); err != nil {
			t.Errorf("%s snapshot: captured %q is not a YYYY-MM-DD date", prefix, snap.Captured)
		}
		if len(snap.ResourceSchemas) == 0 {
			t.Errorf("%s snapshot has no resource schemas", prefix)
		}
	}
}

// The TF_VAR_* names the template sets are infra/'s variables, and those
// setup/ sets on the manager stack are manager/'s.
func TestStackVariables(t *testing.T) {
	tests := []struct{ setter, target string }{
		{"manager/hello-service/template", "infra"},
		{"setup", "manager"},
	}
	for _, tt := range tests {
		t.Run(tt.setter, func(t *testing.T) {
			err := tfcheck.CheckStackVariables(filepath.Join(root(t), tt.setter), filepath.Join(root(t), tt.target))
			if err != nil {
				t.Error(err)
			}
		})
	}
}

// moduleFiles are the environments module's own files; every other .tf file
// there is a generated environment file.
var moduleFiles = map[string]bool{"main.tf": true, "variables.tf": true, "outputs.tf": true, "versions.tf": true}

func TestEnvironmentFiles(t *testing.T) {
	r := root(t)
	services, err := filepath.Glob(filepath.Join(r, "manager/*/template"))
	if err != nil || len(services) == 0 {
		t.Fatalf("no manager/<service>/template: %v", err)
	}
	for _, tmpl := range services {
		vars, err := tfcheck.Variables(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		envDir := filepath.Join(filepath.Dir(tmpl), "environments")
		files, _ := filepath.Glob(filepath.Join(envDir, "*.tf"))
		fixtures, _ := filepath.Glob(filepath.Join(r, "test/terraform/testdata/environments/*.tf"))
		if len(fixtures) == 0 {
			t.Fatal("no environment fixtures")
		}
		for _, f := range append(files, fixtures...) {
			if moduleFiles[filepath.Base(f)] && filepath.Dir(f) == envDir {
				continue
			}
			t.Run(rel(t, f), func(t *testing.T) {
				if err := tfcheck.CheckEnvironmentFile(f, vars); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// The fixtures, dropped into a copy of the environments module next to the
// real template, make a module whose calls are all valid: the wiring the
// generated files rely on (../template, var.shared) works.
func TestFixturesWireIntoEnvironmentsModule(t *testing.T) {
	r := root(t)
	tmp := t.TempDir()
	copyDir(t, filepath.Join(r, "manager/hello-service/template"), filepath.Join(tmp, "svc/template"))
	copyDir(t, filepath.Join(r, "manager/hello-service/environments"), filepath.Join(tmp, "svc/environments"))
	copyDir(t, filepath.Join(r, "test/terraform/testdata/environments"), filepath.Join(tmp, "svc/environments"))
	envs := filepath.Join(tmp, "svc/environments")
	mod, err := tfcheck.CheckLoad(envs)
	if err != nil {
		t.Fatal(err)
	}
	if len(mod.ModuleCalls) < 2 {
		t.Fatalf("want the fixtures' module calls, got %d", len(mod.ModuleCalls))
	}
	if err := tfcheck.CheckModuleCalls(envs); err != nil {
		t.Error(err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkOfflineChecks measures one full pass of every check over every
// module (what TestFormatted..TestSchema do), to keep `make test` fast as
// the tree grows.
func BenchmarkOfflineChecks(b *testing.B) {
	r, err := tfcheck.FindRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	dirs, err := tfcheck.ModuleDirs(r, tfRoots...)
	if err != nil {
		b.Fatal(err)
	}
	s, err := tfcheck.LoadSchemas(filepath.Join(r, "test/terraform/testdata/schema"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range dirs {
			if _, err := tfcheck.CheckLoad(d); err != nil {
				b.Fatal(err)
			}
			if err := tfcheck.CheckModuleCalls(d); err != nil {
				b.Fatal(err)
			}
			if err := tfcheck.CheckFilePaths(d); err != nil {
				b.Fatal(err)
			}
			if err := tfcheck.CheckSchema(d, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(dirs)), "modules")
}
