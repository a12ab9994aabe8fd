package envfile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable is one input variable a template declares.
type Variable struct {
	Name     string
	Type     cty.Type // cty.DynamicPseudoType when the template leaves it open
	Required bool     // no default
}

// ReadTemplateVariables reads the variable blocks of every .tf file in a
// template module directory.
func ReadTemplateVariables(dir string) (map[string]Variable, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("listing template %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("template %s: no .tf files", dir)
	}
	sort.Strings(paths)
	parser := hclparse.NewParser()
	schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}}
	varSchema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}}}
	vars := map[string]Variable{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading template: %w", err)
		}
		f, diags := parser.ParseHCL(src, p)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parsing template: %s", diags.Error())
		}
		content, _, diags := f.Body.PartialContent(schema)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parsing template: %s", diags.Error())
		}
		for _, b := range content.Blocks {
			attrs, _, diags := b.Body.PartialContent(varSchema)
			if diags.HasErrors() {
				return nil, fmt.Errorf("parsing template: %s", diags.Error())
			}
			v := Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, Required: true}
			if a, ok := attrs.Attributes["type"]; ok {
				ty, diags := typeexpr.TypeConstraint(a.Expr)
				if diags.HasErrors() {
					return nil, fmt.Errorf("template variable %s: %s", v.Name, diags.Error())
				}
				v.Type = ty
			}
			if _, ok := attrs.Attributes["default"]; ok {
				v.Required = false
			}
			vars[v.Name] = v
		}
	}
	return vars, nil
}

// CheckAgainstTemplate verifies that e's module block fits the template's
// variables: every argument is declared, every required variable is set,
// and each literal value converts to the declared type. Terraform would
// reject a mismatch only at plan time in the administrative stack; here it
// is refused before anything is committed.
func CheckAgainstTemplate(e Environment, vars map[string]Variable) error {
	var problems []string
	args := argsOf(e)
	for _, name := range args {
		if name == "source" {
			continue
		}
		v, ok := vars[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("argument %s is not a variable of the template", name))
			continue
		}
		if name == "shared" {
			continue // a traversal, typed by the environments module's own variable
		}
		if _, err := convert.Convert(valueOf(e, name), v.Type); err != nil {
			problems = append(problems, fmt.Sprintf("argument %s does not fit type %s: %v", name, v.Type.FriendlyName(), err))
		}
	}
	var names []string
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if vars[name].Required && !slices.Contains(args, name) {
			problems = append(problems, fmt.Sprintf("template variable %s is required but previewctl does not set it", name))
		}
	}
	if len(problems) > 0 && e.OnDemand() {
		// A template from before on-demand environments: it has no kind
		// and name, and requires the pr_* variables.
		return fmt.Errorf("on-demand environment does not fit the template (does it declare kind and name, with pr_* optional?): %s", strings.Join(problems, "; "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("environment does not fit the template: %s", strings.Join(problems, "; "))
	}
	return nil
}
