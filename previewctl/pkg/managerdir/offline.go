package managerdir

// Offline evaluation of the few expressions previewctl needs from the
// manager's Terraform (a stack's name and count, a dependency's stack IDs):
// each module (the manager, manager/<service>, its environments/, the
// template) is a scope whose variables come from its caller's module
// arguments, or its defaults, and whose locals are evaluated on demand.
//
// Nothing is guessed. What only OpenTofu knows (resource attributes, data
// sources, a required variable nobody sets here) is an unknown value
// carrying the reason; an expression that comes out unknown is refused with
// those reasons. Values from environment files, --var and TF_VAR_* are
// values in the evaluation context, never parsed as HCL source (a complex
// --var or TF_VAR_* value is parsed as an expression with no variables or
// functions, as OpenTofu parses it).

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

// module is one directory of .tf files, reduced to what evaluation needs.
type module struct {
	dir    string
	vars   map[string]*variable
	locals map[string]*hcl.Attribute
	calls  []*call
	res    []*resource // spacelift_stack and spacelift_stack_dependency, in file order
	src    map[string][]byte
}

type variable struct {
	name     string
	typ      cty.Type
	literal  bool // --var and TF_VAR_* values are strings, not expressions (a primitive or absent type)
	defaults *typeexpr.Defaults
	def      hcl.Expression // nil: required
	rng      hcl.Range
}

// call is a module block with a local source.
type call struct {
	name  string
	dir   string // absolute
	attrs hcl.Attributes
	rng   hcl.Range
}

type resource struct {
	typ, name string
	attrs     hcl.Attributes
	rng       hcl.Range
}

const (
	stackType      = "spacelift_stack"
	dependencyType = "spacelift_stack_dependency"
)

var (
	fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "module", LabelNames: []string{"name"}},
		{Type: "resource", LabelNames: []string{"type", "name"}},
	}}
	variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}}}
	moduleSchema   = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}}}
	resourceSchema = map[string]*hcl.BodySchema{
		stackType: {Attributes: []hcl.AttributeSchema{
			{Name: "count"}, {Name: "for_each"}, {Name: "name"}, {Name: "project_root"},
		}},
		dependencyType: {Attributes: []hcl.AttributeSchema{
			{Name: "count"}, {Name: "for_each"}, {Name: "stack_id"}, {Name: "depends_on_stack_id"},
		}},
	}
)

// parseModule reads the .tf and .tf.json files of dir that keep accepts
// (all when nil). A missing directory is an empty module.
func parseModule(dir string, keep func(base string) bool) (*module, error) {
	m := &module{dir: dir, vars: map[string]*variable{}, locals: map[string]*hcl.Attribute{}, src: map[string][]byte{}}
	var paths []string
	for _, pat := range []string{"*.tf", "*.tf.json"} {
		ps, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		paths = append(paths, ps...)
	}
	sort.Strings(paths)
	parser := hclparse.NewParser()
	for _, p := range paths {
		base := filepath.Base(p)
		if keep != nil && !keep(base) {
			continue
		}
		stem := strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".tf")
		if stem == "override" || strings.HasSuffix(stem, "_override") {
			return nil, fmt.Errorf("%s: override files are not evaluated offline", p)
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var f *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(base, ".json") {
			f, diags = parser.ParseJSON(src, p)
		} else {
			f, diags = parser.ParseHCL(src, p)
		}
		if diags.HasErrors() {
			return nil, diagError(diags)
		}
		m.src[p] = src
		if err := m.add(f.Body); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *module) add(body hcl.Body) error {
	content, _, diags := body.PartialContent(fileSchema)
	if diags.HasErrors() {
		return diagError(diags)
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			v, err := readVariable(b)
			if err != nil {
				return err
			}
			if o, dup := m.vars[v.name]; dup {
				return fmt.Errorf("%s: variable %q is already declared at %s", pos(v.rng), v.name, pos(o.rng))
			}
			m.vars[v.name] = v
		case "locals":
			attrs, diags := b.Body.JustAttributes()
			if diags.HasErrors() {
				return diagError(diags)
			}
			for name, a := range attrs {
				if o, dup := m.locals[name]; dup {
					return fmt.Errorf("%s: local %q is already defined at %s", pos(a.NameRange), name, pos(o.NameRange))
				}
				m.locals[name] = a
			}
		case "module":
			c, err := readCall(m.dir, b)
			if err != nil {
				return err
			}
			if c != nil {
				m.calls = append(m.calls, c)
			}
		case "resource":
			schema, ok := resourceSchema[b.Labels[0]]
			if !ok {
				continue
			}
			attrs, _, diags := b.Body.PartialContent(schema)
			if diags.HasErrors() {
				return diagError(diags)
			}
			r := &resource{typ: b.Labels[0], name: b.Labels[1], attrs: attrs.Attributes, rng: b.DefRange}
			if a, ok := r.attrs["for_each"]; ok {
				return fmt.Errorf("%s: for_each on %s.%s is not evaluated offline (count is)", pos(a.NameRange), r.typ, r.name)
			}
			var need []string
			if r.typ == stackType {
				need = []string{"name"}
			} else {
				need = []string{"stack_id", "depends_on_stack_id"}
			}
			for _, n := range need {
				if _, ok := r.attrs[n]; !ok {
					return fmt.Errorf("%s: %s.%s has no %s", pos(r.rng), r.typ, r.name, n)
				}
			}
			m.res = append(m.res, r)
		}
	}
	return nil
}

