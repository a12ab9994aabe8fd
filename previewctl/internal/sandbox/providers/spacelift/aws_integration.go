package spacelift

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

type awsIntegrationResource struct{ base }

func newAWSIntegrationResource() resource.Resource { return &awsIntegrationResource{} }

type awsIntegrationModel struct {
	ID                          types.String `tfsdk:"id"`
	Name                        types.String `tfsdk:"name"`
	RoleARN                     types.String `tfsdk:"role_arn"`
	Labels                      types.Set    `tfsdk:"labels"`
	SpaceID                     types.String `tfsdk:"space_id"`
	DurationSeconds             types.Int64  `tfsdk:"duration_seconds"`
	Region                      types.String `tfsdk:"region"`
	ExternalID                  types.String `tfsdk:"external_id"`
	GenerateCredentialsInWorker types.Bool   `tfsdk:"generate_credentials_in_worker"`
	AutoattachEnabled           types.Bool   `tfsdk:"autoattach_enabled"`
	TagAssumeRole               types.Bool   `tfsdk:"tag_assume_role"`
}

func (r *awsIntegrationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_aws_integration"
}

func (r *awsIntegrationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A reusable AWS integration (the role runs assume).",
		Attributes: map[string]schema.Attribute{
			"id":                             schema.StringAttribute{Computed: true, PlanModifiers: keepID},
			"name":                           schema.StringAttribute{Required: true},
			"role_arn":                       schema.StringAttribute{Required: true},
			"labels":                         schema.SetAttribute{Optional: true, ElementType: types.StringType},
			"space_id":                       schema.StringAttribute{Optional: true, Description: `Defaults to "root".`},
			"duration_seconds":               schema.Int64Attribute{Optional: true, Description: "Session length; defaults to 900."},
			"region":                         schema.StringAttribute{Optional: true},
			"external_id":                    schema.StringAttribute{Optional: true},
			"generate_credentials_in_worker": schema.BoolAttribute{Optional: true},
			"autoattach_enabled":             schema.BoolAttribute{Optional: true},
			"tag_assume_role":                schema.BoolAttribute{Optional: true},
		},
	}
}

func awsIntegrationSpec(ctx context.Context, m awsIntegrationModel, diags *diag.Diagnostics) slapi.AWSIntegrationSpec {
	duration := int64(slapi.DefaultDurationSeconds)
	if !m.DurationSeconds.IsNull() && !m.DurationSeconds.IsUnknown() {
		duration = m.DurationSeconds.ValueInt64()
	}
	return slapi.AWSIntegrationSpec{
		Name:                        m.Name.ValueString(),
		RoleARN:                     m.RoleARN.ValueString(),
		Labels:                      stringsOf(ctx, m.Labels, diags),
		SpaceID:                     stringOr(m.SpaceID, slapi.DefaultSpaceID),
		DurationSeconds:             duration,
		Region:                      m.Region.ValueString(),
		ExternalID:                  m.ExternalID.ValueString(),
		GenerateCredentialsInWorker: m.GenerateCredentialsInWorker.ValueBool(),
		AutoattachEnabled:           m.AutoattachEnabled.ValueBool(),
		TagAssumeRole:               m.TagAssumeRole.ValueBool(),
	}
}

func (r *awsIntegrationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m awsIntegrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	i, err := r.client.CreateAWSIntegration(ctx, awsIntegrationSpec(ctx, m, &resp.Diagnostics))
	if err != nil {
		apiError(&resp.Diagnostics, "create aws integration "+m.Name.ValueString(), err)
		return
	}
	m.ID = types.StringValue(i.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsIntegrationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m awsIntegrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	i, err := r.client.GetAWSIntegration(ctx, m.ID.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read aws integration "+m.ID.ValueString(), err)
		return
	}
	want := awsIntegrationSpec(ctx, m, &resp.Diagnostics)
	m.Name = refreshString(m.Name, want.Name, i.Name)
	m.RoleARN = refreshString(m.RoleARN, want.RoleARN, i.RoleARN)
	m.Labels = refreshSet(m.Labels, want.Labels, i.Labels)
	m.SpaceID = refreshString(m.SpaceID, want.SpaceID, i.SpaceID)
	m.DurationSeconds = refreshInt64(m.DurationSeconds, want.DurationSeconds, i.DurationSeconds)
	m.Region = refreshString(m.Region, want.Region, i.Region)
	m.ExternalID = refreshString(m.ExternalID, want.ExternalID, i.ExternalID)
	m.GenerateCredentialsInWorker = refreshBool(m.GenerateCredentialsInWorker, want.GenerateCredentialsInWorker, i.GenerateCredentialsInWorker)
	m.AutoattachEnabled = refreshBool(m.AutoattachEnabled, want.AutoattachEnabled, i.AutoattachEnabled)
	m.TagAssumeRole = refreshBool(m.TagAssumeRole, want.TagAssumeRole, i.TagAssumeRole)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsIntegrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m awsIntegrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if _, err := r.client.UpdateAWSIntegration(ctx, m.ID.ValueString(), awsIntegrationSpec(ctx, m, &resp.Diagnostics)); err != nil {
		apiError(&resp.Diagnostics, "update aws integration "+m.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *awsIntegrationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m awsIntegrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if err := r.client.DeleteAWSIntegration(ctx, m.ID.ValueString()); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete aws integration "+m.ID.ValueString(), err)
	}
}

func (r *awsIntegrationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
