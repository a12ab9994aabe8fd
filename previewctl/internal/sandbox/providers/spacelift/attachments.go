package spacelift

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// splitPair splits the "<a>/<b>" IDs of attachments.
func splitPair(id, what string) (string, string, error) {
	a, b, ok := strings.Cut(id, "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") {
		return "", "", fmt.Errorf("%s attachment ID %q is not <%s_id>/<stack_id>", what, id, what)
	}
	return a, b, nil
}

var (
	replaceString = []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keepID        = []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
)

// spacelift_policy_attachment

type policyAttachmentResource struct{ base }

func newPolicyAttachmentResource() resource.Resource { return &policyAttachmentResource{} }

type policyAttachmentModel struct {
	ID       types.String `tfsdk:"id"`
	PolicyID types.String `tfsdk:"policy_id"`
	StackID  types.String `tfsdk:"stack_id"`
	ModuleID types.String `tfsdk:"module_id"`
}

func (r *policyAttachmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy_attachment"
}

func (r *policyAttachmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Attaches a policy to a stack.",
		Attributes: map[string]schema.Attribute{
			"id":        schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "<policy_id>/<stack_id>."},
			"policy_id": schema.StringAttribute{Required: true, PlanModifiers: replaceString},
			"stack_id":  schema.StringAttribute{Optional: true, PlanModifiers: replaceString},
			"module_id": schema.StringAttribute{Optional: true, PlanModifiers: replaceString, Description: "Not supported by the sandbox."},
		},
	}
}

func (r *policyAttachmentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	exactlyOne(ctx, req.Config, &resp.Diagnostics, "stack_id", "module_id")
	unsupported(ctx, req.Config, &resp.Diagnostics, "modules", "module_id")
}

func (r *policyAttachmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m policyAttachmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	policyID, stackID := m.PolicyID.ValueString(), m.StackID.ValueString()
	a, err := r.client.AttachPolicy(ctx, policyID, stackID)
	if errors.Is(err, slapi.ErrConflict) {
		// An attachment has no arguments beyond its two ends, so an
		// existing one is exactly the planned one: adopt it (a run killed
		// after the attach and before tofu saved its state).
		tflog.Info(ctx, "adopting existing policy attachment", map[string]any{"policy": policyID, "stack": stackID})
		a, err = r.client.GetPolicyAttachment(ctx, policyID, stackID)
	}
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("attach policy %s to stack %s", policyID, stackID), err)
		return
	}
	m.ID = types.StringValue(a.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *policyAttachmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m policyAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	policyID, stackID, err := splitPair(m.ID.ValueString(), "policy")
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	a, err := r.client.GetPolicyAttachment(ctx, policyID, stackID)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read policy attachment "+m.ID.ValueString(), err)
		return
	}
	m.PolicyID = types.StringValue(a.PolicyID)
	m.StackID = types.StringValue(a.StackID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is never reached: every argument forces a new resource.
func (r *policyAttachmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Unexpected update", "spacelift_policy_attachment has no updatable argument.")
}

func (r *policyAttachmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m policyAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	policyID, stackID, err := splitPair(m.ID.ValueString(), "policy")
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if err := r.client.DetachPolicy(ctx, policyID, stackID); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "detach policy "+m.ID.ValueString(), err)
	}
}

func (r *policyAttachmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// spacelift_aws_integration_attachment

type awsAttachmentResource struct{ base }

func newAWSAttachmentResource() resource.Resource { return &awsAttachmentResource{} }

type awsAttachmentModel struct {
	ID            types.String `tfsdk:"id"`
	AttachmentID  types.String `tfsdk:"attachment_id"`
	IntegrationID types.String `tfsdk:"integration_id"`
	StackID       types.String `tfsdk:"stack_id"`
	ModuleID      types.String `tfsdk:"module_id"`
	Read          types.Bool   `tfsdk:"read"`
	Write         types.Bool   `tfsdk:"write"`
}

func (r *awsAttachmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_aws_integration_attachment"
}

func (r *awsAttachmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Attaches an AWS integration to a stack.",
		Attributes: map[string]schema.Attribute{
			"id":             schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "<integration_id>/<stack_id>."},
			"attachment_id":  schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "The stand-in's ID of the attachment."},
			"integration_id": schema.StringAttribute{Required: true, PlanModifiers: replaceString},
			"stack_id":       schema.StringAttribute{Optional: true, PlanModifiers: replaceString},
			"module_id":      schema.StringAttribute{Optional: true, PlanModifiers: replaceString, Description: "Not supported by the sandbox."},
			"read":           schema.BoolAttribute{Optional: true, Description: "Used for read operations; defaults to true."},
			"write":          schema.BoolAttribute{Optional: true, Description: "Used for write operations; defaults to true."},
		},
	}
}

func (r *awsAttachmentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	exactlyOne(ctx, req.Config, &resp.Diagnostics, "stack_id", "module_id")
	unsupported(ctx, req.Config, &resp.Diagnostics, "modules", "module_id")
}

func awsAttachmentSpec(m awsAttachmentModel) slapi.AWSAttachmentSpec {
	return slapi.AWSAttachmentSpec{StackID: m.StackID.ValueString(), Read: boolOr(m.Read, true), Write: boolOr(m.Write, true)}
}

