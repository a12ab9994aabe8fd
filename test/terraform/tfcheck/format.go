package tfcheck

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// CheckFormat reports whether the file is in the canonical layout that
// `tofu fmt` writes (hclwrite.Format is the formatter both tools use).
func CheckFormat(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !bytes.Equal(hclwrite.Format(src), src) {
		return fmt.Errorf("%s is not canonically formatted: run make fmt", path)
	}
	return nil
}
