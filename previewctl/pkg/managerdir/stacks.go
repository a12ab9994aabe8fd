package managerdir

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"preview-environments/previewctl/pkg/envfile"
)

// Stack is one Spacelift stack of an environment, as the service's
// template (manager/<service>/template) creates it.
type Stack struct {
	// ID is the stack's ID: Spacelift's slug of Name.
	ID string `json:"id"`
	// Name is the template's name of the stack.
	Name string `json:"name"`
	// Role is the spacelift_stack resource's name, "this" shown as
	// "service"; one of several count instances adds "[index]".
	Role string `json:"role"`
	// ProjectRoot is the stack's folder of the repository ("" for its root).
	ProjectRoot string `json:"project_root"`
	// DependsOn are the IDs of the stacks this one depends on
	// (spacelift_stack_dependency), empty when none.
	DependsOn []string `json:"depends_on"`
}

// Options say where the manager's own variables (manager/variables.tf)
// get values besides their defaults, as on the manager stack.
type Options struct {
	// Vars are values as `tofu -var name=value` gives them; they win over
	// tfvars files and TF_VAR_*.
	Vars map[string]string
	// LookupEnv reads TF_VAR_<name>, the way the manager stack's variables
	// reach its runs; nil reads none.
	LookupEnv func(key string) (string, bool)
}

// ErrUndeclaredVar means Options.Vars names a variable the manager does
// not declare (OpenTofu refuses such a -var too).
var ErrUndeclaredVar = errors.New("the manager declares no such variable")

// Manager is a manager directory read for offline evaluation of its
// services' templates. It is safe for concurrent use.
type Manager struct {
	dir       string
	mod       *module
	mu        sync.Mutex // guards the scopes' caches
	root      *scope
	templates map[string]*Template
}

// OpenManager reads the manager's own .tf files and tfvars. A directory
// without them is an empty manager: a template that needs its variables
// fails when it does.
func OpenManager(dir string, opts Options) (*Manager, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("manager dir: %w", err)
	}
	mod, err := parseModule(dir, nil)
	if err != nil {
		return nil, err
	}
	for name := range opts.Vars {
		if _, ok := mod.vars[name]; !ok {
			return nil, fmt.Errorf("--var %s: %w (%s)", name, ErrUndeclaredVar, dir)
		}
	}
	tfvars, tfvarsFrom, err := readTfvars(dir)
	if err != nil {
		return nil, err
	}
	in := func(name string) (cty.Value, string, bool) {
		d := mod.vars[name]
		if raw, ok := opts.Vars[name]; ok {
			return rawValue(d, raw, "--var "+name), "--var " + name, true
		}
		if v, ok := tfvars[name]; ok {
			return v, tfvarsFrom[name], true
		}
		if opts.LookupEnv != nil {
			if raw, ok := opts.LookupEnv("TF_VAR_" + name); ok {
				return rawValue(d, raw, "TF_VAR_"+name), "TF_VAR_" + name, true
			}
		}
		return cty.NilVal, "", false
	}
	unset := func(name string) string {
		return fmt.Sprintf("neither --var %s=... nor TF_VAR_%s sets it here (the manager stack does)", name, name)
	}
	return &Manager{dir: dir, mod: mod, root: newScope(mod, "the manager", in, unset), templates: map[string]*Template{}}, nil
}

// Template is one service's template, parsed once for all its environments.
type Template struct {
	m       *Manager
	service string
	mod     *module
	envs    *scope // manager/<service>/environments, whose var.shared each environment file passes on
}

// Template reads manager/<service>/template and what feeds its var.shared:
// manager/<service>/environments, manager/<service> and the manager's call
// of it.
func (m *Manager) Template(service string) (*Template, error) {
	if err := envfile.ValidateService(service); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.templates[service]; ok {
		return t, nil
	}
	tdir := envfile.TemplateDir(m.dir, service)
	if st, err := os.Stat(tdir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w at %s", envfile.ErrNoTemplate, tdir)
	}
	tmod, err := parseModule(tdir, nil)
	if err != nil {
		return nil, err
	}
	if len(tmod.src) == 0 {
		return nil, fmt.Errorf("template %s: no .tf files", tdir)
	}
	sdir, edir := filepath.Join(m.dir, service), envfile.EnvironmentsDir(m.dir, service)
	smod, err := parseModule(sdir, nil)
	if err != nil {
		return nil, err
	}
	emod, err := parseModule(edir, func(base string) bool { return !envfile.IsEnvFileName(base) })
	if err != nil {
		return nil, err
	}
	scall, err := m.mod.callOf(sdir)
	if err != nil {
		return nil, err
	}
	ecall, err := smod.callOf(edir)
	if err != nil {
		return nil, err
	}
	svc := newScope(smod, "module "+callName(scall, service),
		callerInput(m.root, scall, fmt.Sprintf("no module block of %s has source \"./%s\"", m.dir, service)), unsetBy(scall))
	envs := newScope(emod, "module "+callName(ecall, "environments"),
		callerInput(svc, ecall, fmt.Sprintf("no module block of %s has source \"./environments\"", sdir)), unsetBy(ecall))
	t := &Template{m: m, service: service, mod: tmod, envs: envs}
	m.templates[service] = t
	return t, nil
}

