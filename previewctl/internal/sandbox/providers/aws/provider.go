// Package awsprovider is the sandbox's hashicorp/aws provider: the real
// OpenTofu engine applies the repository's infra/ (and plans manager/) with
// it against the sandbox instead of AWS. It is written with
// terraform-plugin-framework and declares, for every resource and data
// source the modules use, the attributes of the real provider 5.100.0 with
// their types and flags (schema_test.go compares with the snapshot).
//
// What the resources do:
//   - aws_lambda_function, aws_lambda_permission and the aws_api_gateway_*
//     resources call the sandbox's control plane (AWS_ENDPOINT_URL_LAMBDA,
//     AWS_ENDPOINT_URL_API_GATEWAY): functions are deployed into the
//     sandbox's Lambda pool and the gateway serves the custom domain names;
//   - aws_s3_bucket, aws_s3_object and data aws_s3_object call the S3
//     stand-in (AWS_ENDPOINT_URL_S3) with the AWS SDK, as the real ones call
//     S3;
//   - aws_iam_role, aws_iam_role_policy, aws_cloudwatch_log_group,
//     aws_acm_certificate(_validation) and aws_route53_record exist in
//     state only, with computed attributes in the real formats (account
//     000000000000): the sandbox has no IAM, logs, certificates or DNS to
//     give them meaning.
package awsprovider

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the provider's registry address: the one infra/ requires, so
// a dev_overrides entry for it points OpenTofu at this binary.
const Address = "registry.terraform.io/hashicorp/aws"

// New returns the provider; version is what it reports.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &awsProvider{version: version} }
}

type awsProvider struct{ version string }

var _ provider.Provider = (*awsProvider)(nil)

func (p *awsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "aws"
	resp.Version = p.version
}

// Schema is the part of the real provider's configuration that the
// modules use (region, default_tags), credentials, and a few switches that
// configurations commonly carry for local endpoints (accepted and ignored).
func (p *awsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	str := func(sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: sensitive}
	}
	flag := func() schema.BoolAttribute { return schema.BoolAttribute{Optional: true} }
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"region":                      str(false),
			"access_key":                  str(true),
			"secret_key":                  str(true),
			"token":                       str(true),
			"profile":                     str(false),
			"skip_credentials_validation": flag(),
			"skip_region_validation":      flag(),
			"skip_requesting_account_id":  flag(),
			"skip_metadata_api_check":     str(false),
			"s3_use_path_style":           flag(),
		},
		Blocks: map[string]schema.Block{
			"default_tags": schema.ListNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"tags": schema.MapAttribute{ElementType: types.StringType, Optional: true},
			}}},
			// The real block has an attribute per service; these are the
			// services the sandbox serves.
			"endpoints": schema.SetNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"s3": str(false), "lambda": str(false), "apigateway": str(false),
			}}},
		},
	}
}

func (p *awsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	cfg, err := newObj(req.Config.Raw)
	if err != nil {
		resp.Diagnostics.AddError("aws provider configuration", err.Error())
		return
	}
	if !req.Config.Raw.IsFullyKnown() {
		// A value known only after apply (OpenTofu configures again then).
		return
	}
	c := &client{
		region:    firstOf(cfg.str("region"), os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		endpoints: map[string]string{},
		http:      &http.Client{Timeout: 5 * time.Minute},
	}
	if c.region == "" {
		resp.Diagnostics.AddError("aws provider: no region",
			"set region in the provider block, or AWS_REGION (the sandbox accepts any region name)")
		return
	}
	if dt := cfg.block("default_tags"); dt != nil {
		c.defaultTags = dt.strMap("tags")
	}
	for svc, env := range endpointEnv {
		c.endpoints[svc] = os.Getenv(env)
	}
	for _, ep := range cfg.blocks("endpoints") {
		for svc := range endpointEnv {
			if v := ep.str(svc); v != "" {
				c.endpoints[svc] = v
			}
		}
	}
	c.creds = aws.Credentials{
		AccessKeyID:     firstOf(cfg.str("access_key"), os.Getenv("AWS_ACCESS_KEY_ID")),
		SecretAccessKey: firstOf(cfg.str("secret_key"), os.Getenv("AWS_SECRET_ACCESS_KEY")),
		SessionToken:    firstOf(cfg.str("token"), os.Getenv("AWS_SESSION_TOKEN")),
		Source:          "sandbox provider",
	}
	if c.creds.AccessKeyID == "" || c.creds.SecretAccessKey == "" {
		resp.Diagnostics.AddError("aws provider: no credentials",
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or access_key and secret_key); the sandbox accepts any, it uses \"sandbox\"")
		return
	}
	resp.ResourceData = c
	resp.DataSourceData = c
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// resourceDefs is every resource type, in the snapshot's order.
func resourceDefs() []*resourceDef {
	return []*resourceDef{
		acmCertificate(), acmCertificateValidation(),
		apiBasePathMapping(), apiDeployment(), apiDomainName(), apiIntegration(), apiMethod(), apiResource(), apiRestAPI(), apiStage(),
		cloudwatchLogGroup(), iamRole(), iamRolePolicy(),
		lambdaFunction(), lambdaPermission(), route53Record(),
		s3BucketResource(), s3ObjectResource(),
	}
}

func (p *awsProvider) Resources(context.Context) []func() resource.Resource {
	var out []func() resource.Resource
	for _, d := range resourceDefs() {
		out = append(out, d.factory())
	}
	return out
}

func (p *awsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newS3Object}
}
