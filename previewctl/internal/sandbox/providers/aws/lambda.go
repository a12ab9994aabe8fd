package awsprovider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// Lambda's control-plane types, as the sandbox's API speaks them
// (pkg/sandbox/awslambda.go).
type lambdaCode struct {
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
}

type lambdaEnvironment struct {
	Variables map[string]string `json:"Variables"`
}

type functionInput struct {
	Role                         string             `json:"Role"`
	Runtime                      string             `json:"Runtime"`
	Handler                      string             `json:"Handler"`
	Description                  string             `json:"Description"`
	Timeout                      *int64             `json:"Timeout,omitempty"`
	MemorySize                   *int64             `json:"MemorySize,omitempty"`
	Environment                  *lambdaEnvironment `json:"Environment,omitempty"`
	Architectures                []string           `json:"Architectures,omitempty"`
	PackageType                  string             `json:"PackageType,omitempty"`
	Code                         lambdaCode         `json:"Code"`
	ReservedConcurrentExecutions *int64             `json:"ReservedConcurrentExecutions,omitempty"`
	Tags                         map[string]string  `json:"Tags,omitempty"`
}

type functionConfig struct {
	FunctionName string     `json:"FunctionName"`
	FunctionArn  string     `json:"FunctionArn"`
	CodeSha256   string     `json:"CodeSha256"`
	CodeSize     int64      `json:"CodeSize"`
	LastModified string     `json:"LastModified"`
	Version      string     `json:"Version"`
	Code         lambdaCode `json:"Code"`
}

const lambdaAPI = "/2015-03-31/functions/"

func lambdaFunction() *resourceDef {
	return &resourceDef{
		name: "aws_lambda_function",
		schema: schema.Schema{
			Attributes: attrs{
				"architectures":                      listAttr(oc, []string{"x86_64"}),
				"arn":                                strAttr(cmp),
				"code_sha256":                        strAttr(cmp),
				"code_signing_config_arn":            strAttr(opt),
				"description":                        strAttr(opt),
				"filename":                           strAttr(opt),
				"function_name":                      strAttr(req | forceNew),
				"handler":                            strAttr(opt),
				"id":                                 strAttr(oc),
				"image_uri":                          strAttr(opt),
				"invoke_arn":                         strAttr(cmp),
				"kms_key_arn":                        strAttr(opt),
				"last_modified":                      strAttr(cmp),
				"layers":                             listAttr(opt),
				"memory_size":                        intAttr(opt),
				"package_type":                       strAttr(opt),
				"publish":                            boolAttr(opt),
				"qualified_arn":                      strAttr(cmp),
				"qualified_invoke_arn":               strAttr(cmp),
				"replace_security_groups_on_destroy": boolAttr(opt),
				"replacement_security_group_ids":     setAttr(opt),
				"reserved_concurrent_executions":     intAttr(opt),
				"role":                               strAttr(req),
				"runtime":                            strAttr(opt),
				"s3_bucket":                          strAttr(opt),
				"s3_key":                             strAttr(opt),
				"s3_object_version":                  strAttr(opt),
				"signing_job_arn":                    strAttr(cmp),
				"signing_profile_version_arn":        strAttr(cmp),
				"skip_destroy":                       boolAttr(opt),
				"source_code_hash":                   strAttr(oc),
				"source_code_size":                   intAttr(cmp),
				"tags":                               mapAttr(opt, nil),
				"tags_all":                           mapAttr(oc, nil),
				"timeout":                            intAttr(opt),
				"version":                            strAttr(cmp),
			},
			Blocks: blocks{
				"dead_letter_config": listBlock(1, attrs{"target_arn": strAttr(req)}, nil),
				"environment":        listBlock(1, attrs{"variables": mapAttr(opt, nil)}, nil),
				"ephemeral_storage":  listBlock(1, attrs{"size": intAttr(oc, 512)}, nil),
				"file_system_config": listBlock(1, attrs{"arn": strAttr(req), "local_mount_path": strAttr(req)}, nil),
				"image_config": listBlock(1, attrs{
					"command": listAttr(opt), "entry_point": listAttr(opt), "working_directory": strAttr(opt),
				}, nil),
				"logging_config": listBlock(1, attrs{
					"application_log_level": strAttr(opt), "log_format": strAttr(req), "log_group": strAttr(oc), "system_log_level": strAttr(opt),
				}, nil),
				"snap_start":     listBlock(1, attrs{"apply_on": strAttr(req), "optimization_status": strAttr(cmp)}, nil),
				"timeouts":       timeoutsBlock("create", "delete", "update"),
				"tracing_config": listBlock(1, attrs{"mode": strAttr(req)}, nil),
				"vpc_config": listBlock(1, attrs{
					"ipv6_allowed_for_dual_stack": boolAttr(opt), "security_group_ids": setAttr(req), "subnet_ids": setAttr(req), "vpc_id": strAttr(cmp),
				}, nil),
			},
		},
		volatile: []string{"last_modified"},
		plan: func(_ context.Context, _ *client, plan, prior, config *obj, _ *resource.ModifyPlanResponse) error {
			// New code (a new object version of latest.zip) changes the
			// hash and size; anything else keeps them.
			// Without s3_object_version the key's content may have changed
			// under the same location: only the apply can tell.
			if prior != nil && (config.isNull("s3_object_version") || changed(plan, prior, "s3_bucket", "s3_key", "s3_object_version", "filename", "image_uri")) {
				plan.unknown("code_sha256")
				plan.unknown("source_code_size")
				if config.isNull("source_code_hash") {
					plan.unknown("source_code_hash")
				}
			}
			return nil
		},
		create: putFunction,
		update: func(ctx context.Context, c *client, plan, _ *obj) error { return putFunction(ctx, c, plan) },
		read: func(ctx context.Context, c *client, st *obj) (bool, error) {
			var out functionConfig
			err := c.call(ctx, "lambda", "GET", lambdaAPI+esc(st.str("function_name")), nil, &out)
			if isNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			st.set("code_sha256", out.CodeSha256)
			st.set("source_code_size", out.CodeSize)
			st.set("last_modified", out.LastModified)
			return true, nil
		},
		delete: func(ctx context.Context, c *client, st *obj) error {
			if st.boolean("skip_destroy") {
				return nil // the real provider's meaning: leave it, forget it
			}
			err := c.call(ctx, "lambda", "DELETE", lambdaAPI+esc(st.str("function_name")), nil, nil)
			if isNotFound(err) {
				return nil
			}
			return err
		},
	}
}

