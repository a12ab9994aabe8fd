package spacelift

// The snapshot this test compares with is
// test/terraform/testdata/schema/spacelift.json. Its own fields say where it
// comes from: "source" (hand-built from spacelift-io/terraform-provider-spacelift
// docs/resources/*.md and docs/data-sources/*.md, which tfplugindocs generates
// from the provider schema, plus ../shared/reference/spacelift-facts.md
// section 4), "version" 1.53.5 and "captured" 2026-11-28; the docs pages
// are https://registry.terraform.io/providers/spacelift-io/spacelift/latest/docs
// (resources/stack, environment_variable, policy, policy_attachment,
// stack_destructor, aws_integration, aws_integration_attachment,
// role_attachment; data-sources/current_stack, role). It is in the shape of
// `tofu providers schema -json`, with the provider level left out.
//
// Compared: every resource and data source, every attribute's type and
// required/optional/computed flags (sensitive where the snapshot records
// it), every block's nesting mode and attributes, recursively; anything the
// provider declares that the snapshot lacks is a mismatch too. Not compared:
// max_items of list blocks, which terraform-plugin-framework cannot declare
// (the stack's ValidateConfig enforces it), and descriptions.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// jsonSchema is one provider's part of `tofu providers schema -json`.
type jsonSchema struct {
	ResourceSchemas   map[string]jsonTypeSchema `json:"resource_schemas"`
	DataSourceSchemas map[string]jsonTypeSchema `json:"data_source_schemas"`
}

type jsonTypeSchema struct {
	Block jsonBlock `json:"block"`
}

type jsonBlock struct {
	Attributes map[string]jsonAttribute `json:"attributes,omitempty"`
	BlockTypes map[string]jsonBlockType `json:"block_types,omitempty"`
}

type jsonAttribute struct {
	Type      json.RawMessage `json:"type"`
	Required  bool            `json:"required,omitempty"`
	Optional  bool            `json:"optional,omitempty"`
	Computed  bool            `json:"computed,omitempty"`
	Sensitive *bool           `json:"sensitive,omitempty"`
}

type jsonBlockType struct {
	NestingMode string    `json:"nesting_mode"`
	Block       jsonBlock `json:"block"`
	MaxItems    int       `json:"max_items,omitempty"`
}

func loadSnapshot(t *testing.T) jsonSchema {
	t.Helper()
	file := filepath.Join("..", "..", "..", "..", "..", "test", "terraform", "testdata", "schema", "spacelift.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the schema snapshot: %v", err)
	}
	// Either the snapshot's own flat shape or a full `tofu providers
	// schema -json` output.
	var full struct {
		ProviderSchemas map[string]jsonSchema `json:"provider_schemas"`
	}
	if err := json.Unmarshal(data, &full); err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	if s, ok := full.ProviderSchemas[Address]; ok {
		return s
	}
	var flat jsonSchema
	if err := json.Unmarshal(data, &flat); err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	if len(flat.ResourceSchemas) == 0 {
		t.Fatalf("%s has no resource_schemas", file)
	}
	return flat
}