func callName(c *call, dir string) string {
	if c == nil {
		return "./" + dir
	}
	return c.name
}

func unsetBy(c *call) func(string) string {
	return func(string) string {
		if c == nil {
			return "no module block calls it"
		}
		return fmt.Sprintf("module %q (%s) does not set it", c.name, pos(c.rng))
	}
}

// Stacks evaluates the template for e: every spacelift_stack instance
// (name, count, project_root) and the spacelift_stack_dependency edges
// between them, dependencies before their dependents. Anything the
// expressions need that is not known offline fails with the file, line
// and expression.
func (t *Template) Stacks(e envfile.Environment) ([]Stack, error) {
	if e.Service != t.service {
		return nil, fmt.Errorf("environment %s is of service %q, not %q", e.ID, e.Service, t.service)
	}
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	vals := fileValues(e)
	in := func(name string) (cty.Value, string, bool) {
		if name == "shared" { // the file's shared = var.shared
			return t.envs.variable("shared"), "var.shared of " + t.envs.what, true
		}
		v, ok := vals[name]
		return v, "the environment file", ok
	}
	s := newScope(t.mod, "the template", in, func(string) string { return "the environment file does not set it" })

	var stacks []Stack
	instances := map[string]cty.Value{}
	for _, r := range t.mod.res {
		if r.typ != stackType {
			continue
		}
		n, counted, err := s.count(r)
		if err != nil {
			return nil, err
		}
		var objs []cty.Value
		for i := range n {
			extra := countIndex(counted, i)
			name, err := s.str(r, "name", extra, false)
			if err != nil {
				return nil, err
			}
			root := ""
			if _, ok := r.attrs["project_root"]; ok {
				if root, err = s.str(r, "project_root", extra, true); err != nil {
					return nil, err
				}
			}
			id := slug(name)
			if id == "" {
				return nil, fmt.Errorf("%s: %s.%s's name %q has no letter or digit to make an ID of", pos(r.attrs["name"].Expr.Range()), r.typ, r.name, name)
			}
			for _, o := range stacks {
				if o.ID == id {
					return nil, fmt.Errorf("%s: %s.%s's name %q gives the ID %s, as the %s stack's %q does", pos(r.attrs["name"].Expr.Range()), r.typ, r.name, name, id, o.Role, o.Name)
				}
			}
			role := r.name
			if role == "this" {
				role = "service"
			}
			if n > 1 {
				role = fmt.Sprintf("%s[%d]", role, i)
			}
			stacks = append(stacks, Stack{ID: id, Name: name, Role: role, ProjectRoot: root, DependsOn: []string{}})
			objs = append(objs, cty.ObjectVal(map[string]cty.Value{
				"id": cty.StringVal(id), "name": cty.StringVal(name), "project_root": cty.StringVal(root),
			}))
		}
		switch {
		case !counted:
			instances[r.name] = objs[0]
		case len(objs) == 0:
			instances[r.name] = cty.EmptyTupleVal
		default:
			instances[r.name] = cty.TupleVal(objs)
		}
	}

	refs := cty.EmptyObjectVal
	if len(instances) > 0 {
		refs = cty.ObjectVal(instances)
	}
	for _, r := range t.mod.res {
		if r.typ != dependencyType {
			continue
		}
		n, counted, err := s.count(r)
		if err != nil {
			return nil, err
		}
		for i := range n {
			extra := countIndex(counted, i)
			extra[stackType] = refs
			from, err := s.str(r, "stack_id", extra, false)
			if err != nil {
				return nil, err
			}
			to, err := s.str(r, "depends_on_stack_id", extra, false)
			if err != nil {
				return nil, err
			}
			j := -1
			for k := range stacks {
				if stacks[k].ID == from {
					j = k
				}
			}
			if j < 0 {
				return nil, fmt.Errorf("%s: %s.%s's stack_id %q is not a stack of the template", pos(r.attrs["stack_id"].Expr.Range()), r.typ, r.name, from)
			}
			if !contains(stacks[j].DependsOn, to) {
				stacks[j].DependsOn = append(stacks[j].DependsOn, to)
			}
		}
	}
	return order(stacks)
}

// maxCount bounds a count evaluated offline.
const maxCount = 1000

