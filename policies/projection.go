package policies

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// projection is the part of an input document a policy can observe. Only
// those paths are converted to OPA values: at 10,000 stacks and 50,000
// changes the trigger policy reads 7 of the input's ~80 fields, and building
// the rest was half of Trigger's cost.
//
// A nil *projection means "not read": the field is left out. A node with
// whole set means the value is used as a whole (compared, passed to a
// function, returned) and is converted in full. Otherwise only the listed
// children are kept; the child "*" stands for every key or array element.
//
// ordered says that the order or the number of the elements of an array
// at this node can matter: it is read with a constant or reused index, or
// iterated inside an array comprehension. An array that is only iterated
// (`some x in input.xs`, the index never used again) in a rule body or a
// set or object comprehension cannot tell equal elements apart: such a body
// has the same set of solutions whether an element appears once or fifty
// times, and every kind of rule and those comprehensions keep only that set.
// Such an array is converted with its duplicate elements (equal once
// projected) dropped; see unordered.
type projection struct {
	whole    bool
	ordered  bool
	children map[string]*projection
	// named lists the children, sorted, when there is no "*" child: an
	// object is then converted by looking these keys up rather than by
	// walking all its keys (see seal).
	named []namedChild
}

type namedChild struct {
	key  string
	term *ast.Term // the key as a term, shared by every object converted
	proj *projection
}

// anyKey is the child of a projection that applies to every key or element.
const anyKey = "*"

// wholeProjection is shared by every fully converted subtree.
var wholeProjection = &projection{whole: true}

// child is the projection of key k under p: the named child, else "*".
func (p *projection) child(k string) *projection {
	if p.whole {
		return wholeProjection
	}
	if c, ok := p.children[k]; ok {
		return c
	}
	return p.children[anyKey]
}

// elem is the projection of an array's elements. A policy that indexes an
// array only with string keys reads nothing from it; keep it whole rather
// than reason about that.
func (p *projection) elem() *projection {
	if p.whole {
		return wholeProjection
	}
	if c, ok := p.children[anyKey]; ok {
		return c
	}
	return wholeProjection
}

// unordered reports whether an array at p is only iterated, in contexts
// that cannot observe how often or where an element occurs, so that its
// duplicates can be dropped.
func (p *projection) unordered() bool {
	return !p.whole && !p.ordered && p.children[anyKey] != nil
}

