package awsprovider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/numberplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Schemas are declared with the snapshot's flags (test/terraform/testdata/
// schema/aws.json, the real provider 5.100.0): Required, Optional and
// Computed exactly as there, so that configurations and references that
// work against the real provider work here and nothing more does.
//
// Defaults. The real provider is SDKv2, where an Optional attribute may have
// a Default without being Computed; the plugin framework requires Computed
// for a schema Default. Changing the flags would change what a
// configuration may say, so the flags win:
//   - Optional+Computed attributes with a static real default get it as a
//     schema Default (shown in the plan, as the real provider shows it);
//   - Optional-only attributes with a real default (timeout 3, memory_size
//     128, integration timeout 29000, ...) stay null in state when not set,
//     and the default is applied where it takes effect: by the resource when
//     it calls the sandbox, or by the sandbox's API. The only visible
//     difference is `tofu show` printing null where the real one prints the
//     default.
//
// Nested blocks: the framework cannot declare max_items (terraform-plugin-
// framework's fwschema.Block says why); a maxItems validator enforces it and
// the schema test reads it from there.

type flags uint

const (
	required flags = 1 << iota
	optional
	computed
	forceNew
	deprecated
	sensitive
)

// Shorthands for the common flag sets.
const (
	req = required
	opt = optional
	cmp = computed
	oc  = optional | computed
)

const deprecationNote = "Deprecated in the hashicorp/aws provider."

func strAttr(f flags, opts ...any) schema.StringAttribute {
	a := schema.StringAttribute{Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0, Sensitive: f&sensitive != 0}
	if f&deprecated != 0 {
		a.DeprecationMessage = deprecationNote
	}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, stringplanmodifier.RequiresReplace())
	}
	for _, o := range opts {
		switch x := o.(type) {
		case string:
			a.Default = stringdefault.StaticString(x)
		case defaults.String:
			a.Default = x
		case planmodifier.String:
			a.PlanModifiers = append(a.PlanModifiers, x)
		case validator.String:
			a.Validators = append(a.Validators, x)
		default:
			panic(fmt.Sprintf("strAttr: option %T", o))
		}
	}
	return a
}

func boolAttr(f flags, opts ...any) schema.BoolAttribute {
	a := schema.BoolAttribute{Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0, Sensitive: f&sensitive != 0}
	if f&deprecated != 0 {
		a.DeprecationMessage = deprecationNote
	}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, boolplanmodifier.RequiresReplace())
	}
	for _, o := range opts {
		switch x := o.(type) {
		case bool:
			a.Default = booldefault.StaticBool(x)
		default:
			panic(fmt.Sprintf("boolAttr: option %T", o))
		}
	}
	return a
}

// intAttr is a whole "number" attribute (seconds, megabytes, counts).
func intAttr(f flags, opts ...any) schema.Int64Attribute {
	a := schema.Int64Attribute{Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0}
	if f&deprecated != 0 {
		a.DeprecationMessage = deprecationNote
	}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, int64planmodifier.RequiresReplace())
	}
	for _, o := range opts {
		switch x := o.(type) {
		case int:
			a.Default = int64default.StaticInt64(int64(x))
		case validator.Int64:
			a.Validators = append(a.Validators, x)
		default:
			panic(fmt.Sprintf("intAttr: option %T", o))
		}
	}
	return a
}

// numAttr is a fractional "number" attribute (percentages, biases).
func numAttr(f flags) schema.NumberAttribute {
	a := schema.NumberAttribute{Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, numberplanmodifier.RequiresReplace())
	}
	return a
}

// listAttr is a list of strings; a []string option is its default.
func listAttr(f flags, opts ...any) schema.ListAttribute {
	a := schema.ListAttribute{ElementType: types.StringType, Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0}
	if f&deprecated != 0 {
		a.DeprecationMessage = deprecationNote
	}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, listplanmodifier.RequiresReplace())
	}
	for _, o := range opts {
		switch x := o.(type) {
		case []string:
			a.Default = listdefault.StaticValue(types.ListValueMust(types.StringType, stringValues(x)))
		default:
			panic(fmt.Sprintf("listAttr: option %T", o))
		}
	}
	return a
}

// setAttr is a set of strings; a []string option is its default.
func setAttr(f flags, opts ...any) schema.SetAttribute {
	a := schema.SetAttribute{ElementType: types.StringType, Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0}
	if f&deprecated != 0 {
		a.DeprecationMessage = deprecationNote
	}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, setplanmodifier.RequiresReplace())
	}
	for _, o := range opts {
		switch x := o.(type) {
		case []string:
			a.Default = setdefault.StaticValue(types.SetValueMust(types.StringType, stringValues(x)))
		default:
			panic(fmt.Sprintf("setAttr: option %T", o))
		}
	}
	return a
}

