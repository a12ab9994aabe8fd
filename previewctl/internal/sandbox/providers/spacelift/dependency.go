package spacelift

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// IDs as the real provider writes them: a dependency is
// "<stack_id>/<dependency_id>", a reference "<stack_id>/<dependency_id>/<reference_id>".

func dependencyID(d slapi.StackDependency) string { return d.StackID + "/" + d.ID }

func splitDependencyID(id string) (stackID, depID string, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("stack dependency ID %q is not <stack_id>/<dependency_id>", id)
	}
	return parts[0], parts[1], nil
}

func splitReferenceID(id string) (stackID, depID, refID string, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("stack dependency reference ID %q is not <stack_id>/<dependency_id>/<reference_id>", id)
	}
	return parts[0], parts[1], parts[2], nil
}

// spacelift_stack_dependency

type dependencyResource struct{ base }

func newDependencyResource() resource.Resource { return &dependencyResource{} }

type dependencyModel struct {
	ID               types.String `tfsdk:"id"`
	StackID          types.String `tfsdk:"stack_id"`
	DependsOnStackID types.String `tfsdk:"depends_on_stack_id"`
}

func (r *dependencyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_stack_dependency"
}

func (r *dependencyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Makes a stack's tracked runs wait for another stack's, and that stack's finished runs trigger it.",
		Attributes: map[string]schema.Attribute{
			"id":                  schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "<stack_id>/<dependency_id>."},
			"stack_id":            schema.StringAttribute{Required: true, PlanModifiers: replaceString, Description: "Immutable ID (slug) of the stack which has a dependency."},
			"depends_on_stack_id": schema.StringAttribute{Required: true, PlanModifiers: replaceString, Description: "Immutable ID (slug) of the stack to depend on."},
		},
	}
}

func (r *dependencyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m dependencyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, upstream := m.StackID.ValueString(), m.DependsOnStackID.ValueString()
	d, err := r.client.CreateStackDependency(ctx, stackID, slapi.StackDependencySpec{DependsOnStackID: upstream})
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("make stack %s depend on %s", stackID, upstream), err)
		return
	}
	m.ID = types.StringValue(dependencyID(d))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *dependencyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m dependencyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, err := splitDependencyID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	d, err := r.client.GetStackDependency(ctx, stackID, depID)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read stack dependency "+m.ID.ValueString(), err)
		return
	}
	m.StackID = types.StringValue(d.StackID)
	m.DependsOnStackID = types.StringValue(d.DependsOnStackID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is never reached: both arguments force a new resource.
func (r *dependencyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Unexpected update", "spacelift_stack_dependency has no updatable argument.")
}

func (r *dependencyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m dependencyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, err := splitDependencyID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if err := r.client.DeleteStackDependency(ctx, stackID, depID); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete stack dependency "+m.ID.ValueString(), err)
	}
}

// spacelift_stack_dependency_reference

type referenceResource struct{ base }

func newReferenceResource() resource.Resource { return &referenceResource{} }

type referenceModel struct {
	ID                types.String `tfsdk:"id"`
	StackDependencyID types.String `tfsdk:"stack_dependency_id"`
	OutputName        types.String `tfsdk:"output_name"`
	InputName         types.String `tfsdk:"input_name"`
	TriggerAlways     types.Bool   `tfsdk:"trigger_always"`
}

func (r *referenceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_stack_dependency_reference"
}

func (r *referenceResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Feeds an output of the stack depended on to an input (environment variable) of the dependent stack.",
		Attributes: map[string]schema.Attribute{
			"id":                  schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "<stack_id>/<dependency_id>/<reference_id>."},
			"stack_dependency_id": schema.StringAttribute{Required: true, PlanModifiers: replaceString, Description: "Immutable ID of the stack dependency."},
			"output_name":         schema.StringAttribute{Required: true, Description: "Name of the output of the stack depended on."},
			"input_name":          schema.StringAttribute{Required: true, Description: "Name of the input (environment variable) of the dependent stack."},
			"trigger_always": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Trigger the dependent after every run of the stack depended on, not only when the output changed."},
		},
	}
}

func (m referenceModel) spec() slapi.ReferenceSpec {
	return slapi.ReferenceSpec{OutputName: m.OutputName.ValueString(), InputName: m.InputName.ValueString(), TriggerAlways: m.TriggerAlways.ValueBool()}
}

func (r *referenceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m referenceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, err := splitDependencyID(m.StackDependencyID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid stack_dependency_id", err.Error())
		return
	}
	ref, err := r.client.AddReference(ctx, stackID, depID, m.spec())
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("add reference %s -> %s to %s", m.OutputName.ValueString(), m.InputName.ValueString(), m.StackDependencyID.ValueString()), err)
		return
	}
	m.ID = types.StringValue(stackID + "/" + depID + "/" + ref.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *referenceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m referenceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, refID, err := splitReferenceID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	ref, err := r.client.GetReference(ctx, stackID, depID, refID)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read stack dependency reference "+m.ID.ValueString(), err)
		return
	}
	m.StackDependencyID = types.StringValue(stackID + "/" + depID)
	m.OutputName = types.StringValue(ref.OutputName)
	m.InputName = types.StringValue(ref.InputName)
	m.TriggerAlways = types.BoolValue(ref.TriggerAlways)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *referenceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior referenceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, refID, err := splitReferenceID(prior.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if _, err := r.client.UpdateReference(ctx, stackID, depID, refID, m.spec()); err != nil {
		apiError(&resp.Diagnostics, "update stack dependency reference "+prior.ID.ValueString(), err)
		return
	}
	m.ID = prior.ID
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *referenceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m referenceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID, depID, refID, err := splitReferenceID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if err := r.client.DeleteReference(ctx, stackID, depID, refID); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete stack dependency reference "+m.ID.ValueString(), err)
	}
}