// count is a resource's number of instances: 1 without count.
func (s *scope) count(r *resource) (n int, counted bool, err error) {
	a, ok := r.attrs["count"]
	if !ok {
		return 1, false, nil
	}
	v, err := s.known(r, "count", nil)
	if err != nil {
		return 0, true, err
	}
	if v, err = convert.Convert(v, cty.Number); err != nil || v.IsNull() {
		return 0, true, fmt.Errorf("%s: %s.%s's count = %s is not a number", pos(a.Expr.Range()), r.typ, r.name, s.mod.text(a.Expr.Range()))
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i < 0 || i > maxCount {
		return 0, true, fmt.Errorf("%s: %s.%s's count = %s is %s, not a whole number from 0 to %d", pos(a.Expr.Range()), r.typ, r.name, s.mod.text(a.Expr.Range()), bf.Text('g', 10), maxCount)
	}
	return int(i), true, nil
}

func countIndex(counted bool, i int) map[string]cty.Value {
	extra := map[string]cty.Value{}
	if counted {
		extra["count"] = cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})
	}
	return extra
}

// known evaluates a resource's attribute, which must be wholly known.
func (s *scope) known(r *resource, attr string, extra map[string]cty.Value) (cty.Value, error) {
	a := r.attrs[attr]
	v, diags := s.eval(a.Expr, extra)
	fail := func(why string) error {
		return fmt.Errorf("%s: cannot evaluate %s.%s's %s = %s offline: %s", pos(a.Expr.Range()), r.typ, r.name, attr, s.mod.text(a.Expr.Range()), why)
	}
	if diags.HasErrors() {
		return cty.NilVal, fail(diagErrorAt(diags, a.Expr.Range()).Error())
	}
	raw, marks := v.UnmarkDeep()
	if !raw.IsWhollyKnown() {
		return cty.NilVal, fail(reasons(marks))
	}
	return raw, nil
}

// str is a string attribute; null is "" when nullOK.
func (s *scope) str(r *resource, attr string, extra map[string]cty.Value, nullOK bool) (string, error) {
	v, err := s.known(r, attr, extra)
	if err != nil {
		return "", err
	}
	a := r.attrs[attr]
	if v.IsNull() {
		if nullOK {
			return "", nil
		}
		return "", fmt.Errorf("%s: %s.%s's %s = %s is null", pos(a.Expr.Range()), r.typ, r.name, attr, s.mod.text(a.Expr.Range()))
	}
	if v, err = convert.Convert(v, cty.String); err != nil {
		return "", fmt.Errorf("%s: %s.%s's %s = %s is not a string: %v", pos(a.Expr.Range()), r.typ, r.name, attr, s.mod.text(a.Expr.Range()), err)
	}
	return v.AsString(), nil
}

// order puts every stack after the stacks of the template it depends on,
// otherwise keeping the template's order.
func order(stacks []Stack) ([]Stack, error) {
	index := map[string]int{}
	for i, s := range stacks {
		index[s.ID] = i
	}
	placed := make([]bool, len(stacks))
	out := make([]Stack, 0, len(stacks))
	for len(out) < len(stacks) {
		next := -1
		for i, s := range stacks {
			if placed[i] {
				continue
			}
			ready := true
			for _, d := range s.DependsOn {
				if j, ours := index[d]; ours && !placed[j] {
					ready = false
				}
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			var left []string
			for i, s := range stacks {
				if !placed[i] {
					left = append(left, s.ID)
				}
			}
			return nil, fmt.Errorf("the template's spacelift_stack_dependency resources make a cycle of stacks: %s", strings.Join(left, ", "))
		}
		placed[next] = true
		out = append(out, stacks[next])
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// slug is the stack ID Spacelift derives from a name: lowercase, each run
// of other characters one "-", no "-" at either end.
func slug(name string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// fileValues are the template variables e's environment file sets, as
// Terraform reads them (var.shared aside): the arguments of envfile's
// rendering, by name.
func fileValues(e envfile.Environment) map[string]cty.Value {
	v := map[string]cty.Value{
		"environment_id": cty.StringVal(e.ID),
		"service":        cty.StringVal(e.Service),
		"code_version":   cty.StringVal(e.CodeVersion),
		"infra_branch":   cty.StringVal(e.InfraBranch),
		"created_at":     cty.StringVal(e.CreatedAt.UTC().Format(time.RFC3339)),
		"expires_at":     cty.StringVal(e.ExpiresAt.UTC().Format(time.RFC3339)),
	}
	if e.OnDemand() {
		v["kind"] = cty.StringVal(envfile.KindOnDemand)
		v["name"] = cty.StringVal(e.Name)
	} else {
		v["pr_owner"] = cty.StringVal(e.Owner)
		v["pr_repository"] = cty.StringVal(e.Repo)
		v["pr_number"] = cty.NumberIntVal(int64(e.PR))
	}
	return v
}