// providerSchema is this provider's schema as tofu receives it, in the JSON
// shape.
func providerSchema(t *testing.T) jsonSchema {
	t.Helper()
	srv, err := providerserver.NewProtocol6WithError(New())()
	if err != nil {
		t.Fatalf("starting the provider server: %v", err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatalf("GetProviderSchema: %v", err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("GetProviderSchema: %s: %s", d.Summary, d.Detail)
		}
	}
	out := jsonSchema{ResourceSchemas: map[string]jsonTypeSchema{}, DataSourceSchemas: map[string]jsonTypeSchema{}}
	for name, s := range resp.ResourceSchemas {
		out.ResourceSchemas[name] = jsonTypeSchema{Block: toJSONBlock(t, s.Block)}
	}
	for name, s := range resp.DataSourceSchemas {
		out.DataSourceSchemas[name] = jsonTypeSchema{Block: toJSONBlock(t, s.Block)}
	}
	return out
}

func toJSONBlock(t *testing.T, b *tfprotov6.SchemaBlock) jsonBlock {
	out := jsonBlock{Attributes: map[string]jsonAttribute{}, BlockTypes: map[string]jsonBlockType{}}
	for _, a := range b.Attributes {
		if a.NestedType != nil {
			t.Fatalf("attribute %s: nested attribute types are not in the real (SDKv2) provider", a.Name)
		}
		typ, err := json.Marshal(ctyJSON(a.Type))
		if err != nil {
			t.Fatal(err)
		}
		ja := jsonAttribute{Type: typ, Required: a.Required, Optional: a.Optional, Computed: a.Computed}
		sensitive := a.Sensitive
		ja.Sensitive = &sensitive
		out.Attributes[a.Name] = ja
	}
	for _, nb := range b.BlockTypes {
		mode := map[tfprotov6.SchemaNestedBlockNestingMode]string{
			tfprotov6.SchemaNestedBlockNestingModeSingle: "single",
			tfprotov6.SchemaNestedBlockNestingModeList:   "list",
			tfprotov6.SchemaNestedBlockNestingModeSet:    "set",
			tfprotov6.SchemaNestedBlockNestingModeMap:    "map",
			tfprotov6.SchemaNestedBlockNestingModeGroup:  "group",
		}[nb.Nesting]
		out.BlockTypes[nb.TypeName] = jsonBlockType{NestingMode: mode, Block: toJSONBlock(t, nb.Block), MaxItems: int(nb.MaxItems)}
	}
	return out
}

// ctyJSON is a type as `providers schema -json` writes it: "string", or
// ["list", "string"], or ["object", {...}].
func ctyJSON(t tftypes.Type) any {
	switch {
	case t.Is(tftypes.String):
		return "string"
	case t.Is(tftypes.Number):
		return "number"
	case t.Is(tftypes.Bool):
		return "bool"
	case t.Is(tftypes.DynamicPseudoType):
		return "dynamic"
	}
	switch tt := t.(type) {
	case tftypes.List:
		return []any{"list", ctyJSON(tt.ElementType)}
	case tftypes.Set:
		return []any{"set", ctyJSON(tt.ElementType)}
	case tftypes.Map:
		return []any{"map", ctyJSON(tt.ElementType)}
	case tftypes.Object:
		attrs := map[string]any{}
		for k, v := range tt.AttributeTypes {
			attrs[k] = ctyJSON(v)
		}
		return []any{"object", attrs}
	}
	return fmt.Sprintf("unsupported %s", t)
}

// compareSchemas lists every difference between the snapshot (want) and the
// provider (got), each naming the resource or data source and the
// attribute or block.
func compareSchemas(want, got jsonSchema) []string {
	var diffs []string
	diffs = append(diffs, compareTypes("resource", want.ResourceSchemas, got.ResourceSchemas)...)
	diffs = append(diffs, compareTypes("data source", want.DataSourceSchemas, got.DataSourceSchemas)...)
	return diffs
}

func compareTypes(kind string, want, got map[string]jsonTypeSchema) []string {
	var diffs []string
	for _, name := range union(want, got) {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inGot:
			diffs = append(diffs, fmt.Sprintf("%s %s: missing from the provider", kind, name))
		case !inWant:
			diffs = append(diffs, fmt.Sprintf("%s %s: not in the snapshot", kind, name))
		default:
			diffs = append(diffs, compareBlock(kind+" "+name, "", w.Block, g.Block)...)
		}
	}
	return diffs
}

