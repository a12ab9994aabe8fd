// Package spacelift is the sandbox's terraform-provider-spacelift: the
// resources and data sources of the real spacelift-io/spacelift provider
// that manager/ and setup/ use, with the real provider's schema (checked
// against a snapshot by schema_parity_test.go), acting on the sandbox's
// Spacelift stand-in through the slapi contract.
//
// # Defaults
//
// The real provider is built on SDKv2, where an attribute with a Default
// stays Optional and not Computed. In terraform-plugin-framework an
// attribute with a Default must be Computed, which would change the schema
// that tofu sees (and that the parity test compares). So no attribute here
// has a schema Default: an omitted optional argument stays null in the plan
// and in the state, the provider sends the real provider's default to the
// API (write_only true, read/write true, engine_type REGO_V0, manage_state
// true, ...), and Read keeps a null attribute null while the API still holds
// that default. The visible difference from the real provider is that
// `tofu show` prints null, not the default, for an omitted argument.
//
// # Attributes the sandbox cannot act on
//
// Hooks, vendor blocks other than opentofu, import_state, discard_runs and
// the like are accepted and stored in the state as given; the stand-in
// never sees them. context_id, module_id and the role attachment's
// non-stack principals are refused with a diagnostic: the sandbox has no
// contexts, modules, users or API keys to attach to.
package spacelift

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// Address is the provider's registry address, the one manager/ and setup/
// require.
const Address = "registry.terraform.io/spacelift-io/spacelift"

// New returns the provider, for providerserver.Serve and for tests.
func New() provider.Provider { return &slProvider{} }

type slProvider struct{}

type providerModel struct {
	APIKeyEndpoint types.String `tfsdk:"api_key_endpoint"`
	APIKeyID       types.String `tfsdk:"api_key_id"`
	APIKeySecret   types.String `tfsdk:"api_key_secret"`
}

func (p *slProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "spacelift"
	resp.Version = "1.53.5-sandbox"
}

func (p *slProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The sandbox's stand-in for spacelift-io/spacelift. Inside a sandbox run it needs no configuration: " +
			slapi.EnvEndpoint + " and " + slapi.EnvToken + " are set by the run.",
		Attributes: map[string]schema.Attribute{
			"api_key_endpoint": schema.StringAttribute{
				Optional:    true,
				Description: "Endpoint of the Spacelift API; defaults to $" + slapi.EnvEndpoint + ".",
			},
			"api_key_id": schema.StringAttribute{
				Optional:    true,
				Description: "Accepted for compatibility; the sandbox authenticates with $" + slapi.EnvToken + " only.",
			},
			"api_key_secret": schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "Accepted for compatibility; the sandbox authenticates with $" + slapi.EnvToken + " only.",
			},
		},
	}
}

func (p *slProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.APIKeyEndpoint.IsUnknown() {
		// Known only after apply: leave the provider unconfigured, and let
		// whatever needs the API say so.
		return
	}
	endpoint := cfg.APIKeyEndpoint.ValueString()
	if endpoint == "" {
		endpoint = os.Getenv(slapi.EnvEndpoint)
	}
	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_key_endpoint"), "Missing Spacelift endpoint",
			"Set api_key_endpoint in the provider block or the environment variable "+slapi.EnvEndpoint+
				" (a sandbox run sets it to the stand-in's URL).")
	}
	token := os.Getenv(slapi.EnvToken)
	if token == "" {
		resp.Diagnostics.AddError("Missing Spacelift API token",
			"Set the environment variable "+slapi.EnvToken+" (a sandbox run sets it to the run's token).")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := slapi.NewClient(endpoint, token, nil)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("api_key_endpoint"), "Invalid Spacelift endpoint", err.Error())
		return
	}
	resp.ResourceData = client
	resp.DataSourceData = client
}

func (p *slProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newStackResource,
		newEnvVarResource,
		newPolicyResource,
		newPolicyAttachmentResource,
		newDestructorResource,
		newAWSIntegrationResource,
		newAWSAttachmentResource,
		newRoleAttachmentResource,
		newDependencyResource,
		newReferenceResource,
	}
}

func (p *slProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newCurrentStackDataSource,
		newRoleDataSource,
	}
}