func readVariable(b *hcl.Block) (*variable, error) {
	attrs, _, diags := b.Body.PartialContent(variableSchema)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	v := &variable{name: b.Labels[0], typ: cty.DynamicPseudoType, literal: true, rng: b.DefRange}
	if a, ok := attrs.Attributes["type"]; ok {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		if diags.HasErrors() {
			return nil, diagError(diags)
		}
		v.typ, v.defaults, v.literal = ty, defaults, ty.IsPrimitiveType()
	}
	if a, ok := attrs.Attributes["default"]; ok {
		v.def = a.Expr
	}
	return v, nil
}

// readCall returns a module block whose source is a local path, nil for a
// registry or remote one (none of previewctl's directories).
func readCall(dir string, b *hcl.Block) (*call, error) {
	content, _, diags := b.Body.PartialContent(moduleSchema)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	attrs, diags := b.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	delete(attrs, "source")
	a, ok := content.Attributes["source"]
	if !ok {
		return nil, fmt.Errorf("%s: module %q has no source", pos(b.DefRange), b.Labels[0])
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return nil, fmt.Errorf("%s: module %q: source must be a literal string", pos(a.Expr.Range()), b.Labels[0])
	}
	src := v.AsString()
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return nil, nil
	}
	return &call{name: b.Labels[0], dir: filepath.Join(dir, filepath.FromSlash(src)), attrs: attrs, rng: b.DefRange}, nil
}

// callOf finds the one module block of m that calls dir: nil when there is
// none, an error when there are several.
func (m *module) callOf(dir string) (*call, error) {
	var found *call
	for _, c := range m.calls {
		if filepath.Clean(c.dir) != filepath.Clean(dir) {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%s: module %q calls %s, as module %q (%s) does", pos(c.rng), c.name, dir, found.name, pos(found.rng))
		}
		found = c
	}
	return found, nil
}