// putFunction creates or replaces the function (the sandbox's PUT is
// create-or-replace, so a create retried after a kill converges).
func putFunction(ctx context.Context, c *client, p *obj) error {
	name := p.str("function_name")
	switch {
	case p.str("package_type") == "Image" || p.str("image_uri") != "":
		return fmt.Errorf("function %s: container images: the sandbox runs Zip functions with a bootstrap only", name)
	case p.has("filename"):
		return fmt.Errorf("function %s: filename: the sandbox deploys code from S3 only; upload the zip to the artifact bucket and set s3_bucket and s3_key", name)
	case p.str("s3_bucket") == "" || p.str("s3_key") == "":
		return fmt.Errorf("function %s: s3_bucket and s3_key are required in the sandbox (its code comes from the S3 stand-in)", name)
	case p.boolean("publish"):
		return fmt.Errorf("function %s: publish: the sandbox's Lambda keeps $LATEST only, not numbered versions", name)
	}
	in := functionInput{
		Role: p.str("role"), Runtime: p.str("runtime"), Handler: p.str("handler"), Description: p.str("description"),
		Architectures: p.strList("architectures"), PackageType: p.str("package_type"), Tags: p.strMap("tags_all"),
		Code: lambdaCode{S3Bucket: p.str("s3_bucket"), S3Key: p.str("s3_key"), S3ObjectVersion: p.str("s3_object_version")},
	}
	if n, ok := p.int("timeout"); ok {
		in.Timeout = &n
	}
	if n, ok := p.int("memory_size"); ok {
		in.MemorySize = &n
	}
	if n, ok := p.int("reserved_concurrent_executions"); ok && n >= 0 {
		in.ReservedConcurrentExecutions = &n
	}
	if env := p.block("environment"); env != nil {
		in.Environment = &lambdaEnvironment{Variables: env.strMap("variables")}
	}
	var out functionConfig
	if err := c.call(ctx, "lambda", "PUT", lambdaAPI+esc(name), in, &out); err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	arn := out.FunctionArn
	qualified := arn + ":" + out.Version
	p.set("id", name)
	p.set("arn", arn)
	p.set("invoke_arn", invokeARN(c.region, arn))
	p.set("qualified_arn", qualified)
	p.set("qualified_invoke_arn", invokeARN(c.region, qualified))
	p.set("version", out.Version)
	p.set("last_modified", out.LastModified)
	p.set("code_sha256", out.CodeSha256)
	p.set("source_code_size", out.CodeSize)
	p.setIfUnknown("source_code_hash", out.CodeSha256)
	p.set("signing_job_arn", "")
	p.set("signing_profile_version_arn", "")
	return nil
}

