package awsprovider

// The schema parity test compares the provider's schema, as OpenTofu gets
// it (GetProviderSchema over the plugin protocol, in process), with the
// snapshot of the real provider's:
//
//	test/terraform/testdata/schema/aws.json
//	  provider registry.terraform.io/hashicorp/aws 5.100.0 (the official
//	  binary of the machines' filesystem mirror), captured with
//	  `make tf-schema-aws` (mk/terraform.mk): `tofu providers schema -json`
//	  on infra/versions.tf, filtered by test/terraform/cmd/schemasnap to the
//	  resource and data source types that infra/, manager/ and setup/ use,
//	  descriptions and sensitivity dropped. The provider's documentation
//	  pages (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/
//	  resources/<name>) describe the same attributes.
//
// Every resource and data source there must be here with exactly its
// attributes (type, required/optional/computed, deprecated) and nested
// blocks (nesting mode, max_items), and nothing else.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

type snapAttr struct {
	Type       json.RawMessage `json:"type,omitempty"`
	NestedType json.RawMessage `json:"nested_type,omitempty"`
	Required   bool            `json:"required,omitempty"`
	Optional   bool            `json:"optional,omitempty"`
	Computed   bool            `json:"computed,omitempty"`
	Deprecated bool            `json:"deprecated,omitempty"`
}

type snapBlock struct {
	Attributes map[string]*snapAttr   `json:"attributes,omitempty"`
	BlockTypes map[string]*snapNested `json:"block_types,omitempty"`
}

type snapNested struct {
	NestingMode string     `json:"nesting_mode"`
	Block       *snapBlock `json:"block"`
	MinItems    int        `json:"min_items,omitempty"`
	MaxItems    int        `json:"max_items,omitempty"`
}

type snapEntry struct {
	Block *snapBlock `json:"block"`
}

type snapshot struct {
	Provider    string                `json:"provider"`
	Version     string                `json:"version"`
	Captured    string                `json:"captured"`
	Source      string                `json:"source"`
	Resources   map[string]*snapEntry `json:"resource_schemas"`
	DataSources map[string]*snapEntry `json:"data_source_schemas"`
}

func loadSnapshot(t *testing.T) snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "..", "test", "terraform", "testdata", "schema", "aws.json"))
	if err != nil {
		t.Fatalf("schema snapshot: %v", err)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema snapshot: %v", err)
	}
	if s.Provider != Address || s.Version != "5.100.0" || len(s.Resources) == 0 {
		t.Fatalf("schema snapshot is of %s %s with %d resources; want %s 5.100.0", s.Provider, s.Version, len(s.Resources), Address)
	}
	return s
}

var nesting = map[tfprotov6.SchemaNestedBlockNestingMode]string{
	tfprotov6.SchemaNestedBlockNestingModeSingle: "single",
	tfprotov6.SchemaNestedBlockNestingModeList:   "list",
	tfprotov6.SchemaNestedBlockNestingModeSet:    "set",
	tfprotov6.SchemaNestedBlockNestingModeMap:    "map",
	tfprotov6.SchemaNestedBlockNestingModeGroup:  "group",
}

// fromProto converts a protocol block to the snapshot's shape; fw is the
// framework's blocks, where max_items and min_items live (the protocol
// carries none for a framework provider).
func fromProto(t *testing.T, b *tfprotov6.SchemaBlock, fw map[string]schema.Block) *snapBlock {
	out := &snapBlock{Attributes: map[string]*snapAttr{}, BlockTypes: map[string]*snapNested{}}
	for _, a := range b.Attributes {
		typ, err := json.Marshal(a.Type)
		if err != nil {
			t.Fatalf("attribute %s: type: %v", a.Name, err)
		}
		out.Attributes[a.Name] = &snapAttr{Type: typ, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Deprecated: a.Deprecated}
	}
	for _, nb := range b.BlockTypes {
		var inner map[string]schema.Block
		min, max := int(nb.MinItems), int(nb.MaxItems)
		if f, ok := fw[nb.TypeName]; ok {
			if m := MaxItems(f); m > 0 {
				max = m
			}
			if m := MinItems(f); m > 0 {
				min = m
			}
			inner = nestedBlocks(f)
		}
		out.BlockTypes[nb.TypeName] = &snapNested{NestingMode: nesting[nb.Nesting], Block: fromProto(t, nb.Block, inner), MinItems: min, MaxItems: max}
	}
	return out
}

