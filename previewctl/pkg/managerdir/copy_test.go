package managerdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyConfig(t *testing.T) {
	src := t.TempDir()
	files := map[string]bool{ // path -> copied
		"main.tf":                                  true,
		"svc/template/main.tf":                     true,
		"svc/environments/main.tf":                 true,
		"svc/environments/acme-shop-7-1a2b3c4d.tf": false, // a generated environment file
		"svc/README.md":                            false,
	}
	for p := range files {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("# "+p+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := t.TempDir()
	if err := CopyConfig(src, dst); err != nil {
		t.Fatal(err)
	}
	for p, copied := range files {
		b, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(p)))
		switch {
		case copied && (err != nil || string(b) != "# "+p+"\n"):
			t.Errorf("%s: %q, %v; want it copied as it was", p, b, err)
		case !copied && err == nil:
			t.Errorf("%s was copied", p)
		}
	}
	if err := CopyConfig(filepath.Join(src, "nope"), t.TempDir()); err == nil {
		t.Error("copying a missing directory succeeded")
	}
}