// text is an expression's source, on one line and cut short for messages.
func (m *module) text(r hcl.Range) string {
	src, ok := m.src[r.Filename]
	if !ok || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return "?"
	}
	s := strings.Join(strings.Fields(string(r.SliceBytes(src))), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// reason marks an unknown value with why it has no value offline.
type reason string

func unknown(format string, args ...any) cty.Value {
	return cty.DynamicVal.Mark(reason(fmt.Sprintf(format, args...)))
}

// reasons lists the reasons among marks, sorted.
func reasons(marks cty.ValueMarks) string {
	var out []string
	for m := range marks {
		if r, ok := m.(reason); ok {
			out = append(out, string(r))
		}
	}
	if len(out) == 0 {
		return "its value is not known offline"
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// input is a variable's value from a scope's caller: the value, where it
// comes from (for messages) and whether the caller sets it at all.
type input func(name string) (v cty.Value, from string, set bool)

// scope evaluates expressions of one module instance.
type scope struct {
	mod    *module
	what   string // the module instance in messages: "the manager", "module hello_service"
	input  input
	unset  func(name string) string // why a variable without a default has no value
	vars   map[string]cty.Value
	locals map[string]cty.Value
	busy   map[string]bool
}

func newScope(mod *module, what string, in input, unset func(string) string) *scope {
	return &scope{mod: mod, what: what, input: in, unset: unset,
		vars: map[string]cty.Value{}, locals: map[string]cty.Value{}, busy: map[string]bool{}}
}

// functions are the pure functions whose OpenTofu definitions are these
// cty ones. None reads a file, the clock or the environment; a call to any
// other function is refused.
var functions = map[string]function.Function{
	"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "chomp": stdlib.ChompFunc, "chunklist": stdlib.ChunklistFunc,
	"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc,
	"contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc,
	"flatten": stdlib.FlattenFunc, "floor": stdlib.FloorFunc, "format": stdlib.FormatFunc,
	"formatlist": stdlib.FormatListFunc, "indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "keys": stdlib.KeysFunc,
	"lower": stdlib.LowerFunc, "max": stdlib.MaxFunc, "merge": stdlib.MergeFunc, "min": stdlib.MinFunc,
	"range": stdlib.RangeFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "reverse": stdlib.ReverseListFunc,
	"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc,
	"substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
	"trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc, "upper": stdlib.UpperFunc,
	"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
}

// eval evaluates expr in s with extra root values (count, spacelift_stack).
// The result may be unknown, marked with the reasons.
func (s *scope) eval(expr hcl.Expression, extra map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	vars, locals, roots := map[string]cty.Value{}, map[string]cty.Value{}, map[string]cty.Value{}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		if v, ok := extra[root]; ok {
			roots[root] = v
			continue
		}
		switch {
		case root == "var" || root == "local":
			name, ok := attrStep(tr, 1)
			if !ok {
				return cty.DynamicVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid reference",
					Detail: fmt.Sprintf("%s must be followed by a name", root), Subject: tr.SourceRange().Ptr()}}
			}
			if root == "var" {
				vars[name] = s.variable(name)
			} else {
				locals[name] = s.local(name)
			}
		default:
			roots[root] = unknown("%s (%s) is known only when OpenTofu runs", s.mod.text(tr.SourceRange()), pos(tr.SourceRange()))
		}
	}
	if len(vars) > 0 {
		roots["var"] = cty.ObjectVal(vars)
	}
	if len(locals) > 0 {
		roots["local"] = cty.ObjectVal(locals)
	}
	return expr.Value(&hcl.EvalContext{Variables: roots, Functions: functions})
}

// lazy is eval for a value something else may need: an error becomes the
// reason the value is unknown, so it matters only if the value does.
func (s *scope) lazy(expr hcl.Expression) cty.Value {
	v, diags := s.eval(expr, nil)
	if diags.HasErrors() {
		return unknown("%s", diagError(diags).Error())
	}
	return v
}

func attrStep(tr hcl.Traversal, i int) (string, bool) {
	if len(tr) <= i {
		return "", false
	}
	a, ok := tr[i].(hcl.TraverseAttr)
	return a.Name, ok
}

func (s *scope) variable(name string) cty.Value {
	if v, ok := s.vars[name]; ok {
		return v
	}
	v := s.resolve(name)
	s.vars[name] = v
	return v
}