// invokeARN is API Gateway's integration URI for a function ARN.
func invokeARN(region, functionARN string) string {
	return "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/" + functionARN + "/invocations"
}

type permissionInput struct {
	StatementID         string `json:"StatementId"`
	Action              string `json:"Action"`
	Principal           string `json:"Principal"`
	SourceArn           string `json:"SourceArn,omitempty"`
	SourceAccount       string `json:"SourceAccount,omitempty"`
	Qualifier           string `json:"Qualifier,omitempty"`
	EventSourceToken    string `json:"EventSourceToken,omitempty"`
	PrincipalOrgID      string `json:"PrincipalOrgID,omitempty"`
	FunctionURLAuthType string `json:"FunctionUrlAuthType,omitempty"`
}

// functionRef splits function_name (a name, partial or full ARN, maybe
// qualified) into name and qualifier.
func functionRef(ref string) (name, qualifier string) {
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn":
		parts = parts[6:]
	case len(parts) >= 3 && parts[1] == "function":
		parts = parts[2:]
	}
	if len(parts) > 1 {
		return parts[0], parts[1]
	}
	return parts[0], ""
}

func lambdaPermission() *resourceDef {
	fn := forceNew
	return &resourceDef{
		name: "aws_lambda_permission",
		schema: schema.Schema{Attributes: attrs{
			"action":                 strAttr(req | fn),
			"event_source_token":     strAttr(opt | fn),
			"function_name":          strAttr(req | fn),
			"function_url_auth_type": strAttr(opt | fn),
			"id":                     strAttr(oc),
			"principal":              strAttr(req | fn),
			"principal_org_id":       strAttr(opt | fn),
			"qualifier":              strAttr(opt | fn),
			"source_account":         strAttr(opt | fn),
			"source_arn":             strAttr(opt | fn),
			"statement_id":           strAttr(oc | fn),
			"statement_id_prefix":    strAttr(oc | fn),
		}},
		create: func(ctx context.Context, c *client, p *obj) error {
			sid := p.str("statement_id")
			if sid == "" {
				prefix := p.str("statement_id_prefix")
				if prefix == "" {
					prefix = "terraform-"
				}
				sid = uniqueName(prefix)
			}
			name, qualifier := functionRef(p.str("function_name"))
			if q := p.str("qualifier"); q != "" {
				qualifier = q
			}
			in := permissionInput{
				StatementID: sid, Action: p.str("action"), Principal: p.str("principal"), SourceArn: p.str("source_arn"),
				SourceAccount: p.str("source_account"), Qualifier: qualifier, EventSourceToken: p.str("event_source_token"),
				PrincipalOrgID: p.str("principal_org_id"), FunctionURLAuthType: p.str("function_url_auth_type"),
			}
			if err := c.call(ctx, "lambda", "PUT", lambdaAPI+esc(name)+"/policy/"+esc(sid), in, nil); err != nil {
				return fmt.Errorf("permission %s of function %s: %w", sid, name, err)
			}
			p.set("id", sid)
			p.set("statement_id", sid)
			p.setIfUnknown("statement_id_prefix", "")
			return nil
		},
		read: func(ctx context.Context, c *client, st *obj) (bool, error) {
			name, _ := functionRef(st.str("function_name"))
			err := c.call(ctx, "lambda", "GET", lambdaAPI+esc(name)+"/policy/"+esc(st.str("statement_id")), nil, nil)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil, err
		},
		delete: func(ctx context.Context, c *client, st *obj) error {
			name, _ := functionRef(st.str("function_name"))
			err := c.call(ctx, "lambda", "DELETE", lambdaAPI+esc(name)+"/policy/"+esc(st.str("statement_id")), nil, nil)
			if isNotFound(err) {
				return nil
			}
			return err
		},
	}
}
