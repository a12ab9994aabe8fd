package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ErrNoTemplate means manager/<service>/template does not exist.
var ErrNoTemplate = errors.New("no template")

// Prepare checks e against a manager directory before it is written: the
// template's variables must fit, no other PR (or on-demand name) may hold
// e's ID, and when the PR (or name) already has an environment its
// created-at is kept (a render renews the
// TTL, it does not reset the age). It returns e as it should be rendered.
func Prepare(managerDir string, e Environment) (Environment, error) {
	tdir := TemplateDir(managerDir, e.Service)
	if st, err := os.Stat(tdir); err != nil || !st.IsDir() {
		return e, fmt.Errorf("%w at %s", ErrNoTemplate, tdir)
	}
	vars, err := ReadTemplateVariables(tdir)
	if err != nil {
		return e, err
	}
	if err := CheckAgainstTemplate(e, vars); err != nil {
		return e, err
	}
	edir := EnvironmentsDir(managerDir, e.Service)
	if err := checkClaims(edir, e); err != nil {
		return e, err
	}
	existing, _ := ReadDir(edir)
	if err := CheckCollision(e, existing); err != nil {
		return e, err
	}
	for _, o := range existing {
		if o.Key() == e.Key() && o.CreatedAt.Before(e.CreatedAt) {
			e.CreatedAt = o.CreatedAt
		}
	}
	return e, e.Validate()
}

// checkClaims looks at every .tf file in the environments directory, not
// only well-formed environment files: any module block that claims e's ID
// (by label or environment_id) for another PR or on-demand name, or any
// other file using
// e's module name, would collide in the manager's Terraform. Files are
// read leniently here, because a hand-edited or forged file is exactly what
// must not slip through.
func checkClaims(dir string, e Environment) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("reading %s: %w", p, err)
		}
		file, diags := hclparse.NewParser().ParseHCL(src, p)
		body, ok := file.Body.(*hclsyntax.Body)
		if diags.HasErrors() || !ok {
			if bytes.Contains(src, []byte(e.ID)) && filepath.Base(p) != FileName(e) {
				return fmt.Errorf("%w: %s mentions ID %s but cannot be parsed", ErrCollision, p, e.ID)
			}
			continue
		}
		for _, blk := range body.Blocks {
			if blk.Type != "module" || len(blk.Labels) != 1 {
				continue
			}
			claims := blk.Labels[0] == ModuleName(e)
			lit := func(name string) (cty.Value, bool) {
				a, ok := blk.Body.Attributes[name]
				if !ok {
					return cty.NilVal, false
				}
				v, diags := a.Expr.Value(nil)
				return v, !diags.HasErrors() && v.IsKnown() && !v.IsNull()
			}
			if v, ok := lit("environment_id"); ok && v.Type() == cty.String && v.AsString() == e.ID {
				claims = true
			}
			if !claims {
				continue
			}
			var same bool
			if e.OnDemand() {
				kind, ok1 := lit("kind")
				name, ok2 := lit("name")
				same = ok1 && ok2 && kind.Type() == cty.String && name.Type() == cty.String &&
					kind.AsString() == KindOnDemand && name.AsString() == e.Name
			} else {
				owner, ok1 := lit("pr_owner")
				repo, ok2 := lit("pr_repository")
				num, ok3 := lit("pr_number")
				_, hasKind := blk.Body.Attributes["kind"]
				same = ok1 && ok2 && ok3 && !hasKind && owner.Type() == cty.String && repo.Type() == cty.String && num.Type() == cty.Number &&
					strings.EqualFold(owner.AsString(), e.Owner) && strings.EqualFold(repo.AsString(), e.Repo) &&
					isInt(num, e.PR)
			}
			if !same || filepath.Base(p) != FileName(e) {
				return fmt.Errorf("%w: %s:%d claims ID %s, which %s needs", ErrCollision, p, blk.TypeRange.Start.Line, e.ID, e.Key())
			}
		}
	}
	return nil
}

func isInt(v cty.Value, n int) bool {
	i, acc := v.AsBigFloat().Int64()
	return acc == big.Exact && i == int64(n)
}
