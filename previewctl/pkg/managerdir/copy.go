package managerdir

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"preview-environments/previewctl/pkg/envfile"
)

// CopyConfig copies a manager directory's Terraform files (.tf) to dst,
// leaving out the generated environment files: the manager's shape
// without its environments, as a fork or a second service starts from it
// (docs/ADDING-A-SERVICE.md) and as tests evaluate it.
func CopyConfig(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(p, ".tf") || envfile.IsEnvFileName(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copy manager configuration %s to %s: %w", src, dst, err)
	}
	return nil
}