func (s *scope) resolve(name string) cty.Value {
	d, ok := s.mod.vars[name]
	if !ok {
		return unknown("var.%s is not declared in %s", name, s.mod.dir)
	}
	v, from, set := s.input(name)
	if !set {
		if d.def == nil {
			return unknown("var.%s of %s (%s) has no default, and %s", name, s.what, pos(d.rng), s.unset(name))
		}
		var diags hcl.Diagnostics
		if v, diags = d.def.Value(nil); diags.HasErrors() {
			return unknown("var.%s of %s: default: %s", name, s.what, diagError(diags))
		}
		from = "its default"
	}
	if d.defaults != nil {
		v = d.defaults.Apply(v)
	}
	cv, err := convert.Convert(v, d.typ)
	if err != nil {
		return unknown("var.%s of %s (%s): the value from %s does not fit type %s: %v", name, s.what, pos(d.rng), from, d.typ.FriendlyName(), err)
	}
	return cv
}

func (s *scope) local(name string) cty.Value {
	if v, ok := s.locals[name]; ok {
		return v
	}
	a, ok := s.mod.locals[name]
	if !ok {
		return unknown("local.%s is not defined in %s", name, s.mod.dir)
	}
	if s.busy[name] {
		return unknown("local.%s (%s) refers to itself", name, pos(a.NameRange))
	}
	s.busy[name] = true
	v := s.lazy(a.Expr)
	delete(s.busy, name)
	s.locals[name] = v
	return v
}

// callerInput is the input of a module called by c from caller: each
// argument is evaluated in the caller when the callee needs it.
func callerInput(caller *scope, c *call, missing string) input {
	return func(name string) (cty.Value, string, bool) {
		if c == nil {
			return unknown("%s", missing), "", true
		}
		a, ok := c.attrs[name]
		if !ok {
			return cty.NilVal, "", false
		}
		return caller.lazy(a.Expr), fmt.Sprintf("module %q (%s)", c.name, pos(a.Expr.Range())), true
	}
}

// rawValue is a --var or TF_VAR_* value as OpenTofu reads it: the string
// itself for a primitive (or untyped) variable, else an expression that
// may use neither variables nor functions.
func rawValue(d *variable, raw, from string) cty.Value {
	if d.literal {
		return cty.StringVal(raw)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), from, hcl.InitialPos)
	if diags.HasErrors() {
		return unknown("%s: %s", from, diagError(diags))
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return unknown("%s: %s", from, diagError(diags))
	}
	return v
}

// readTfvars reads the files OpenTofu loads by itself in the root module,
// in its order of precedence (later wins): terraform.tfvars,
// terraform.tfvars.json, then *.auto.tfvars(.json) by name. Their values
// must be literals.
func readTfvars(dir string) (map[string]cty.Value, map[string]string, error) {
	var paths []string
	for _, p := range []string{"terraform.tfvars", "terraform.tfvars.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			paths = append(paths, filepath.Join(dir, p))
		}
	}
	var auto []string
	for _, pat := range []string{"*.auto.tfvars", "*.auto.tfvars.json"} {
		ps, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		auto = append(auto, ps...)
	}
	sort.Strings(auto)
	paths = append(paths, auto...)
	vals, from := map[string]cty.Value{}, map[string]string{}
	parser := hclparse.NewParser()
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var f *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(p, ".json") {
			f, diags = parser.ParseJSON(src, p)
		} else {
			f, diags = parser.ParseHCL(src, p)
		}
		if diags.HasErrors() {
			return nil, nil, diagError(diags)
		}
		attrs, diags := f.Body.JustAttributes()
		if diags.HasErrors() {
			return nil, nil, diagError(diags)
		}
		for name, a := range attrs {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, nil, diagError(diags)
			}
			vals[name], from[name] = v, pos(a.NameRange)
		}
	}
	return vals, from, nil
}

// pos is file:line.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// diagError is the errors among diags, each as file:line: summary: detail.
func diagError(diags hcl.Diagnostics) error { return diagErrorAt(diags, hcl.Range{}) }

// diagErrorAt is diagError leaving out the file:line of the line at.
func diagErrorAt(diags hcl.Diagnostics, at hcl.Range) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		if d.Subject != nil && pos(*d.Subject) != pos(at) {
			msg = pos(*d.Subject) + ": " + msg
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
