package envfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func managerFixture(t *testing.T) (string, string) {
	t.Helper()
	mdir := t.TempDir()
	tdir := TemplateDir(mdir, "hello-service")
	edir := EnvironmentsDir(mdir, "hello-service")
	for _, d := range []string{tdir, edir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join("testdata", "manager", "hello-service", "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	// The environments module's own files are not environments.
	if err := os.WriteFile(filepath.Join(edir, "variables.tf"), []byte("variable \"shared\" {\n  type = any\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return mdir, edir
}

// TestPrepareClaims: any file claiming the ID for another PR is a collision,
// however it is named or written; the PR's own file is a renewal.
func TestPrepareClaims(t *testing.T) {
	e := valid()
	forged := strings.NewReplacer(`pr_owner       = "acme"`, `pr_owner       = "evil"`).Replace(goodFile)
	for _, tc := range []struct {
		name, file, src string
		collide         bool
	}{
		{"nothing else", "", "", false},
		{"own file (renewal)", FileName(e), goodFile, false},
		{"own PR, other case", FileName(e), strings.Replace(goodFile, `"acme"`, `"ACME"`, 1), false},
		{"other PR, ID in file name", "evil-x-1-191559f5.tf", forged, true},
		{"other PR, innocent file name", "zzz.tf", forged, true},
		{"other PR, well-named", "acme-other-1-abcd1234.tf", forged, true},
		{"label only", "x.tf", "module \"env_191559f5\" {\n  source = \"../template\"\n}\n", true},
		{"environment_id via interpolation", "x.tf", "module \"m\" {\n  environment_id = \"${\"191559f5\"}\"\n}\n", true},
		{"own content in a second file", "copy.tf", goodFile, true},
		{"broken file naming the ID", "y.tf", "module \"env_191559f5\" {", true},
		{"unrelated module", "z.tf", "module \"env_00000000\" {\n  environment_id = \"00000000\"\n}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mdir, edir := managerFixture(t)
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(edir, tc.file), []byte(tc.src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Prepare(mdir, e)
			if errors.Is(err, ErrCollision) != tc.collide {
				t.Fatalf("err = %v, collide want %v", err, tc.collide)
			}
			if !tc.collide && err != nil {
				t.Fatal(err)
			}
			if tc.name == "own file (renewal)" && !got.CreatedAt.Equal(time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)) {
				t.Errorf("created_at not kept: %v", got.CreatedAt)
			}
		})
	}
}

func TestPrepareKeepsCreatedAt(t *testing.T) {
	mdir, edir := managerFixture(t)
	first := valid()
	if _, err := WriteAtomic(edir, first); err != nil {
		t.Fatal(err)
	}
	later, err := New("hello-service", "acme", "shop", 42, "latest", "main", t0.Add(72*time.Hour), DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Prepare(mdir, later)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(first.CreatedAt) || !got.ExpiresAt.Equal(later.ExpiresAt) {
		t.Errorf("got created %v expires %v", got.CreatedAt, got.ExpiresAt)
	}
	if _, err := Prepare(mdir, func() Environment { x := later; x.Service = "nope"; return x }()); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("missing template: %v", err)
	}
}
