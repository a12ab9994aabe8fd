package spacelift

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// getter reads attributes of a plan, a state or a configuration.
type getter interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}

// base is what every resource shares: the client, set by Configure.
type base struct {
	client *slapi.Client
}

func (b *base) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	c, ok := req.ProviderData.(*slapi.Client)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("want *slapi.Client, got %T", req.ProviderData))
		return
	}
	b.client = c
}

// ready reports whether the provider was configured, with a diagnostic if
// not (its endpoint was unknown when the provider was configured).
func (b *base) ready(diags *diag.Diagnostics) bool {
	if b.client == nil {
		diags.AddError("Spacelift provider not configured",
			"The provider's endpoint was unknown when it was configured; set "+slapi.EnvEndpoint+" or a known api_key_endpoint.")
		return false
	}
	return true
}

// dsBase is base for data sources, whose Configure has other types.
type dsBase struct {
	client *slapi.Client
}

func (b *dsBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	c, ok := req.ProviderData.(*slapi.Client)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("want *slapi.Client, got %T", req.ProviderData))
		return
	}
	b.client = c
}

func (b *dsBase) ready(diags *diag.Diagnostics) bool {
	if b.client == nil {
		diags.AddError("Spacelift provider not configured",
			"The provider's endpoint was unknown when it was configured; set "+slapi.EnvEndpoint+" or a known api_key_endpoint.")
		return false
	}
	return true
}

func isNotFound(err error) bool { return errors.Is(err, slapi.ErrNotFound) }

// apiError adds err as an error diagnostic saying what was being done.
func apiError(diags *diag.Diagnostics, doing string, err error) {
	diags.AddError("Spacelift: could not "+doing, err.Error())
}

// boolOr is v, or def when v is null or unknown: how the real provider's
// SDKv2 defaults reach the API.
func boolOr(v types.Bool, def bool) bool {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	return v.ValueBool()
}

// stringOr is v, or def when v is null, unknown or empty.
func stringOr(v types.String, def string) string {
	if s := v.ValueString(); s != "" {
		return s
	}
	return def
}

// stringsOf is a set or list of strings, sorted; null and unknown are empty.
func stringsOf(ctx context.Context, v interface {
	IsNull() bool
	IsUnknown() bool
	ElementsAs(context.Context, any, bool) diag.Diagnostics
}, diags *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return []string{}
	}
	var out []string
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

func stringSet(s []string) types.Set {
	vals := make([]attr.Value, 0, len(s))
	for _, v := range sortedCopy(s) {
		vals = append(vals, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, vals)
}

// The refresh helpers decide what Read stores for an argument: the prior
// value while the API still holds what that prior value makes the provider
// send (expected), so that a null stays null and no diff appears; the API's
// value once something else changed it, so that drift shows in the plan.

func refreshString(prior types.String, expected, api string) types.String {
	if api == expected && !prior.IsUnknown() {
		return prior
	}
	return types.StringValue(api)
}

func refreshBool(prior types.Bool, expected, api bool) types.Bool {
	if api == expected && !prior.IsUnknown() {
		return prior
	}
	return types.BoolValue(api)
}

func refreshInt64(prior types.Int64, expected, api int64) types.Int64 {
	if api == expected && !prior.IsUnknown() {
		return prior
	}
	return types.Int64Value(api)
}

func refreshSet(prior types.Set, expected, api []string) types.Set {
	if slices.Equal(sortedCopy(expected), sortedCopy(api)) && !prior.IsUnknown() {
		return prior
	}
	return stringSet(api)
}

// unknownsToNull replaces the unknown values left in a state after the
// provider set every value it knows: a Computed attribute nested in a block
// (a VCS block's id) has no value the sandbox could give it, and tofu
// refuses unknowns after apply.
func unknownsToNull(v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
}

// exactlyOne checks that exactly one of the named string attributes is set
// in a configuration; unknown counts as set.
func exactlyOne(ctx context.Context, cfg getter, diags *diag.Diagnostics, names ...string) {
	var set []string
	for _, n := range names {
		var v types.String
		diags.Append(cfg.GetAttribute(ctx, path.Root(n), &v)...)
		if !v.IsNull() {
			set = append(set, n)
		}
	}
	if len(set) != 1 {
		diags.AddError("Invalid attribute combination",
			fmt.Sprintf("Exactly one of %v must be set; got %d (%v).", names, len(set), set))
	}
}

// unsupported refuses, at plan time, an argument the sandbox has nothing
// to act on.
func unsupported(ctx context.Context, cfg getter, diags *diag.Diagnostics, what string, names ...string) {
	for _, n := range names {
		var v types.String
		diags.Append(cfg.GetAttribute(ctx, path.Root(n), &v)...)
		if !v.IsNull() {
			diags.AddAttributeError(path.Root(n), "Not supported by the sandbox",
				fmt.Sprintf("The sandbox's Spacelift has no %s; only stack_id is supported.", what))
		}
	}
}