func nestedBlocks(b schema.Block) map[string]schema.Block {
	switch x := b.(type) {
	case schema.ListNestedBlock:
		return x.NestedObject.Blocks
	case schema.SetNestedBlock:
		return x.NestedObject.Blocks
	case schema.SingleNestedBlock:
		return x.Blocks
	}
	return nil
}

// compareBlock lists every difference of got from want, each naming where.
func compareBlock(where string, want, got *snapBlock) []string {
	var diffs []string
	for _, name := range keys(want.Attributes, got.Attributes) {
		w, g := want.Attributes[name], got.Attributes[name]
		at := where + ": attribute " + name
		switch {
		case g == nil:
			diffs = append(diffs, at+": missing")
			continue
		case w == nil:
			diffs = append(diffs, at+": not in the real provider's schema")
			continue
		}
		if !sameJSON(w.Type, g.Type) {
			diffs = append(diffs, fmt.Sprintf("%s: type %s, want %s", at, g.Type, w.Type))
		}
		if len(w.NestedType) > 0 || len(g.NestedType) > 0 {
			diffs = append(diffs, at+": nested attribute types are not compared")
		}
		if wf, gf := flagsOf(w), flagsOf(g); wf != gf {
			diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", at, gf, wf))
		}
	}
	for _, name := range keys(want.BlockTypes, got.BlockTypes) {
		w, g := want.BlockTypes[name], got.BlockTypes[name]
		at := where + ": block " + name
		switch {
		case g == nil:
			diffs = append(diffs, at+": missing")
			continue
		case w == nil:
			diffs = append(diffs, at+": not in the real provider's schema")
			continue
		}
		if w.NestingMode != g.NestingMode {
			diffs = append(diffs, fmt.Sprintf("%s: nesting %s, want %s", at, g.NestingMode, w.NestingMode))
		}
		if w.MaxItems != g.MaxItems || w.MinItems != g.MinItems {
			diffs = append(diffs, fmt.Sprintf("%s: items %d..%d, want %d..%d", at, g.MinItems, g.MaxItems, w.MinItems, w.MaxItems))
		}
		diffs = append(diffs, compareBlock(at, w.Block, g.Block)...)
	}
	return diffs
}

func flagsOf(a *snapAttr) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{a.Required, "required"}, {a.Optional, "optional"}, {a.Computed, "computed"}, {a.Deprecated, "deprecated"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, "+")
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func keys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// providerSchema is what OpenTofu gets from GetProviderSchema, in the
// snapshot's shape.
func providerSchema(t *testing.T) (resources, dataSources map[string]*snapBlock) {
	t.Helper()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Fatalf("GetProviderSchema: %s: %s", d.Summary, d.Detail)
	}
	fw := map[string]map[string]schema.Block{}
	for _, d := range resourceDefs() {
		fw[d.name] = d.schema.Blocks
	}
	resources, dataSources = map[string]*snapBlock{}, map[string]*snapBlock{}
	for name, s := range resp.ResourceSchemas {
		resources[name] = fromProto(t, s.Block, fw[name])
	}
	for name, s := range resp.DataSourceSchemas {
		dataSources[name] = fromProto(t, s.Block, nil)
	}
	return resources, dataSources
}