func (r *awsAttachmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m awsAttachmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	integrationID, spec := m.IntegrationID.ValueString(), awsAttachmentSpec(m)
	a, err := r.client.AttachAWSIntegration(ctx, integrationID, spec)
	if errors.Is(err, slapi.ErrConflict) {
		// Adopted as a policy attachment is; read and write are then set
		// to what is planned.
		tflog.Info(ctx, "adopting existing aws integration attachment", map[string]any{"integration": integrationID, "stack": spec.StackID})
		a, err = r.client.UpdateAWSAttachment(ctx, integrationID, spec)
	}
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("attach aws integration %s to stack %s", integrationID, spec.StackID), err)
		return
	}
	m.ID = types.StringValue(a.ID)
	m.AttachmentID = types.StringValue(a.AttachmentID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsAttachmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m awsAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	integrationID, stackID, err := splitPair(m.ID.ValueString(), "integration")
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	a, err := r.client.GetAWSAttachment(ctx, integrationID, stackID)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read aws integration attachment "+m.ID.ValueString(), err)
		return
	}
	want := awsAttachmentSpec(m)
	m.IntegrationID = types.StringValue(a.IntegrationID)
	m.StackID = types.StringValue(a.StackID)
	m.AttachmentID = types.StringValue(a.AttachmentID)
	m.Read = refreshBool(m.Read, want.Read, a.Read)
	m.Write = refreshBool(m.Write, want.Write, a.Write)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsAttachmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m awsAttachmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if _, err := r.client.UpdateAWSAttachment(ctx, m.IntegrationID.ValueString(), awsAttachmentSpec(m)); err != nil {
		apiError(&resp.Diagnostics, "update aws integration attachment "+m.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsAttachmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m awsAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	integrationID, stackID, err := splitPair(m.ID.ValueString(), "integration")
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if err := r.client.DetachAWSIntegration(ctx, integrationID, stackID); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "detach aws integration "+m.ID.ValueString(), err)
	}
}

func (r *awsAttachmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// spacelift_role_attachment

type roleAttachmentResource struct{ base }

func newRoleAttachmentResource() resource.Resource { return &roleAttachmentResource{} }

type roleAttachmentModel struct {
	ID                types.String `tfsdk:"id"`
	RoleID            types.String `tfsdk:"role_id"`
	SpaceID           types.String `tfsdk:"space_id"`
	StackID           types.String `tfsdk:"stack_id"`
	APIKeyID          types.String `tfsdk:"api_key_id"`
	IDPGroupMappingID types.String `tfsdk:"idp_group_mapping_id"`
	UserID            types.String `tfsdk:"user_id"`
}

// stackRolePrefix is the real provider's prefix of stack role attachment
// IDs ("STACK/<id>"); the other kinds are not supported here.
const stackRolePrefix = "STACK/"

func (r *roleAttachmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role_attachment"
}

func (r *roleAttachmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Grants a role in a space to a stack.",
		Attributes: map[string]schema.Attribute{
			"id":                   schema.StringAttribute{Computed: true, PlanModifiers: keepID, Description: "STACK/<attachment id>, as the real provider writes it."},
			"role_id":              schema.StringAttribute{Required: true, PlanModifiers: replaceString},
			"space_id":             schema.StringAttribute{Required: true, PlanModifiers: replaceString},
			"stack_id":             schema.StringAttribute{Optional: true, PlanModifiers: replaceString},
			"api_key_id":           schema.StringAttribute{Optional: true, PlanModifiers: replaceString, Description: "Not supported by the sandbox."},
			"idp_group_mapping_id": schema.StringAttribute{Optional: true, PlanModifiers: replaceString, Description: "Not supported by the sandbox."},
			"user_id":              schema.StringAttribute{Optional: true, PlanModifiers: replaceString, Description: "Not supported by the sandbox."},
		},
	}
}

func (r *roleAttachmentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	exactlyOne(ctx, req.Config, &resp.Diagnostics, "api_key_id", "idp_group_mapping_id", "stack_id", "user_id")
	unsupported(ctx, req.Config, &resp.Diagnostics, "API keys, IdP group mappings or users", "api_key_id", "idp_group_mapping_id", "user_id")
}

func (r *roleAttachmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m roleAttachmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	spec := slapi.RoleAttachmentSpec{RoleID: m.RoleID.ValueString(), SpaceID: m.SpaceID.ValueString(), StackID: m.StackID.ValueString()}
	a, err := r.client.CreateRoleAttachment(ctx, spec)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("attach role %s in space %s to stack %s", spec.RoleID, spec.SpaceID, spec.StackID), err)
		return
	}
	m.ID = types.StringValue(stackRolePrefix + a.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func roleAttachmentID(id string) (string, error) {
	rest, ok := strings.CutPrefix(id, stackRolePrefix)
	if !ok || rest == "" {
		return "", fmt.Errorf("role attachment ID %q is not %s<id> (the sandbox supports stack role attachments only)", id, stackRolePrefix)
	}
	return rest, nil
}

func (r *roleAttachmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m roleAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	id, err := roleAttachmentID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	a, err := r.client.GetRoleAttachment(ctx, id)
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read role attachment "+m.ID.ValueString(), err)
		return
	}
	m.RoleID = types.StringValue(a.RoleID)
	m.SpaceID = types.StringValue(a.SpaceID)
	m.StackID = types.StringValue(a.StackID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is never reached: every argument forces a new resource.
func (r *roleAttachmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Unexpected update", "spacelift_role_attachment has no updatable argument.")
}

func (r *roleAttachmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m roleAttachmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	id, err := roleAttachmentID(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid ID", err.Error())
		return
	}
	if err := r.client.DeleteRoleAttachment(ctx, id); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete role attachment "+m.ID.ValueString(), err)
	}
}

func (r *roleAttachmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