// String lists the projected paths, sorted, as input.a.b / input.c.* lines.
func (p *projection) String() string {
	var lines []string
	var walk func(prefix string, n *projection)
	walk = func(prefix string, n *projection) {
		if n.whole || len(n.children) == 0 {
			lines = append(lines, prefix)
			return
		}
		for k, c := range n.children {
			walk(prefix+"."+k, c)
		}
	}
	walk("input", p)
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// inputProjection computes, from a compiled module, every input path its
// rules can read. It follows local variables that alias input values
// (compiled bodies bind `x = input.a[i]` before `x.b` is read). Anything it
// does not recognise as such a step is treated as a use of the whole value
// it touches, so the result is conservative: a path is dropped only if no
// expression can reach it. A bare `input`, or a `with` modifier (which could
// replace any part of the input), keeps the whole input.
func inputProjection(m *ast.Module) *projection {
	a := &projectionAnalysis{root: &projection{}, constRules: constantRules(m)}
	for _, r := range m.Rules {
		// How often each variable occurs anywhere in the rule (heads, bodies,
		// else branches, comprehensions): an iteration index that occurs once
		// is used for nothing but the iteration.
		a.uses = map[ast.Var]int{}
		ast.WalkVars(r, func(v ast.Var) bool {
			a.uses[v]++
			return false
		})
		for rule := r; rule != nil; rule = rule.Else {
			a.vars = map[ast.Var][][]string{}
			a.consts = map[ast.Var][]ast.Value{}
			// A function's arguments are bound by its caller: `x = input.a`
			// in its body compares, it does not alias.
			a.seen = map[ast.Var]bool{}
			a.see(r.Head.Args)
			a.see(rule.Head.Args)
			a.body(rule.Body)
			a.terms(rule.Head)
		}
	}
	a.root.seal()
	return a.root
}

// seal fills in named below p, once the analysis is complete: projections
// are read-only afterwards, and shared by concurrent encoders.
func (p *projection) seal() {
	if p.whole {
		return
	}
	_, star := p.children[anyKey]
	p.named = nil
	for k, c := range p.children {
		c.seal()
		if !star {
			p.named = append(p.named, namedChild{k, ast.StringTerm(k), c})
		}
	}
	slices.SortFunc(p.named, func(a, b namedChild) int { return strings.Compare(a.key, b.key) })
}

// constantRules maps the path of each rule that is defined once, as a
// ground value with no conditions (`kinds := {...}`), to that value.
func constantRules(m *ast.Module) map[string]ast.Value {
	count := map[string]int{}
	values := map[string]ast.Value{}
	for _, r := range m.Rules {
		path := r.Path().String()
		count[path]++
		if !r.Ref().IsGround() || r.Default || r.Else != nil || len(r.Head.Args) > 0 || r.Head.Key != nil || r.Head.Value == nil ||
			!r.Head.Value.IsGround() || len(r.Body) != 1 || !r.Body[0].Equal(ast.NewExpr(ast.BooleanTerm(true))) {
			continue
		}
		values[path] = r.Head.Value.Value
	}
	for path, n := range count {
		if n != 1 {
			delete(values, path)
		}
	}
	return values
}

type projectionAnalysis struct {
	root       *projection
	constRules map[string]ast.Value
	vars       map[ast.Var][][]string  // local variable -> the input paths it may hold
	consts     map[ast.Var][]ast.Value // local variable -> the constant values it may hold
	seen       map[ast.Var]bool        // variables bound before the current expression
	uses       map[ast.Var]int         // occurrences of each variable in the current rule
	inArray    int                     // depth of array comprehensions around the current expression
}

func (a *projectionAnalysis) see(x any) {
	ast.WalkVars(x, func(v ast.Var) bool {
		a.seen[v] = true
		return false
	})
}

func (a *projectionAnalysis) body(b ast.Body) {
	for _, e := range b {
		a.expr(e)
	}
}

func (a *projectionAnalysis) expr(e *ast.Expr) {
	defer a.see(e)
	if len(e.With) > 0 {
		a.root.whole = true
		return
	}
	// `x = <input ref>` with x not yet bound: x now names that input value.
	// `x = <constant>[k]...` binds x to one of a few known values, which
	// matters when x is then used as a key into input.
	if e.IsEquality() && !e.Negated {
		ops := e.Operands()
		for i := range 2 {
			v, ok := ops[i].Value.(ast.Var)
			if !ok || v.IsWildcard() || a.seen[v] {
				continue
			}
			if paths, ok := a.refPaths(ops[1-i]); ok {
				a.vars[v] = paths
				for _, p := range paths {
					a.need(p, false)
				}
				return
			}
			if vals, ok := a.constValues(ops[1-i]); ok {
				a.consts[v] = vals
				a.terms(ops[1-i]) // its keys may read input
				return
			}
		}
	}
	a.terms(e)
}

// constValues is the set of values t can take if t is ground, a constant
// rule, or a ref into one (a key that is not constant: any element).
func (a *projectionAnalysis) constValues(t *ast.Term) ([]ast.Value, bool) {
	switch v := t.Value.(type) {
	case ast.Var:
		vals, ok := a.consts[v]
		return vals, ok
	case ast.Ref:
		var vals []ast.Value
		rest := v[1:]
		if head, ok := v[0].Value.(ast.Var); ok && a.consts[head] != nil {
			vals = a.consts[head]
		} else {
			// The longest prefix that is a constant rule.
			for n := len(v); n > 0; n-- {
				if c, ok := a.constRules[v[:n].String()]; ok {
					vals, rest = []ast.Value{c}, v[n:]
					break
				}
			}
			if vals == nil {
				return nil, false
			}
		}
		for _, k := range rest {
			keys, known := []ast.Value{k.Value}, k.IsGround()
			if !known {
				keys, known = a.consts[varOf(k)]
			}
			var next []ast.Value
			for _, x := range vals {
				if !known {
					next = append(next, elements(x)...)
					continue
				}
				for _, key := range keys {
					if c, err := x.Find(ast.Ref{ast.NewTerm(key)}); err == nil {
						next = append(next, c)
					}
				}
			}
			vals = next
		}
		return vals, true
	}
	if t.IsGround() {
		return []ast.Value{t.Value}, true
	}
	return nil, false
}

func varOf(t *ast.Term) ast.Var {
	v, _ := t.Value.(ast.Var)
	return v
}

// elements are the values a collection holds (none for a scalar).
func elements(x ast.Value) []ast.Value {
	var out []ast.Value
	switch c := x.(type) {
	case ast.Object:
		c.Foreach(func(_, v *ast.Term) { out = append(out, v.Value) })
	case *ast.Array:
		c.Foreach(func(v *ast.Term) { out = append(out, v.Value) })
	case ast.Set:
		c.Foreach(func(v *ast.Term) { out = append(out, v.Value) })
	}
	return out
}

// terms treats every input reference and aliased variable inside x as a use
// of the whole value, except that comprehension bodies are analysed as
// bodies, so their own aliases are followed.
func (a *projectionAnalysis) terms(x any) {
	ast.WalkTerms(x, func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Var:
			if v.Equal(ast.InputRootDocument.Value) {
				a.root.whole = true
			} else if paths, ok := a.vars[v]; ok {
				for _, p := range paths {
					a.need(p, true)
				}
			}
		case ast.Ref:
			if paths, ok := a.refPaths(t); ok {
				for _, p := range paths {
					a.need(p, true)
				}
				for _, k := range v[1:] {
					a.terms(k) // a key computed from input needs that input too
				}
				return true
			}
		case *ast.ArrayComprehension:
			// Its elements are one per solution of its body: iterations
			// inside it can observe duplicates.
			a.inArray++
			a.terms(v.Term)
			a.body(v.Body)
			a.inArray--
			return true
		case *ast.SetComprehension:
			a.terms(v.Term)
			a.body(v.Body)
			return true
		case *ast.ObjectComprehension:
			a.terms(v.Key)
			a.terms(v.Value)
			a.body(v.Body)
			return true
		}
		return false
	})
}

