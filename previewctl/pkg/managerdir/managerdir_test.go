package managerdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bare := t.TempDir()
	for _, tc := range []struct {
		name, flag, start, want string
		explicit                bool
		err                     error
	}{
		{"walks up to go.work", "", deep, filepath.Join(root, "manager"), false, nil},
		{"at the root", "", root, filepath.Join(root, "manager"), false, nil},
		{"flag wins", filepath.Join(bare, "m"), deep, filepath.Join(bare, "m"), true, nil},
		{"no root", "", bare, "", false, ErrNoRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, explicit, err := Resolve(tc.flag, tc.start)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want || explicit != tc.explicit {
				t.Errorf("got %q %v, want %q %v", got, explicit, tc.want, tc.explicit)
			}
		})
	}
}
