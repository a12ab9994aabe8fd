package tfcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Snapshot is a dated subset of one provider's schema, in the shape of
// `tofu providers schema -json` (one provider, only the types used here).
type Snapshot struct {
	Provider          string            `json:"provider"`
	Version           string            `json:"version"`
	Captured          string            `json:"captured"`
	Source            string            `json:"source"`
	ResourceSchemas   map[string]*Entry `json:"resource_schemas"`
	DataSourceSchemas map[string]*Entry `json:"data_source_schemas"`
}

// Entry is the schema of one resource or data source type.
type Entry struct {
	Block *Block `json:"block"`
}

// Block is a configuration block: attributes and nested blocks.
type Block struct {
	Attributes map[string]*Attribute   `json:"attributes,omitempty"`
	BlockTypes map[string]*NestedBlock `json:"block_types,omitempty"`
}

// Attribute is one attribute; Computed-only attributes cannot be set.
type Attribute struct {
	Type       json.RawMessage `json:"type,omitempty"`
	NestedType json.RawMessage `json:"nested_type,omitempty"`
	Required   bool            `json:"required,omitempty"`
	Optional   bool            `json:"optional,omitempty"`
	Computed   bool            `json:"computed,omitempty"`
	Deprecated bool            `json:"deprecated,omitempty"`
}

// NestedBlock is a nested block type.
type NestedBlock struct {
	NestingMode string `json:"nesting_mode"`
	Block       *Block `json:"block"`
	MinItems    int    `json:"min_items,omitempty"`
	MaxItems    int    `json:"max_items,omitempty"`
}

// Schemas maps a type prefix ("aws", "spacelift") to its snapshot.
type Schemas map[string]*Snapshot

// LoadSchemas reads every *.json snapshot in dir; the provider's local name
// (the part after the last "/") is the resource type prefix.
func LoadSchemas(dir string) (Schemas, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no schema snapshots in %s", dir)
	}
	out := Schemas{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		var s Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decode %s: %w", p, err)
		}
		if s.Provider == "" || s.Version == "" || s.Captured == "" || s.Source == "" {
			return nil, fmt.Errorf("%s: provider, version, captured and source must all be set", p)
		}
		out[s.Provider[strings.LastIndex(s.Provider, "/")+1:]] = &s
	}
	return out, nil
}

func (s Schemas) lookup(kind, typ string) (*Entry, error) {
	prefix, _, _ := strings.Cut(typ, "_")
	snap, ok := s[prefix]
	if !ok {
		return nil, fmt.Errorf("no schema snapshot for provider %q", prefix)
	}
	m := snap.ResourceSchemas
	if kind == "data" {
		m = snap.DataSourceSchemas
	}
	e, ok := m[typ]
	if !ok || e.Block == nil {
		return nil, fmt.Errorf("%s type %q is not in the %s %s schema snapshot", kindName(kind), typ, snap.Provider, snap.Version)
	}
	return e, nil
}

func kindName(kind string) string {
	if kind == "data" {
		return "data source"
	}
	return "resource"
}

var resourceMetaArgs = map[string]bool{
	"count": true, "for_each": true, "provider": true, "depends_on": true,
}

var resourceMetaBlocks = map[string]bool{
	"lifecycle": true, "provisioner": true, "connection": true,
}

// CheckSchema checks every resource and data block in dir against the
// snapshots: the type exists, every argument and nested block exists and is
// settable, every required argument is set, and every reference
// <type>.<name>.<attr> (or data.<type>.<name>.<attr>) names a declared block
// and an attribute its type has.
func CheckSchema(dir string, schemas Schemas) error {
	m, err := ParseModule(dir)
	if err != nil {
		return err
	}
	declared := map[string]*Entry{}
	var errs []error
	for _, kind := range []string{"resource", "data"} {
		for _, b := range m.Blocks(kind) {
			if len(b.Labels) != 2 {
				errs = append(errs, fmt.Errorf("%s: %s block needs a type and a name", at(b.DefRange()), kind))
				continue
			}
			typ := b.Labels[0]
			e, err := schemas.lookup(kind, typ)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", at(b.DefRange()), err))
				continue
			}
			key := typ + "." + b.Labels[1]
			if kind == "data" {
				key = "data." + key
			}
			declared[key] = e
			errs = append(errs, checkBody(typ, b.Body, e.Block, true)...)
		}
	}
	for _, f := range m.Files {
		errs = append(errs, checkReferences(f.Body, declared, schemas)...)
	}
	return errors.Join(errs...)
}

