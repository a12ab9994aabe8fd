package tfcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Variable is one declared input variable with what is needed to check a
// value against it.
type Variable struct {
	Name        string
	Type        cty.Type
	HasDefault  bool
	Validations []Validation
}

// Validation is one validation block of a variable.
type Validation struct {
	Condition hclsyntax.Expression
	Message   string
}

// Variables parses the variable blocks of the module in dir.
func Variables(dir string) (map[string]*Variable, error) {
	m, err := ParseModule(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*Variable{}
	for _, b := range m.Blocks("variable") {
		if len(b.Labels) != 1 {
			return nil, fmt.Errorf("%s: variable block needs one name", at(b.DefRange()))
		}
		v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType}
		if a, ok := b.Body.Attributes["type"]; ok {
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s: variable %q type: %w", at(a.SrcRange), v.Name, diags)
			}
			v.Type = ty
		}
		_, v.HasDefault = b.Body.Attributes["default"]
		for _, vb := range b.Body.Blocks {
			if vb.Type != "validation" {
				continue
			}
			cond, ok := vb.Body.Attributes["condition"]
			if !ok {
				return nil, fmt.Errorf("%s: variable %q: validation without condition", at(vb.DefRange()), v.Name)
			}
			msg, err := literalString(vb.Body.Attributes["error_message"])
			if err != nil {
				return nil, fmt.Errorf("variable %q: error_message: %w", v.Name, err)
			}
			v.Validations = append(v.Validations, Validation{Condition: cond.Expr, Message: msg})
		}
		out[v.Name] = v
	}
	return out, nil
}

// validationFuncs are the Terraform functions the modules' validations use;
// they come from the same cty stdlib Terraform and OpenTofu build on.
var validationFuncs = map[string]function.Function{
	"can":        tryfunc.CanFunc,
	"contains":   stdlib.ContainsFunc,
	"floor":      stdlib.FloorFunc,
	"formatdate": stdlib.FormatDateFunc,
	"length":     stdlib.LengthFunc,
	"regex":      stdlib.RegexFunc,
}

// Validate converts value to the variable's type and runs its validation
// conditions, as terraform plan would.
func (v *Variable) Validate(value cty.Value) error {
	got, err := convert.Convert(value, v.Type)
	if err != nil {
		return fmt.Errorf("variable %q: want %s: %w", v.Name, v.Type.FriendlyName(), err)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: got})},
		Functions: validationFuncs,
	}
	for _, val := range v.Validations {
		res, diags := val.Condition.Value(ctx)
		if diags.HasErrors() {
			return fmt.Errorf("variable %q: evaluating validation: %w", v.Name, diags)
		}
		if res.IsNull() || !res.Type().Equals(cty.Bool) || res.False() {
			return fmt.Errorf("variable %q = %s: %s", v.Name, value.GoString(), val.Message)
		}
	}
	return nil
}

// EnvironmentID is the contract's ID: the first 8 hex characters of
// sha256(lower(owner)/lower(repo)#N).
func EnvironmentID(owner, repo string, number int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s#%d", strings.ToLower(owner), strings.ToLower(repo), number)))
	return hex.EncodeToString(sum[:])[:8]
}

// OnDemandID is the contract's ID of an on-demand environment: "o" and the
// first 7 hex characters of sha256("ondemand:" + name). Its first character
// is not a hex digit, so it is never a PR's ID.
func OnDemandID(name string) string {
	sum := sha256.Sum256([]byte("ondemand:" + name))
	return "o" + hex.EncodeToString(sum[:])[:7]
}

var (
	envFileName      = regexp.MustCompile(`^(.+)-([0-9]+)-([0-9a-f]{8})\.tf$`)
	onDemandFileName = regexp.MustCompile(`^ondemand-([a-z][a-z0-9-]{1,38}[a-z0-9])-(o[0-9a-f]{7})\.tf$`)
)