// refPaths are the input paths t may name if t is a ref rooted at input or
// at a variable aliasing input. A key that is a constant string, or a
// variable known to hold one of a few strings, names those keys; any other
// key is "*".
func (a *projectionAnalysis) refPaths(t *ast.Term) ([][]string, bool) {
	var paths [][]string
	var ref ast.Ref
	switch v := t.Value.(type) {
	case ast.Var:
		p, ok := a.vars[v]
		return p, ok
	case ast.Ref:
		ref = v
	default:
		return nil, false
	}
	head, ok := ref[0].Value.(ast.Var)
	if !ok {
		return nil, false
	}
	if head.Equal(ast.InputRootDocument.Value) {
		paths = [][]string{{}}
	} else if p, ok := a.vars[head]; ok {
		paths = p
	} else {
		return nil, false
	}
	for _, k := range ref[1:] {
		if !a.isIteration(k) {
			for _, p := range paths {
				a.markOrdered(p)
			}
		}
		keys := []string{anyKey}
		if s, ok := k.Value.(ast.String); ok {
			keys = []string{string(s)}
		} else if vals, ok := a.consts[varOf(k)]; ok && len(vals) > 0 {
			keys = nil
			for _, v := range vals {
				s, ok := v.(ast.String)
				if !ok {
					keys = []string{anyKey}
					break
				}
				keys = append(keys, string(s))
			}
		}
		var next [][]string
		for _, p := range paths {
			for _, key := range keys {
				next = append(next, append(slices.Clip(p), key))
			}
		}
		paths = next
	}
	return paths, true
}

// isIteration reports whether key k of a ref only enumerates a collection:
// a variable that occurs nowhere else in the rule, outside any array
// comprehension.
func (a *projectionAnalysis) isIteration(k *ast.Term) bool {
	v, ok := k.Value.(ast.Var)
	return ok && a.uses[v] == 1 && a.inArray == 0
}

// markOrdered records that the order or multiplicity of the elements at
// path may be observed.
func (a *projectionAnalysis) markOrdered(path []string) {
	if n := a.node(path); n != nil {
		n.ordered = true
	}
}

// need marks path as read; whole means everything below it is read too.
func (a *projectionAnalysis) need(path []string, whole bool) {
	if n := a.node(path); n != nil && whole {
		n.whole = true
		n.children = nil
	}
}

// node is path's node in the projection, made if missing; nil when an
// ancestor is read whole already (nothing below it needs recording).
func (a *projectionAnalysis) node(path []string) *projection {
	n := a.root
	for _, k := range path {
		if n.whole {
			return nil
		}
		if n.children == nil {
			n.children = map[string]*projection{}
		}
		c, ok := n.children[k]
		if !ok {
			c = &projection{}
			n.children[k] = c
		}
		n = c
	}
	return n
}

// policyProjection compiles policy p the way prepare does and returns the
// input paths it reads.
func policyProjection(p Policy) (*projection, error) {
	src, err := Source(p)
	if err != nil {
		return nil, err
	}
	m, err := ast.ParseModuleWithOpts(p.File(), src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("policies: parse %s policy: %w", p, err)
	}
	builtins := map[string]*ast.Builtin{sanitizedDecl.Name: {Name: sanitizedDecl.Name, Decl: sanitizedDecl.Decl}}
	c := ast.NewCompiler().WithBuiltins(builtins).WithStrict(true)
	if c.Compile(map[string]*ast.Module{p.File(): m}); c.Failed() {
		return nil, fmt.Errorf("policies: compile %s policy: %w", p, c.Errors)
	}
	return inputProjection(c.Modules[p.File()]), nil
}