func checkBody(where string, body *hclsyntax.Body, schema *Block, top bool) []error {
	var errs []error
	for name, a := range body.Attributes {
		if top && resourceMetaArgs[name] {
			continue
		}
		attr, ok := schema.Attributes[name]
		if !ok {
			if _, isBlock := schema.BlockTypes[name]; isBlock {
				errs = append(errs, fmt.Errorf("%s: %s: %q is a block, not an argument", at(a.SrcRange), where, name))
				continue
			}
			errs = append(errs, fmt.Errorf("%s: %s: unknown argument %q%s", at(a.SrcRange), where, name, suggest(name, schema)))
			continue
		}
		if !attr.Required && !attr.Optional {
			errs = append(errs, fmt.Errorf("%s: %s: %q is read-only (computed)", at(a.SrcRange), where, name))
		}
	}
	var missing []string
	for name, attr := range schema.Attributes {
		if attr.Required {
			if _, ok := body.Attributes[name]; !ok {
				missing = append(missing, name)
			}
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		errs = append(errs, fmt.Errorf("%s: %s: required argument %q is not set", at(body.SrcRange), where, name))
	}
	for _, nb := range body.Blocks {
		if top && resourceMetaBlocks[nb.Type] {
			continue
		}
		name, content := nb.Type, nb.Body
		if nb.Type == "dynamic" && len(nb.Labels) == 1 {
			name = nb.Labels[0]
			for _, inner := range nb.Body.Blocks {
				if inner.Type == "content" {
					content = inner.Body
				}
			}
		}
		bt, ok := schema.BlockTypes[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s: unknown block %q%s", at(nb.DefRange()), where, name, suggest(name, schema)))
			continue
		}
		errs = append(errs, checkBody(where+"."+name, content, bt.Block, false)...)
	}
	return errs
}

func checkReferences(body *hclsyntax.Body, declared map[string]*Entry, schemas Schemas) []error {
	var errs []error
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		expr, ok := n.(*hclsyntax.ScopeTraversalExpr)
		if !ok {
			return nil
		}
		names := traversalNames(expr.Traversal)
		if len(names) < 2 {
			return nil
		}
		kind := "resource"
		if names[0] == "data" {
			kind, names = "data", names[1:]
			if len(names) < 2 {
				return nil
			}
		}
		prefix, _, found := strings.Cut(names[0], "_")
		if _, known := schemas[prefix]; !found || !known {
			return nil
		}
		key := names[0] + "." + names[1]
		if kind == "data" {
			key = "data." + key
		}
		e, ok := declared[key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: reference to undeclared %s %s", at(expr.SrcRange), kindName(kind), key))
			return nil
		}
		if len(names) < 3 {
			return nil
		}
		if _, ok := e.Block.Attributes[names[2]]; ok {
			return nil
		}
		if _, ok := e.Block.BlockTypes[names[2]]; ok {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %s has no attribute %q%s", at(expr.SrcRange), key, names[2], suggest(names[2], e.Block)))
		return nil
	})
	return errs
}

// traversalNames returns the leading names of a traversal up to its first
// index step (a for_each instance key stops the walk).
func traversalNames(t hcl.Traversal) []string {
	var out []string
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		default:
			return out
		}
	}
	return out
}

// suggest names the closest known name, to make typos obvious.
func suggest(name string, schema *Block) string {
	best, bestD := "", 3
	for _, cands := range [][]string{keys(schema.Attributes), keys(schema.BlockTypes)} {
		for _, c := range cands {
			if d := distance(name, c); d < bestD {
				best, bestD = c, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