// CheckEnvironmentFile checks that the file at path is a valid instance of
// the template whose variables are given: exactly one module "env_<id>"
// block, source "../template", every variable passed as a literal (shared as
// var.shared) and accepted by the variable's own type and validations, the
// ID derived from owner, repository and number (or, for kind = "ondemand",
// from name), and the file named after them.
func CheckEnvironmentFile(path string, template map[string]*Variable) error {
	f, err := ParseFile(path)
	if err != nil {
		return err
	}
	if len(f.Body.Attributes) > 0 || len(f.Body.Blocks) != 1 || f.Body.Blocks[0].Type != "module" {
		return fmt.Errorf("%s: must hold exactly one module block and nothing else", path)
	}
	b := f.Body.Blocks[0]
	if len(b.Labels) != 1 || !strings.HasPrefix(b.Labels[0], "env_") {
		return fmt.Errorf("%s: the module must be named env_<environment id>", at(b.DefRange()))
	}
	src, err := literalString(b.Body.Attributes["source"])
	if err != nil || src != "../template" {
		return fmt.Errorf("%s: source must be the literal \"../template\"", at(b.DefRange()))
	}
	if len(b.Body.Blocks) > 0 {
		return fmt.Errorf("%s: nested blocks are not allowed in an environment file", at(b.Body.Blocks[0].DefRange()))
	}
	var errs []error
	values := map[string]cty.Value{}
	for name, a := range b.Body.Attributes {
		if name == "source" {
			continue
		}
		v, ok := template[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown argument %q: the template declares no such variable", at(a.SrcRange), name))
			continue
		}
		if name == "shared" {
			if !isTraversal(a.Expr, "var", "shared") {
				errs = append(errs, fmt.Errorf("%s: shared must be exactly var.shared", at(a.SrcRange)))
			}
			continue
		}
		// Literals only: a reference or function call could smuggle in
		// anything the manager stack can see.
		if len(a.Expr.Variables()) > 0 || hasCall(a.Expr) {
			errs = append(errs, fmt.Errorf("%s: %q must be a literal value", at(a.SrcRange), name))
			continue
		}
		val, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			errs = append(errs, fmt.Errorf("%s: %q: %w", at(a.SrcRange), name, diags))
			continue
		}
		if err := v.Validate(val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at(a.SrcRange), err))
			continue
		}
		values[name] = val
	}
	var missing []string
	for name, v := range template {
		if _, ok := b.Body.Attributes[name]; !ok && !v.HasDefault {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		errs = append(errs, fmt.Errorf("%s: missing argument %q", at(b.DefRange()), name))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return checkIdentity(path, b.Labels[0], values)
}

func checkIdentity(path, label string, values map[string]cty.Value) error {
	str := func(k string) string {
		v, ok := values[k]
		if !ok || !v.Type().Equals(cty.String) {
			return ""
		}
		return v.AsString()
	}
	id, owner, repo := str("environment_id"), str("pr_owner"), str("pr_repository")
	if label != "env_"+id {
		return fmt.Errorf("%s: module is named %q but environment_id is %q", path, label, id)
	}
	if kind := str("kind"); kind == "ondemand" {
		return checkOnDemandIdentity(path, id, str("name"), values)
	} else if _, set := values["kind"]; set {
		// A PR's file leaves kind to its default, as previewctl writes it.
		return fmt.Errorf("%s: kind %q: a PR environment's file sets no kind; an on-demand one sets \"ondemand\"", path, kind)
	}
	if _, set := values["name"]; set {
		return fmt.Errorf("%s: name is set, but only an on-demand environment (kind = \"ondemand\") has one", path)
	}
	nv, ok := values["pr_number"]
	if !ok || id == "" || owner == "" || repo == "" {
		return fmt.Errorf("%s: environment_id, pr_owner, pr_repository and pr_number are needed to check the identity", path)
	}
	numVal, err := convert.Convert(nv, cty.Number)
	if err != nil {
		return fmt.Errorf("%s: pr_number: %w", path, err)
	}
	bf := numVal.AsBigFloat()
	n64, _ := bf.Int64()
	n := int(n64)
	if want := EnvironmentID(owner, repo, n); id != want {
		return fmt.Errorf("%s: environment_id %q is not the ID of %s/%s#%d (%s)", path, id, owner, repo, n, want)
	}
	wantName := fmt.Sprintf("%s-%s-%s-%s.tf", strings.ToLower(owner), strings.ToLower(repo), strconv.Itoa(n), id)
	if base := filepath.Base(path); base != wantName || !envFileName.MatchString(base) {
		return fmt.Errorf("%s: file must be named %s", path, wantName)
	}
	return nil
}

// checkOnDemandIdentity checks an on-demand environment's file: a name and
// no pr_* arguments, the ID the name derives, the file named after both.
func checkOnDemandIdentity(path, id, name string, values map[string]cty.Value) error {
	var errs []error
	for _, k := range []string{"pr_owner", "pr_repository", "pr_number"} {
		if _, set := values[k]; set {
			errs = append(errs, fmt.Errorf("%s: %s is set, but an on-demand environment belongs to no PR", path, k))
		}
	}
	if name == "" {
		errs = append(errs, fmt.Errorf("%s: an on-demand environment needs a name", path))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if want := OnDemandID(name); id != want {
		return fmt.Errorf("%s: environment_id %q is not the ID of on-demand environment %s (%s)", path, id, name, want)
	}
	wantName := fmt.Sprintf("ondemand-%s-%s.tf", name, id)
	if base := filepath.Base(path); base != wantName || !onDemandFileName.MatchString(base) {
		return fmt.Errorf("%s: file must be named %s", path, wantName)
	}
	return nil
}

func isTraversal(e hclsyntax.Expression, names ...string) bool {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return false
	}
	got := traversalNames(st.Traversal)
	return len(got) == len(st.Traversal) && strings.Join(got, ".") == strings.Join(names, ".")
}

func hasCall(e hclsyntax.Expression) bool {
	found := false
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}

// StackVariables returns the keys of the object in `locals { tf_vars = {...} }`
// of the module in dir: the TF_VAR_* names it sets on a stack.
func StackVariables(dir string) ([]string, error) {
	m, err := ParseModule(dir)
	if err != nil {
		return nil, err
	}
	for _, b := range m.Blocks("locals") {
		a, ok := b.Body.Attributes["tf_vars"]
		if !ok {
			continue
		}
		obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil, fmt.Errorf("%s: local.tf_vars must be an object literal", at(a.SrcRange))
		}
		var out []string
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || !k.Type().Equals(cty.String) {
				return nil, fmt.Errorf("%s: local.tf_vars keys must be literal names", at(item.KeyExpr.Range()))
			}
			out = append(out, k.AsString())
		}
		sort.Strings(out)
		return out, nil
	}
	return nil, fmt.Errorf("%s: no local.tf_vars", dir)
}

// CheckStackVariables checks that the TF_VAR_* names a module sets (its
// local.tf_vars) cover every required variable of the root the stack runs,
// and name no variable that root does not declare.
func CheckStackVariables(setterDir, rootDir string) error {
	names, err := StackVariables(setterDir)
	if err != nil {
		return err
	}
	vars, err := Variables(rootDir)
	if err != nil {
		return err
	}
	var errs []error
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
		if _, ok := vars[n]; !ok {
			errs = append(errs, fmt.Errorf("%s sets TF_VAR_%s, but %s declares no variable %q", setterDir, n, rootDir, n))
		}
	}
	for _, n := range keys(vars) {
		if !set[n] && !vars[n].HasDefault {
			errs = append(errs, fmt.Errorf("%s does not set TF_VAR_%s, which %s requires", setterDir, n, rootDir))
		}
	}
	return errors.Join(errs...)
}
