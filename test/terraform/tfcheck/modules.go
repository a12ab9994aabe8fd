package tfcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"
)

// moduleMetaArgs are the arguments of a module block that are not input
// variables of the callee.
var moduleMetaArgs = map[string]bool{
	"source": true, "version": true, "count": true, "for_each": true,
	"providers": true, "depends_on": true,
}

// CheckLoad loads the module as Terraform tooling does and returns its
// diagnostics (errors and warnings) as one error.
func CheckLoad(dir string) (*tfconfig.Module, error) {
	mod, diags := tfconfig.LoadModule(dir)
	if len(diags) > 0 {
		return mod, fmt.Errorf("load %s: %w", dir, diags)
	}
	if _, err := ParseModule(dir); err != nil {
		return mod, err
	}
	return mod, nil
}

// CheckModuleCalls checks every module block in dir: its source is a local
// path that exists, and its arguments are exactly the callee's variables
// (every required one, no unknown one).
func CheckModuleCalls(dir string) error {
	m, err := ParseModule(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range m.Blocks("module") {
		if err := checkModuleCall(dir, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkModuleCall(dir string, b *hclsyntax.Block) error {
	name := strings.Join(b.Labels, ".")
	src, err := literalString(b.Body.Attributes["source"])
	if err != nil {
		return fmt.Errorf("%s: module %q: source: %w", at(b.DefRange()), name, err)
	}
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return fmt.Errorf("%s: module %q: source %q is not a local path; only local modules are used here", at(b.DefRange()), name, src)
	}
	callee := filepath.Join(dir, src)
	if st, err := os.Stat(callee); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: module %q: source %q: no such directory %s", at(b.DefRange()), name, src, callee)
	}
	mod, err := CheckLoad(callee)
	if err != nil {
		return fmt.Errorf("%s: module %q: %w", at(b.DefRange()), name, err)
	}
	var errs []error
	for arg, a := range b.Body.Attributes {
		if moduleMetaArgs[arg] {
			continue
		}
		if _, ok := mod.Variables[arg]; !ok {
			errs = append(errs, fmt.Errorf("%s: module %q passes %q, which %s does not declare", at(a.SrcRange), name, arg, src))
		}
	}
	var missing []string
	for v, decl := range mod.Variables {
		if _, ok := b.Body.Attributes[v]; !ok && decl.Required {
			missing = append(missing, v)
		}
	}
	sort.Strings(missing)
	for _, v := range missing {
		errs = append(errs, fmt.Errorf("%s: module %q does not pass required variable %q of %s", at(b.DefRange()), name, v, src))
	}
	return errors.Join(errs...)
}

// fileFuncs take a path as first argument, relative to the working
// directory, which for every use here is anchored on path.module.
var fileFuncs = map[string]bool{
	"file": true, "filebase64": true, "filesha256": true, "filemd5": true,
	"templatefile": true, "fileexists": false,
}

// CheckFilePaths checks that every file()-like call in dir names a file that
// exists. The path must be resolvable statically (literals and path.module),
// which is also what keeps untrusted input out of it.
func CheckFilePaths(dir string) error {
	m, err := ParseModule(dir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("absolute path of %s: %w", dir, err)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"path": cty.ObjectVal(map[string]cty.Value{
			"module": cty.StringVal(abs),
			"root":   cty.StringVal(abs),
			"cwd":    cty.StringVal(abs),
		}),
	}}
	var errs []error
	for _, f := range m.Files {
		hclsyntax.VisitAll(f.Body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || !fileFuncs[call.Name] || len(call.Args) == 0 {
				return nil
			}
			v, diags := call.Args[0].Value(ctx)
			if diags.HasErrors() || !v.Type().Equals(cty.String) || !v.IsKnown() {
				errs = append(errs, fmt.Errorf("%s: %s(): the path must be built from literals and path.module only", at(call.Range()), call.Name))
				return nil
			}
			p := v.AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(abs, p)
			}
			if st, err := os.Stat(p); err != nil || st.IsDir() {
				errs = append(errs, fmt.Errorf("%s: %s(): no such file %s", at(call.Range()), call.Name, filepath.Clean(p)))
			}
			return nil
		})
	}
	return errors.Join(errs...)
}

func literalString(a *hclsyntax.Attribute) (string, error) {
	if a == nil {
		return "", errors.New("missing")
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() {
		return "", fmt.Errorf("%s: must be a literal string", at(a.SrcRange))
	}
	return v.AsString(), nil
}
