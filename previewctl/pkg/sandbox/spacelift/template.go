package spacelift

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"preview-environments/previewctl/pkg/envfile"
)

// Shared is the manager's var.shared: what every environment of a service
// has in common. The sandbox fills it with its own names.
type Shared struct {
	ManagerStackID   string `cty:"manager_stack_id"`
	SpaceID          string `cty:"space_id"`
	Repository       string `cty:"repository"`
	DomainName       string `cty:"domain_name"`
	HostedZoneID     string `cty:"hosted_zone_id"`
	CertificateARN   string `cty:"certificate_arn"`
	PushPolicyID     string `cty:"push_policy_id"`
	AWSIntegrationID string `cty:"aws_integration_id"`
	ArtifactBucket   string `cty:"artifact_bucket"`
	AWSRegion        string `cty:"aws_region"`
	OpenTofuVersion  string `cty:"opentofu_version"`
}

func (s Shared) value() (cty.Value, error) {
	ty, err := gocty.ImpliedType(s)
	if err != nil {
		return cty.NilVal, err
	}
	return gocty.ToCtyValue(s, ty)
}

// desiredStack is what the template declares for one environment.
type desiredStack struct {
	Stack       Stack
	Destructor  bool
	NotEmulated []string // resources the sandbox records but does not model
}

// tree is a directory's files in memory, keyed by slash-separated path
// relative to the directory.
type tree map[string][]byte

