// Package tfcheck checks Terraform/OpenTofu configuration offline: format,
// loading, module calls, file() paths, resource schemas and generated
// environment files. It exists because the Spacelift provider cannot be
// downloaded here, so `tofu validate` cannot cover manager/ and setup/.
package tfcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// File is one parsed .tf file.
type File struct {
	Path string
	Body *hclsyntax.Body
}

// Module is the parsed .tf files of one directory.
type Module struct {
	Dir   string
	Files []File
}

// ParseModule parses every .tf file directly in dir (not subdirectories),
// as Terraform does.
func ParseModule(dir string) (*Module, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(paths)
	m := &Module{Dir: dir}
	for _, p := range paths {
		f, err := ParseFile(p)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, f)
	}
	return m, nil
}

// ParseFile parses one .tf file with the native syntax parser.
func ParseFile(path string) (File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", path, err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return File{}, fmt.Errorf("parse %s: %w", path, diags)
	}
	return File{Path: path, Body: f.Body.(*hclsyntax.Body)}, nil
}

// Blocks returns every top-level block of the given type in the module.
func (m *Module) Blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, f := range m.Files {
		for _, b := range f.Body.Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

// ModuleDirs returns every directory under root/sub... that holds .tf files,
// sorted.
func ModuleDirs(root string, subs ...string) ([]string, error) {
	seen := map[string]bool{}
	for _, s := range subs {
		err := filepath.WalkDir(filepath.Join(root, s), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".")) && p != filepath.Join(root, s) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".tf") {
				seen[filepath.Dir(p)] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", s, err)
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// FindRoot walks up from dir to the directory holding go.work.
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("absolute path of %s: %w", dir, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.work above %s", dir)
		}
		d = parent
	}
}

func at(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}
