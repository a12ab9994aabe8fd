package spacelift

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

type envVarResource struct{ base }

func newEnvVarResource() resource.Resource { return &envVarResource{} }

type envVarModel struct {
	ID             types.String `tfsdk:"id"`
	Checksum       types.String `tfsdk:"checksum"`
	ContextID      types.String `tfsdk:"context_id"`
	ModuleID       types.String `tfsdk:"module_id"`
	StackID        types.String `tfsdk:"stack_id"`
	Name           types.String `tfsdk:"name"`
	Value          types.String `tfsdk:"value"`
	ValueWO        types.String `tfsdk:"value_wo"`
	ValueWOVersion types.Int64  `tfsdk:"value_wo_version"`
	WriteOnly      types.Bool   `tfsdk:"write_only"`
	Description    types.String `tfsdk:"description"`
}

func (r *envVarResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_environment_variable"
}

func (r *envVarResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	// Every argument forces a new resource, as in the real provider, so a
	// changed value is a replace in the plan (the trigger policy relies on
	// how that shows in run.changes).
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An environment variable of a stack.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				Description:   "stack/<stack_id>/<name>, as the real provider writes it.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"checksum": schema.StringAttribute{
				Computed:      true,
				Description:   "SHA-256 checksum of the value.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"context_id": schema.StringAttribute{Optional: true, PlanModifiers: replace, Description: "Not supported by the sandbox."},
			"module_id":  schema.StringAttribute{Optional: true, PlanModifiers: replace, Description: "Not supported by the sandbox."},
			"stack_id":   schema.StringAttribute{Optional: true, PlanModifiers: replace, Description: "ID of the stack the variable belongs to."},
			"name":       schema.StringAttribute{Required: true, PlanModifiers: replace, Description: "Name of the variable."},
			"value": schema.StringAttribute{
				Optional: true, Sensitive: true, Description: `Value of the variable; defaults to "".`,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(replaceUnlessChecksumMatches,
					"Replaces the variable unless the state holds no value (a write-only import) and the checksum is the new value's.",
					"Replaces the variable unless the state holds no value (a write-only import) and the checksum is the new value's.")},
			},
			"description": schema.StringAttribute{Optional: true, PlanModifiers: replace, Description: "Free-form description."},
			"write_only": schema.BoolAttribute{
				Optional: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
				Description: "Whether the value cannot be read back outside a run; defaults to true.",
			},
			// The real provider declares value_wo write-only (Terraform
			// 1.11+). OpenTofu 1.10 has no write-only attributes, so here it
			// is a sensitive argument that, like the real one, is sent only
			// when value_wo_version changes.
			"value_wo": schema.StringAttribute{Optional: true, Sensitive: true, Description: "Value sent instead of value; re-sent when value_wo_version changes."},
			"value_wo_version": schema.Int64Attribute{
				Optional: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Description: "Changing it re-sends value_wo.",
			},
		},
	}
}

func (r *envVarResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	exactlyOne(ctx, req.Config, &resp.Diagnostics, "context_id", "stack_id", "module_id")
	unsupported(ctx, req.Config, &resp.Diagnostics, "contexts or modules", "context_id", "module_id")
	var value, wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("value"), &value)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("value_wo"), &wo)...)
	if !value.IsNull() && !wo.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("value_wo"), "Conflicting arguments", "Set value or value_wo, not both.")
	}
}

// replaceUnlessChecksumMatches is the real provider's DiffSuppressFunc on
// value: a write-only variable's value cannot be read back, so after an
// import the state has none, and a configured value whose checksum is the
// one the API reports is the same value, not a change worth a replace.
func replaceUnlessChecksumMatches(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	if !req.StateValue.IsNull() || req.PlanValue.IsUnknown() {
		resp.RequiresReplace = true
		return
	}
	var checksum types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("checksum"), &checksum)...)
	resp.RequiresReplace = checksum.ValueString() != slapi.Checksum(req.PlanValue.ValueString())
}

func envVarID(stackID, name string) string { return "stack/" + stackID + "/" + name }

// parseEnvVarID accepts the real provider's stack/<stack>/<name> and, for
// imports typed by hand, <stack>/<name>.
func parseEnvVarID(id string) (stackID, name string, err error) {
	parts := strings.SplitN(id, "/", 3)
	switch {
	case len(parts) == 3 && parts[0] == "stack" && parts[1] != "" && parts[2] != "":
		return parts[1], parts[2], nil
	case len(parts) == 3 && (parts[0] == "context" || parts[0] == "module"):
		return "", "", fmt.Errorf("environment variable %q: the sandbox supports stack variables only", id)
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("environment variable ID %q is not stack/<stack_id>/<name>", id)
}

// envVarSpec is what the model makes the provider send.
func envVarSpec(m envVarModel) slapi.EnvVarSpec {
	value := m.Value.ValueString()
	if !m.ValueWO.IsNull() {
		value = m.ValueWO.ValueString()
	}
	return slapi.EnvVarSpec{
		Value:       value,
		WriteOnly:   boolOr(m.WriteOnly, true),
		Description: m.Description.ValueString(),
	}
}

func (r *envVarResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m envVarModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, name := m.StackID.ValueString(), m.Name.ValueString()
	spec := envVarSpec(m)
	// PUT is an upsert: a variable left behind by a run killed before tofu
	// saved its state is simply overwritten.
	v, err := r.client.PutEnvVar(ctx, stackID, name, spec)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("set environment variable %s on stack %s", name, stackID), err)
		return
	}
	m.ID = types.StringValue(envVarID(stackID, name))
	m.Checksum = types.StringValue(v.Checksum)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *envVarResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m envVarModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, name, err := parseEnvVarID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	v, err := r.client.GetEnvVar(ctx, stackID, name)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read environment variable "+m.ID.ValueString(), err)
		return
	}
	want := envVarSpec(m)
	m.ID = types.StringValue(envVarID(stackID, name))
	m.StackID = refreshString(m.StackID, "", stackID)
	m.Name = refreshString(m.Name, "", name)
	m.Checksum = types.StringValue(v.Checksum)
	m.WriteOnly = refreshBool(m.WriteOnly, want.WriteOnly, v.WriteOnly)
	m.Description = refreshString(m.Description, want.Description, v.Description)
	switch {
	case !v.WriteOnly && m.ValueWO.IsNull():
		m.Value = refreshString(m.Value, want.Value, v.Value)
	case v.Checksum != slapi.Checksum(want.Value) && m.ValueWO.IsNull():
		// A write-only value cannot be read back; a checksum that no
		// longer matches is drift all the same, and the value the API holds
		// is unknowable, so say so by forgetting ours.
		m.Value = types.StringNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is reached only by a change that needs no call: value_wo alone,
// which (like a write-only argument of the real provider) is not sent until
// value_wo_version changes, or a write-only value recorded in the state
// after an import (see replaceUnlessChecksumMatches).
func (r *envVarResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m envVarModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *envVarResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m envVarModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, name, err := parseEnvVarID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	// 404: the variable or its whole stack is gone already (a destructor
	// that ran first deletes the stack's variables with it).
	if err := r.client.DeleteEnvVar(ctx, stackID, name); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete environment variable "+m.ID.ValueString(), err)
	}
}

func (r *envVarResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