// readTreeDir loads a directory from disk as a tree.
func readTreeDir(dir string) (tree, error) {
	t := tree{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		t[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read manager directory: %w", err)
	}
	return t, nil
}

// subtree returns the files under prefix/, keyed relative to it.
func (t tree) subtree(prefix string) tree {
	out := tree{}
	for name, b := range t {
		if rest, ok := strings.CutPrefix(name, prefix+"/"); ok {
			out[rest] = b
		}
	}
	return out
}

// files returns the names of the files directly in t (not in folders), sorted.
func (t tree) files() []string {
	var out []string
	for name := range t {
		if !strings.Contains(name, "/") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// serviceDirs lists manager/<service>/ folders that have a template and an
// environments folder: the services this manager manages.
func serviceDirs(t tree) []string {
	seen := map[string]bool{}
	for name := range t {
		parts := strings.Split(name, "/")
		if len(parts) >= 3 && (parts[1] == "template" || parts[1] == "environments") {
			seen[parts[0]] = true
		}
	}
	var out []string
	for svc := range seen {
		if len(t.subtree(svc+"/template").files()) > 0 && len(t.subtree(svc+"/environments")) > 0 {
			out = append(out, svc)
		}
	}
	sort.Strings(out)
	return out
}

// evalTemplate evaluates the template module for one environment file, as
// Terraform would instantiate `module "env_<id>"`: the stack, its variables
// (for_each included), its policy attachments and its destructor.
func evalTemplate(tpl *module, env envfile.Environment, shared Shared, policyNames map[string]string) (desiredStack, error) {
	var out desiredStack
	sv, err := shared.value()
	if err != nil {
		return out, fmt.Errorf("shared settings: %w", err)
	}
	inputs := map[string]cty.Value{
		"environment_id": cty.StringVal(env.ID),
		"service":        cty.StringVal(env.Service),
		"pr_owner":       cty.StringVal(env.Owner),
		"pr_repository":  cty.StringVal(env.Repo),
		"pr_number":      cty.NumberIntVal(int64(env.PR)),
		"code_version":   cty.StringVal(env.CodeVersion),
		"infra_branch":   cty.StringVal(env.InfraBranch),
		"created_at":     cty.StringVal(env.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")),
		"expires_at":     cty.StringVal(env.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")),
		"shared":         sv,
	}
	vars, err := tpl.variableValues(inputs)
	if err != nil {
		return out, err
	}
	ctx := tpl.evalContext(vars)

	stacks := tpl.blocks("resource", "spacelift_stack")
	if len(stacks) != 1 {
		return out, fmt.Errorf("template %s: want exactly one spacelift_stack, found %d", tpl.dir, len(stacks))
	}
	sb := stacks[0]
	st := Stack{EnvironmentID: env.ID, Service: env.Service, ManagedBy: shared.ManagerStackID, Env: map[string]string{}}
	for _, f := range []struct {
		name string
		dst  *string
		def  string
	}{
		{"name", &st.Name, ""}, {"description", &st.Description, ""}, {"repository", &st.Repository, ""},
		{"branch", &st.Branch, ""}, {"project_root", &st.ProjectRoot, ""},
	} {
		v, err := attrString(sb.Body, f.name, ctx, f.def)
		if err != nil {
			return out, fmt.Errorf("%s spacelift_stack.%s: %w", where(sb), sb.Labels[1], err)
		}
		*f.dst = v
	}
	if st.Name == "" || st.Branch == "" || st.Repository == "" {
		return out, fmt.Errorf("%s spacelift_stack.%s: name, repository and branch are required", where(sb), sb.Labels[1])
	}
	if a, ok := sb.Body.Attributes["labels"]; ok {
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			return out, fmt.Errorf("%s spacelift_stack labels: %s", where(sb), diags.Error())
		}
		lv, err := convert.Convert(v, cty.List(cty.String))
		if err != nil {
			return out, fmt.Errorf("%s spacelift_stack labels: %w", where(sb), err)
		}
		for it := lv.ElementIterator(); it.Next(); {
			_, e := it.Element()
			st.Labels = append(st.Labels, e.AsString())
		}
	}
	if ad, err := attrString(sb.Body, "autodeploy", ctx, "false"); err == nil {
		st.Autodeploy = ad == "true"
	}
	st.ID = Slug(st.Name)
	ctx.Variables["spacelift_stack"] = cty.ObjectVal(map[string]cty.Value{
		sb.Labels[1]: cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(st.ID), "name": cty.StringVal(st.Name)}),
	})

	for _, b := range tpl.resources {
		if b.Type != "resource" || b.Labels[0] == "spacelift_stack" {
			continue
		}
		switch b.Labels[0] {
		case "spacelift_environment_variable":
			if err := forEach(b, ctx, func(ctx *hcl.EvalContext) error {
				name, err := attrString(b.Body, "name", ctx, "")
				if err != nil {
					return err
				}
				value, err := attrString(b.Body, "value", ctx, "")
				if err != nil {
					return err
				}
				st.Env[name] = value
				return nil
			}); err != nil {
				return out, fmt.Errorf("%s spacelift_environment_variable.%s: %w", where(b), b.Labels[1], err)
			}
		case "spacelift_policy_attachment":
			id, err := attrString(b.Body, "policy_id", ctx, "")
			if err != nil {
				return out, fmt.Errorf("%s spacelift_policy_attachment.%s: %w", where(b), b.Labels[1], err)
			}
			name, ok := policyNames[id]
			if !ok {
				return out, fmt.Errorf("%s spacelift_policy_attachment.%s: policy %q is not one the sandbox has", where(b), b.Labels[1], id)
			}
			st.Policies = append(st.Policies, name)
		case "spacelift_stack_destructor":
			out.Destructor = true
		default:
			out.NotEmulated = append(out.NotEmulated, b.Labels[0]+"."+b.Labels[1])
		}
	}
	sort.Strings(st.Policies)
	out.Stack = st
	return out, nil
}

// forEach calls fn once per for_each element (with each.key/each.value), or
// once for a block without for_each.
func forEach(b *hclsyntax.Block, ctx *hcl.EvalContext, fn func(*hcl.EvalContext) error) error {
	a, ok := b.Body.Attributes["for_each"]
	if !ok {
		return fn(ctx)
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return fmt.Errorf("for_each: %s", diags.Error())
	}
	if !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
		return fmt.Errorf("for_each: not a known map or set")
	}
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if v.Type().IsSetType() {
			k = ev
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": ev})}
		if err := fn(child); err != nil {
			return fmt.Errorf("[%s]: %w", k.AsString(), err)
		}
	}
	return nil
}

// readManager evaluates every environment file of every service under
// managerDir. Any unreadable file fails the whole read: a partial listing
// must never look like "these environments were removed".
func readManager(managerDir string, shared Shared, policyNames map[string]string) (map[string]desiredStack, error) {
	return readManagerCached(managerDir, shared, policyNames, nil)
}

func readManagerCached(managerDir string, shared Shared, policyNames map[string]string, cache *planCache) (map[string]desiredStack, error) {
	t, err := readTreeDir(managerDir)
	if err != nil {
		return nil, err
	}
	return readManagerTree(t, managerDir, shared, policyNames, cache)
}

// planCache remembers what each environment file evaluated to, keyed by
// everything the evaluation reads: the template's files, the shared
// settings, the policy names and the file's name and bytes. After a PR
// event one file changes; the other N-1 are not parsed or evaluated again.
// Each read keeps only the entries it used, so the cache holds at most one
// entry per live file.
type planCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedPlan
}

