package spacelift

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

type policyResource struct{ base }

func newPolicyResource() resource.Resource { return &policyResource{} }

type policyModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Type        types.String `tfsdk:"type"`
	Body        types.String `tfsdk:"body"`
	Description types.String `tfsdk:"description"`
	EngineType  types.String `tfsdk:"engine_type"`
	Labels      types.Set    `tfsdk:"labels"`
	SpaceID     types.String `tfsdk:"space_id"`
}

func (r *policyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy"
}

func (r *policyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A Rego policy.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				Description:   "The slug of the name the policy was created with.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{Required: true},
			"type": schema.StringAttribute{
				Required:      true,
				Description:   "GIT_PUSH, TRIGGER, PLAN, ...; changing it replaces the policy.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"body":        schema.StringAttribute{Required: true, Description: "Rego source."},
			"description": schema.StringAttribute{Optional: true},
			"engine_type": schema.StringAttribute{Optional: true, Description: "REGO_V0 (the default) or REGO_V1."},
			"labels":      schema.SetAttribute{Optional: true, ElementType: types.StringType},
			"space_id":    schema.StringAttribute{Optional: true, Description: `Defaults to "root".`},
		},
	}
}

func (r *policyResource) spec(ctx context.Context, m policyModel, diags *diag.Diagnostics) slapi.PolicySpec {
	return slapi.PolicySpec{
		Name:        m.Name.ValueString(),
		Type:        m.Type.ValueString(),
		Body:        m.Body.ValueString(),
		Description: m.Description.ValueString(),
		EngineType:  stringOr(m.EngineType, slapi.DefaultEngineType),
		Labels:      stringsOf(ctx, m.Labels, diags),
		SpaceID:     stringOr(m.SpaceID, slapi.DefaultSpaceID),
	}
}

func samePolicy(a, b slapi.PolicySpec) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Body == b.Body && a.Description == b.Description &&
		a.EngineType == b.EngineType && a.SpaceID == b.SpaceID &&
		slices.Equal(sortedCopy(a.Labels), sortedCopy(b.Labels))
}

func (r *policyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	spec := r.spec(ctx, m, &resp.Diagnostics)
	p, err := r.client.CreatePolicy(ctx, spec)
	if errors.Is(err, slapi.ErrConflict) {
		// Same reason as for stacks (see stack.go): a run killed between
		// the create and tofu saving its state must converge on the rerun.
		// The policy's ID is the slug of its name, so the existing one can
		// be looked up and adopted when it is exactly what is planned.
		existing, gerr := r.client.GetPolicy(ctx, slapi.Slug(spec.Name))
		if gerr == nil && samePolicy(existing.PolicySpec, spec) {
			tflog.Info(ctx, "adopting existing policy with the planned spec", map[string]any{"id": existing.ID})
			p, err = existing, nil
		} else {
			err = fmt.Errorf("policy %s already exists with another spec: %w", slapi.Slug(spec.Name), err)
		}
	}
	if err != nil {
		apiError(&resp.Diagnostics, "create policy "+spec.Name, err)
		return
	}
	m.ID = types.StringValue(p.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *policyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	p, err := r.client.GetPolicy(ctx, m.ID.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read policy "+m.ID.ValueString(), err)
		return
	}
	want := r.spec(ctx, m, &resp.Diagnostics)
	m.Name = refreshString(m.Name, want.Name, p.Name)
	m.Type = refreshString(m.Type, want.Type, p.Type)
	m.Body = refreshString(m.Body, want.Body, p.Body)
	m.Description = refreshString(m.Description, want.Description, p.Description)
	m.EngineType = refreshString(m.EngineType, want.EngineType, p.EngineType)
	m.Labels = refreshSet(m.Labels, want.Labels, p.Labels)
	m.SpaceID = refreshString(m.SpaceID, want.SpaceID, p.SpaceID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *policyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if _, err := r.client.UpdatePolicy(ctx, m.ID.ValueString(), r.spec(ctx, m, &resp.Diagnostics)); err != nil {
		apiError(&resp.Diagnostics, "update policy "+m.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *policyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if err := r.client.DeletePolicy(ctx, m.ID.ValueString()); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete policy "+m.ID.ValueString(), err)
	}
}

func (r *policyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
