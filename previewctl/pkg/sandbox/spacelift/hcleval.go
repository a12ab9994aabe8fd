package spacelift

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// module is a Terraform module read for emulation: the sandbox evaluates
// the attributes it needs with real variable values, and only those.
type module struct {
	dir       string
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources []*hclsyntax.Block // resource and data blocks, in file order
}

func loadModule(dir string) (*module, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, e.Name()), err)
		}
		files[e.Name()] = b
	}
	return parseModule(dir, files)
}

// parseModule reads a module from its files' contents (name -> bytes; only
// .tf files directly in the module count). dir names it in messages.
func parseModule(dir string, files map[string][]byte) (*module, error) {
	m := &module{dir: dir, variables: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{}}
	p := hclparse.NewParser()
	var names []string
	for name := range files {
		if strings.HasSuffix(name, ".tf") && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		f, diags := p.ParseHCL(files[name], path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s", diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				if len(b.Labels) == 1 {
					m.variables[b.Labels[0]] = b
				}
			case "locals":
				for name, a := range b.Body.Attributes {
					m.locals[name] = a
				}
			case "resource", "data":
				if len(b.Labels) == 2 {
					m.resources = append(m.resources, b)
				}
			}
		}
	}
	return m, nil
}

// functions is the subset of Terraform's functions that the project's
// modules use in attributes the sandbox evaluates.
var functions = map[string]function.Function{
	"lower":      stdlib.LowerFunc,
	"upper":      stdlib.UpperFunc,
	"format":     stdlib.FormatFunc,
	"join":       stdlib.JoinFunc,
	"split":      stdlib.SplitFunc,
	"replace":    stdlib.ReplaceFunc,
	"substr":     stdlib.SubstrFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"merge":      stdlib.MergeFunc,
	"concat":     stdlib.ConcatFunc,
	"length":     stdlib.LengthFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"tostring":   stdlib.MakeToFunc(cty.String),
	"tonumber":   stdlib.MakeToFunc(cty.Number),
}

// variableValues turns raw inputs (TF_VAR_* strings or module arguments)
// into var.* values: converted to each variable's declared type, defaults
// filled in, and a missing required variable reported by name.
func (m *module) variableValues(inputs map[string]cty.Value) (map[string]cty.Value, error) {
	out := map[string]cty.Value{}
	for _, name := range sortedKeys(m.variables) {
		b := m.variables[name]
		ty := cty.DynamicPseudoType
		if a, ok := b.Body.Attributes["type"]; ok {
			t, diags := typeexpr.TypeConstraint(a.Expr)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable %q in %s: %s", name, m.dir, diags.Error())
			}
			ty = t
		}
		v, ok := inputs[name]
		if !ok {
			a, has := b.Body.Attributes["default"]
			if !has {
				return nil, fmt.Errorf("variable %q in %s: no value given and no default", name, m.dir)
			}
			d, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, fmt.Errorf("default of variable %q in %s: %s", name, m.dir, diags.Error())
			}
			v = d
		}
		if ty != cty.DynamicPseudoType {
			// Variables arrive as strings from TF_VAR_*; HCL syntax in them
			// (numbers, lists) is what Terraform would parse too.
			if v.Type() == cty.String && !ty.Equals(cty.String) && v.IsKnown() && !v.IsNull() {
				if expr, diags := hclsyntax.ParseExpression([]byte(v.AsString()), "TF_VAR_"+name, hcl.InitialPos); !diags.HasErrors() {
					if pv, diags := expr.Value(nil); !diags.HasErrors() {
						v = pv
					}
				}
			}
			cv, err := convert.Convert(v, ty)
			if err != nil {
				return nil, fmt.Errorf("variable %q in %s: %w", name, m.dir, err)
			}
			v = cv
		}
		out[name] = v
	}
	return out, nil
}

// evalContext evaluates locals in dependency order. Locals that depend on
// resources (unknown to the sandbox) stay out of the context; an attribute
// that needs one then fails to evaluate and is reported, not guessed.
func (m *module) evalContext(vars map[string]cty.Value) *hcl.EvalContext {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: functions,
	}
	locals := map[string]cty.Value{}
	pending := sortedKeys(m.locals)
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var next []string
		for _, name := range pending {
			ctx.Variables["local"] = cty.ObjectVal(locals)
			v, diags := m.locals[name].Expr.Value(ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				next = append(next, name)
				continue
			}
			locals[name] = v
			progress = true
		}
		pending = next
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	return ctx
}

// blocks returns the resource (or data, with kind "data") blocks of a type.
func (m *module) blocks(kind, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range m.resources {
		if b.Type == kind && b.Labels[0] == typ {
			out = append(out, b)
		}
	}
	return out
}

func where(b *hclsyntax.Block) string {
	r := b.DefRange()
	return fmt.Sprintf("%s:%d", filepath.Base(r.Filename), r.Start.Line)
}

// attrString evaluates a string attribute; absent gives def.
func attrString(b *hclsyntax.Body, name string, ctx *hcl.EvalContext, def string) (string, error) {
	a, ok := b.Attributes[name]
	if !ok {
		return def, nil
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("%s: %s", name, diags.Error())
	}
	if v.IsNull() {
		return def, nil
	}
	if !v.IsWhollyKnown() {
		return "", fmt.Errorf("%s: value not known to the sandbox", name)
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return sv.AsString(), nil
}

// attrStringMap evaluates a map-of-strings attribute.
func attrStringMap(b *hclsyntax.Body, name string, ctx *hcl.EvalContext) (map[string]string, error) {
	a, ok := b.Attributes[name]
	if !ok {
		return map[string]string{}, nil
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", name, diags.Error())
	}
	return toStringMap(name, v)
}

func toStringMap(name string, v cty.Value) (map[string]string, error) {
	out := map[string]string{}
	if v.IsNull() {
		return out, nil
	}
	if !v.IsWhollyKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return nil, fmt.Errorf("%s: not a known map", name)
	}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		sv, err := convert.Convert(ev, cty.String)
		if err != nil || sv.IsNull() {
			return nil, fmt.Errorf("%s[%s]: not a string", name, k.AsString())
		}
		out[k.AsString()] = sv.AsString()
	}
	return out, nil
}