type cachedPlan struct {
	env envfile.Environment
	d   desiredStack
}

// readManagerTree evaluates the manager tree t (keyed relative to the
// manager directory, which where names in messages).
func readManagerTree(t tree, where string, shared Shared, policyNames map[string]string, cache *planCache) (map[string]desiredStack, error) {
	var prev map[[32]byte]cachedPlan
	next := map[[32]byte]cachedPlan{}
	if cache != nil {
		cache.mu.Lock()
		defer cache.mu.Unlock()
		prev = cache.entries
	}
	settings, _ := json.Marshal(struct {
		Shared   Shared
		Policies map[string]string
	}{shared, policyNames})
	out := map[string]desiredStack{}
	for _, svc := range serviceDirs(t) {
		envs := t.subtree(svc + "/environments")
		var files []string
		for _, name := range envs.files() {
			if envfile.IsEnvFileName(name) {
				files = append(files, name)
			}
		}
		if len(files) == 0 {
			continue
		}
		tfiles := t.subtree(svc + "/template")
		tdigest := treeDigest(tfiles)
		tdir := filepath.Join(where, svc, "template")
		var tpl *module // parsed on the first cache miss only
		var errs []error
		for _, name := range files {
			src := envs[name]
			path := filepath.Join(where, svc, "environments", name)
			h := sha256.New()
			h.Write(tdigest[:])
			h.Write(settings)
			fmt.Fprintf(h, "\x00%s\x00%s\x00", svc, name)
			h.Write(src)
			var key [32]byte
			copy(key[:], h.Sum(nil))
			c, hit := prev[key]
			if !hit {
				env, err := envfile.Parse(path, src)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if env.Service != svc {
					return nil, fmt.Errorf("%s: environment %s says service %q but lives under %s/",
						filepath.Join(svc, "environments", name), env.ID, env.Service, svc)
				}
				if tpl == nil {
					if tpl, err = parseModule(tdir, tfiles); err != nil {
						return nil, err
					}
				}
				d, err := evalTemplate(tpl, env, shared, policyNames)
				if err != nil {
					return nil, fmt.Errorf("environment %s (%s): %w", env.ID, name, err)
				}
				c = cachedPlan{env: env, d: d}
			}
			next[key] = c
			if prev, dup := out[c.d.Stack.ID]; dup {
				return nil, fmt.Errorf("environments %s and %s both declare stack %s", prev.Stack.EnvironmentID, c.env.ID, c.d.Stack.ID)
			}
			out[c.d.Stack.ID] = c.d
		}
		if len(errs) > 0 {
			return nil, &fileErrors{errs: errs}
		}
	}
	if cache != nil {
		cache.entries = next
	}
	return out, nil
}

// treeDigest hashes the names and contents of a module's .tf files.
func treeDigest(t tree) [32]byte {
	h := sha256.New()
	for _, name := range t.files() {
		if strings.HasSuffix(name, ".tf") {
			fmt.Fprintf(h, "%s\x00%d\x00", name, len(t[name]))
			h.Write(t[name])
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

type fileErrors struct{ errs []error }

func (f *fileErrors) Error() string {
	s := fmt.Sprintf("%d environment file(s) could not be read", len(f.errs))
	for _, e := range f.errs {
		s += "\n  " + e.Error()
	}
	return s
}