func mapAttr(f flags, elem attr.Type) schema.MapAttribute {
	if elem == nil {
		elem = types.StringType
	}
	a := schema.MapAttribute{ElementType: elem, Required: f&required != 0, Optional: f&optional != 0, Computed: f&computed != 0}
	if f&forceNew != 0 {
		a.PlanModifiers = append(a.PlanModifiers, mapplanmodifier.RequiresReplace())
	}
	return a
}

func stringValues(ss []string) []attr.Value {
	out := make([]attr.Value, len(ss))
	for i, s := range ss {
		out[i] = types.StringValue(s)
	}
	return out
}

type attrs = map[string]schema.Attribute
type blocks = map[string]schema.Block

// listBlock is a list nested block; maxItems 0 means unbounded. forceNew
// replaces the resource when the block changes.
func listBlock(maxItems int, a attrs, b blocks, forceNewBlock ...bool) schema.ListNestedBlock {
	lb := schema.ListNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: a, Blocks: b}}
	if maxItems > 0 {
		lb.Validators = []validator.List{maxItems1{max: maxItems}}
	}
	if len(forceNewBlock) > 0 && forceNewBlock[0] {
		lb.PlanModifiers = []planmodifier.List{listplanmodifier.RequiresReplace()}
	}
	return lb
}

// requiredBlock is a list block of exactly one element (min_items and
// max_items 1), such as a rule's one default_retention.
func requiredBlock(a attrs, b blocks) schema.ListNestedBlock {
	lb := listBlock(1, a, b)
	lb.Validators = append(lb.Validators, minItems{min: 1})
	return lb
}

func setBlock(a attrs) schema.SetNestedBlock {
	return schema.SetNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: a}}
}

// setBlockOf is a set block with nested blocks and a min_items (0: none).
func setBlockOf(min int, a attrs, b blocks) schema.SetNestedBlock {
	sb := schema.SetNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: a, Blocks: b}}
	if min > 0 {
		sb.Validators = []validator.Set{minItems{min: min}}
	}
	return sb
}

// timeoutsBlock is the real provider's timeouts { create = "10m" ... }:
// accepted and stored; sandbox operations take milliseconds.
func timeoutsBlock(ops ...string) schema.SingleNestedBlock {
	a := attrs{}
	for _, op := range ops {
		a[op] = strAttr(opt)
	}
	return schema.SingleNestedBlock{Attributes: a}
}

// maxItems1 enforces a block's max_items, which the framework's schema
// cannot declare.
type maxItems1 struct{ max int }

func (v maxItems1) Description(context.Context) string {
	return fmt.Sprintf("at most %d block(s)", v.max)
}
func (v maxItems1) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v maxItems1) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if n := len(req.ConfigValue.Elements()); n > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Too many blocks",
			fmt.Sprintf("No more than %d %q block is allowed; got %d.", v.max, req.Path.String(), n))
	}
}

// minItems enforces a block's min_items, which the framework's schema
// cannot declare either.
type minItems struct{ min int }

func (v minItems) Description(context.Context) string {
	return fmt.Sprintf("at least %d block(s)", v.min)
}
func (v minItems) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v minItems) check(p path.Path, val attr.Value, n int, diags *diag.Diagnostics) {
	if !val.IsNull() && !val.IsUnknown() && n < v.min {
		diags.AddAttributeError(p, "Insufficient blocks", fmt.Sprintf("At least %d %q block is required; got %d.", v.min, p.String(), n))
	}
}
func (v minItems) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	v.check(req.Path, req.ConfigValue, len(req.ConfigValue.Elements()), &resp.Diagnostics)
}
func (v minItems) ValidateSet(_ context.Context, req validator.SetRequest, resp *validator.SetResponse) {
	v.check(req.Path, req.ConfigValue, len(req.ConfigValue.Elements()), &resp.Diagnostics)
}

// MaxItems reports a block's max_items as the schema test compares it.
func MaxItems(b schema.Block) int {
	if lb, ok := b.(schema.ListNestedBlock); ok {
		for _, v := range lb.Validators {
			if m, ok := v.(maxItems1); ok {
				return m.max
			}
		}
	}
	return 0
}

// MinItems reports a block's min_items as the schema test compares it.
func MinItems(b schema.Block) int {
	switch x := b.(type) {
	case schema.ListNestedBlock:
		for _, v := range x.Validators {
			if m, ok := v.(minItems); ok {
				return m.min
			}
		}
	case schema.SetNestedBlock:
		for _, v := range x.Validators {
			if m, ok := v.(minItems); ok {
				return m.min
			}
		}
	}
	return 0
}
