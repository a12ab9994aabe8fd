// Package discover finds every Go benchmark function of the workspace by
// reading the source, so a benchmark is run the first time it appears
// without anyone listing it.
package discover

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Func is one benchmark function.
type Func struct {
	Dir  string // package directory, slash-separated, relative to the workspace root
	Name string // e.g. BenchmarkGatewayVsDirect
}

// Modules returns the module directories that root/go.work uses, relative
// to root, in file order.
func Modules(root string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, fmt.Errorf("read workspace: %w", err)
	}
	defer f.Close()
	var mods []string
	inUse := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "use (":
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "":
			mods = append(mods, cleanUse(line))
		case strings.HasPrefix(line, "use ") && !strings.HasSuffix(line, "("):
			mods = append(mods, cleanUse(strings.TrimPrefix(line, "use ")))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read workspace: %w", err)
	}
	return mods, nil
}

func cleanUse(s string) string {
	return filepath.ToSlash(filepath.Clean(strings.Trim(strings.TrimSpace(s), `"`)))
}

// Benchmarks returns every benchmark function in the given module
// directories (relative to root), sorted by directory and name. It skips
// what the go command skips (testdata, vendor, names starting with . or _)
// and nested modules.
func Benchmarks(root string, modules []string) ([]Func, error) {
	var funcs []Func
	fset := token.NewFileSet()
	for _, mod := range modules {
		modDir := filepath.Join(root, filepath.FromSlash(mod))
		err := filepath.WalkDir(modDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path == modDir {
					return nil
				}
				if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("parse %s: %w", path, err)
			}
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				if fn, ok := decl.(*ast.FuncDecl); ok && isBenchmark(fn) {
					funcs = append(funcs, Func{Dir: filepath.ToSlash(rel), Name: fn.Name.Name})
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find benchmarks in %s: %w", mod, err)
		}
	}
	sort.Slice(funcs, func(i, j int) bool {
		if funcs[i].Dir != funcs[j].Dir {
			return funcs[i].Dir < funcs[j].Dir
		}
		return funcs[i].Name < funcs[j].Name
	})
	return funcs, nil
}

// isBenchmark applies go test's rule: func BenchmarkXxx(b *testing.B), no
// receiver, where Xxx does not start with a lower-case letter.
func isBenchmark(fn *ast.FuncDecl) bool {
	name := fn.Name.Name
	if fn.Recv != nil || !strings.HasPrefix(name, "Benchmark") {
		return false
	}
	if rest := name[len("Benchmark"):]; rest != "" {
		if r, _ := utf8.DecodeRuneInString(rest); unicode.IsLower(r) {
			return false
		}
	}
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 || fn.Type.Results != nil {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "B"
}