func compareBlock(owner, prefix string, want, got jsonBlock) []string {
	var diffs []string
	for _, name := range union(want.Attributes, got.Attributes) {
		where := fmt.Sprintf("%s: attribute %s%s", owner, prefix, name)
		w, inWant := want.Attributes[name]
		g, inGot := got.Attributes[name]
		switch {
		case !inGot:
			diffs = append(diffs, where+": missing from the provider")
			continue
		case !inWant:
			diffs = append(diffs, where+": not in the snapshot")
			continue
		}
		if !sameJSON(w.Type, g.Type) {
			diffs = append(diffs, fmt.Sprintf("%s: type %s, snapshot says %s", where, g.Type, w.Type))
		}
		for _, f := range []struct {
			flag      string
			want, got bool
		}{{"required", w.Required, g.Required}, {"optional", w.Optional, g.Optional}, {"computed", w.Computed, g.Computed}} {
			if f.want != f.got {
				diffs = append(diffs, fmt.Sprintf("%s: %s is %t, snapshot says %t", where, f.flag, f.got, f.want))
			}
		}
		if w.Sensitive != nil && (g.Sensitive == nil || *g.Sensitive != *w.Sensitive) {
			diffs = append(diffs, fmt.Sprintf("%s: sensitive differs from the snapshot's %t", where, *w.Sensitive))
		}
	}
	for _, name := range union(want.BlockTypes, got.BlockTypes) {
		where := fmt.Sprintf("%s: block %s%s", owner, prefix, name)
		w, inWant := want.BlockTypes[name]
		g, inGot := got.BlockTypes[name]
		switch {
		case !inGot:
			diffs = append(diffs, where+": missing from the provider")
			continue
		case !inWant:
			diffs = append(diffs, where+": not in the snapshot")
			continue
		}
		if w.NestingMode != g.NestingMode {
			diffs = append(diffs, fmt.Sprintf("%s: nesting mode %s, snapshot says %s", where, g.NestingMode, w.NestingMode))
		}
		diffs = append(diffs, compareBlock(owner, prefix+name+".", w.Block, g.Block)...)
	}
	return diffs
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func union[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func TestSchemaMatchesSnapshot(t *testing.T) {
	want := loadSnapshot(t)
	got := providerSchema(t)
	for _, d := range compareSchemas(want, got) {
		t.Error(d)
	}
	// A guard against a vacuous pass: the comparison did see the types.
	if len(got.ResourceSchemas) != 10 || len(got.DataSourceSchemas) != 2 {
		t.Errorf("provider has %d resources and %d data sources, want 10 and 2", len(got.ResourceSchemas), len(got.DataSourceSchemas))
	}
}

// TestCompareSchemasCatchesMismatches proves the comparator fails on each
// kind of difference, naming where.
func TestCompareSchemasCatchesMismatches(t *testing.T) {
	snapshot := loadSnapshot(t)
	clone := func() jsonSchema {
		data, _ := json.Marshal(snapshot)
		var c jsonSchema
		_ = json.Unmarshal(data, &c)
		return c
	}
	// Each case mutates the copy that plays the provider (got), except
	// sensitive, which the snapshot (want) must record for it to count.
	tests := []struct {
		name   string
		mutate func(want, got *jsonSchema)
		diff   string
	}{
		{"wrong type", func(_, s *jsonSchema) {
			a := s.ResourceSchemas["spacelift_environment_variable"].Block.Attributes["write_only"]
			a.Type = json.RawMessage(`"string"`)
			s.ResourceSchemas["spacelift_environment_variable"].Block.Attributes["write_only"] = a
		}, `resource spacelift_environment_variable: attribute write_only: type "string", snapshot says "bool"`},
		{"required turned optional", func(_, s *jsonSchema) {
			a := s.ResourceSchemas["spacelift_stack"].Block.Attributes["branch"]
			a.Required, a.Optional = false, true
			s.ResourceSchemas["spacelift_stack"].Block.Attributes["branch"] = a
		}, "resource spacelift_stack: attribute branch: required is false, snapshot says true"},
		{"computed added", func(_, s *jsonSchema) {
			a := s.ResourceSchemas["spacelift_policy"].Block.Attributes["engine_type"]
			a.Computed = true
			s.ResourceSchemas["spacelift_policy"].Block.Attributes["engine_type"] = a
		}, "resource spacelift_policy: attribute engine_type: computed is true, snapshot says false"},
		{"not sensitive", func(w, _ *jsonSchema) {
			a := w.ResourceSchemas["spacelift_environment_variable"].Block.Attributes["value"]
			yes := true
			a.Sensitive = &yes
			w.ResourceSchemas["spacelift_environment_variable"].Block.Attributes["value"] = a
		}, "resource spacelift_environment_variable: attribute value: sensitive differs from the snapshot's true"},
		{"attribute missing", func(_, s *jsonSchema) {
			delete(s.ResourceSchemas["spacelift_role_attachment"].Block.Attributes, "user_id")
		}, "resource spacelift_role_attachment: attribute user_id: missing from the provider"},
		{"attribute extra", func(_, s *jsonSchema) {
			s.ResourceSchemas["spacelift_policy"].Block.Attributes["slug"] = jsonAttribute{Type: json.RawMessage(`"string"`), Computed: true}
		}, "resource spacelift_policy: attribute slug: not in the snapshot"},
		{"nested attribute flag", func(_, s *jsonSchema) {
			bt := s.ResourceSchemas["spacelift_stack"].Block.BlockTypes["opentofu"]
			a := bt.Block.Attributes["version"]
			a.Optional, a.Required = false, true
			bt.Block.Attributes["version"] = a
		}, "resource spacelift_stack: attribute opentofu.version: required is true, snapshot says false"},
		{"nesting mode", func(_, s *jsonSchema) {
			bt := s.ResourceSchemas["spacelift_stack_destructor"].Block.BlockTypes["timeouts"]
			bt.NestingMode = "list"
			s.ResourceSchemas["spacelift_stack_destructor"].Block.BlockTypes["timeouts"] = bt
		}, "resource spacelift_stack_destructor: block timeouts: nesting mode list, snapshot says single"},
		{"block missing", func(_, s *jsonSchema) {
			delete(s.ResourceSchemas["spacelift_stack"].Block.BlockTypes, "raw_git")
		}, "resource spacelift_stack: block raw_git: missing from the provider"},
		{"data source missing", func(_, s *jsonSchema) {
			delete(s.DataSourceSchemas, "spacelift_role")
		}, "data source spacelift_role: missing from the provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := clone(), clone()
			tt.mutate(&want, &got)
			diffs := compareSchemas(want, got)
			found := slices.ContainsFunc(diffs, func(d string) bool { return strings.Contains(d, tt.diff) })
			// Only the mutated attribute may differ (flipping two flags
			// gives two diffs about the same attribute).
			where := tt.diff[:strings.LastIndex(tt.diff, ":")]
			for _, d := range diffs {
				if !strings.HasPrefix(d, where) {
					found = false
				}
			}
			if !found {
				t.Errorf("diffs = %q, want one containing %q and none about anything else", diffs, tt.diff)
			}
		})
	}
	if diffs := compareSchemas(snapshot, clone()); len(diffs) != 0 {
		t.Errorf("identical schemas differ: %q", diffs)
	}
}
