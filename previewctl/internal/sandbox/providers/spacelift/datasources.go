package spacelift

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// data "spacelift_current_stack"

type currentStackDataSource struct{ dsBase }

func newCurrentStackDataSource() datasource.DataSource { return &currentStackDataSource{} }

func (d *currentStackDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_current_stack"
}

func (d *currentStackDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The stack whose run holds the API token.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true},
		},
	}
}

func (d *currentStackDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.ready(&resp.Diagnostics) {
		return
	}
	cur, err := d.client.CurrentStack(ctx)
	if err != nil {
		// A 404 here means the token is an API key outside any run.
		resp.Diagnostics.AddError("Spacelift: could not read the current stack", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, struct {
		ID types.String `tfsdk:"id"`
	}{types.StringValue(cur.ID)})...)
}

// data "spacelift_role"

type roleDataSource struct{ dsBase }

func newRoleDataSource() datasource.DataSource { return &roleDataSource{} }

type roleModel struct {
	ID          types.String `tfsdk:"id"`
	RoleID      types.String `tfsdk:"role_id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
	Actions     types.Set    `tfsdk:"actions"`
	IsSystem    types.Bool   `tfsdk:"is_system"`
}

func (d *roleDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (d *roleDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A role, looked up by name or by role_id.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Computed: true},
			"role_id":     schema.StringAttribute{Optional: true, Description: "ID of the role to look up."},
			"name":        schema.StringAttribute{Optional: true, Description: `Name of the role to look up, e.g. "Space admin".`},
			"description": schema.StringAttribute{Computed: true},
			"actions":     schema.SetAttribute{Computed: true, ElementType: types.StringType},
			"is_system":   schema.BoolAttribute{Computed: true},
		},
	}
}

func (d *roleDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	exactlyOne(ctx, req.Config, &resp.Diagnostics, "role_id", "name")
}

func (d *roleDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.ready(&resp.Diagnostics) {
		return
	}
	role, err := d.client.Role(ctx, m.Name.ValueString(), m.RoleID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Spacelift: could not find the role", err.Error())
		return
	}
	// name and role_id stay as configured: they are arguments, not results.
	m.ID = types.StringValue(role.ID)
	m.Description = types.StringValue(role.Description)
	m.Actions = stringSet(role.Actions)
	m.IsSystem = types.BoolValue(role.IsSystem)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