func TestSchemaMatchesRealProvider(t *testing.T) {
	snap := loadSnapshot(t)
	resources, dataSources := providerSchema(t)
	var diffs []string
	for kind, pair := range map[string][2]map[string]*snapBlock{
		"resource":    {entries(snap.Resources), resources},
		"data source": {entries(snap.DataSources), dataSources},
	} {
		for _, name := range keys(pair[0], pair[1]) {
			w, g := pair[0][name], pair[1][name]
			switch {
			case g == nil:
				diffs = append(diffs, kind+" "+name+": missing")
			case w == nil:
				diffs = append(diffs, kind+" "+name+": not in the snapshot (add it with make tf-schema-aws)")
			default:
				diffs = append(diffs, compareBlock(kind+" "+name, w, g)...)
			}
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%d differences from the real provider 5.100.0:\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	}
}

func entries(m map[string]*snapEntry) map[string]*snapBlock {
	out := map[string]*snapBlock{}
	for k, e := range m {
		out[k] = e.Block
	}
	return out
}

// TestCompareBlockFindsDifferences: the comparator reports each kind of
// difference, naming the resource and the attribute or block.
func TestCompareBlockFindsDifferences(t *testing.T) {
	base := func() *snapBlock {
		return &snapBlock{
			Attributes: map[string]*snapAttr{
				"timeout":       {Type: json.RawMessage(`"number"`), Optional: true},
				"architectures": {Type: json.RawMessage(`["list","string"]`), Optional: true, Computed: true},
				"stage_name":    {Type: json.RawMessage(`"string"`), Optional: true, Deprecated: true},
			},
			BlockTypes: map[string]*snapNested{
				"environment": {NestingMode: "list", MaxItems: 1, Block: &snapBlock{Attributes: map[string]*snapAttr{
					"variables": {Type: json.RawMessage(`["map","string"]`), Optional: true},
				}}},
			},
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(b *snapBlock)
		want   string
	}{
		{"flag", func(b *snapBlock) { b.Attributes["timeout"].Required, b.Attributes["timeout"].Optional = true, false }, "attribute timeout: required, want optional"},
		{"computed dropped", func(b *snapBlock) { b.Attributes["architectures"].Computed = false }, "attribute architectures: optional, want optional+computed"},
		{"deprecation", func(b *snapBlock) { b.Attributes["stage_name"].Deprecated = false }, "attribute stage_name: optional, want optional+deprecated"},
		{"type", func(b *snapBlock) { b.Attributes["architectures"].Type = json.RawMessage(`["set","string"]`) }, `attribute architectures: type ["set","string"], want ["list","string"]`},
		{"missing attribute", func(b *snapBlock) { delete(b.Attributes, "timeout") }, "attribute timeout: missing"},
		{"extra attribute", func(b *snapBlock) {
			b.Attributes["bogus"] = &snapAttr{Type: json.RawMessage(`"string"`), Optional: true}
		}, "attribute bogus: not in the real provider's schema"},
		{"nesting", func(b *snapBlock) { b.BlockTypes["environment"].NestingMode = "set" }, "block environment: nesting set, want list"},
		{"max items", func(b *snapBlock) { b.BlockTypes["environment"].MaxItems = 0 }, "block environment: items 0..0, want 0..1"},
		{"missing block", func(b *snapBlock) { delete(b.BlockTypes, "environment") }, "block environment: missing"},
		{"nested attribute", func(b *snapBlock) {
			b.BlockTypes["environment"].Block.Attributes["variables"].Type = json.RawMessage(`["map","bool"]`)
		}, `block environment: attribute variables: type ["map","bool"], want ["map","string"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := compareBlock("resource aws_lambda_function", base(), base()); len(d) != 0 {
				t.Fatalf("identical blocks differ: %v", d)
			}
			got := base()
			tc.mutate(got)
			diffs := compareBlock("resource aws_lambda_function", base(), got)
			want := "resource aws_lambda_function: " + tc.want
			if len(diffs) != 1 || diffs[0] != want {
				t.Fatalf("differences %q; want exactly %q", diffs, want)
			}
		})
	}
}
