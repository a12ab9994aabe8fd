package awsprovider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The aws_api_gateway_* resources register their objects with the
// sandbox's API Gateway model (pkg/sandbox/apigateway.go), whose creates
// adopt an existing object with the same natural key, so a create retried
// after OpenTofu was killed converges instead of duplicating.

func restAPIPath(id string) string { return "/restapis/" + esc(id) }

func apiARN(region, p string) string { return "arn:aws:apigateway:" + region + "::" + p }

func executionARN(region, api string) string {
	return "arn:aws:execute-api:" + region + ":" + Account + ":" + api
}

func invokeURL(region, api, stage string) string {
	return "https://" + api + ".execute-api." + region + ".amazonaws.com/" + stage
}

// putIfSet adds k to m when the attribute has a value.
func putIfSet(m map[string]any, k string, p *obj, attr string) {
	if !p.has(attr) {
		return
	}
	switch t := p.t.AttributeTypes[attr]; {
	case t.Is(tftypes.String):
		m[k] = p.str(attr)
	case t.Is(tftypes.Bool):
		m[k] = p.boolean(attr)
	default:
		if n, ok := p.int(attr); ok {
			m[k] = n
		}
	}
}

func endpointConfig(p *obj) map[string]any {
	ec := p.block("endpoint_configuration")
	if ec == nil {
		return nil
	}
	m := map[string]any{"types": ec.strList("types")}
	if ec.has("ip_address_type") {
		m["ipAddressType"] = ec.str("ip_address_type")
	}
	if _, ok := ec.t.AttributeTypes["vpc_endpoint_ids"]; ok && len(ec.strList("vpc_endpoint_ids")) > 0 {
		m["vpcEndpointIds"] = ec.strList("vpc_endpoint_ids")
	}
	return m
}

func apiRestAPI() *resourceDef {
	return &resourceDef{
		name: "aws_api_gateway_rest_api",
		schema: schema.Schema{
			Attributes: attrs{
				"api_key_source":               strAttr(oc, "HEADER"),
				"arn":                          strAttr(cmp),
				"binary_media_types":           listAttr(oc, []string{}),
				"body":                         strAttr(opt),
				"created_date":                 strAttr(cmp),
				"description":                  strAttr(oc),
				"disable_execute_api_endpoint": boolAttr(oc, false),
				"execution_arn":                strAttr(cmp),
				"fail_on_warnings":             boolAttr(opt),
				"id":                           strAttr(oc),
				"minimum_compression_size":     strAttr(oc, ""),
				"name":                         strAttr(req),
				"parameters":                   mapAttr(opt, nil),
				"policy":                       strAttr(oc),
				"put_rest_api_mode":            strAttr(opt),
				"root_resource_id":             strAttr(cmp),
				"tags":                         mapAttr(opt, nil),
				"tags_all":                     mapAttr(oc, nil),
			},
			Blocks: blocks{
				"endpoint_configuration": listBlock(1, attrs{
					"ip_address_type":  strAttr(oc, "ipv4"),
					"types":            listAttr(req),
					"vpc_endpoint_ids": setAttr(oc, []string{}),
				}, nil),
			},
		},
		create: func(ctx context.Context, c *client, p *obj) error {
			if p.has("body") {
				return fmt.Errorf("REST API %s: body: the sandbox does not import OpenAPI definitions; declare resources and methods", p.str("name"))
			}
			var out struct{ ID, RootResourceID, CreatedDate, Description, Policy string }
			if err := c.call(ctx, "apigateway", "POST", "/restapis", restAPIBody(p), &out); err != nil {
				return fmt.Errorf("REST API %s: %w", p.str("name"), err)
			}
			setRestAPI(c, p, out.ID, out.RootResourceID, out.CreatedDate)
			return nil
		},
		update: func(ctx context.Context, c *client, p, prior *obj) error {
			id := prior.str("id")
			if err := c.call(ctx, "apigateway", "PUT", restAPIPath(id), restAPIBody(p), nil); err != nil {
				return fmt.Errorf("REST API %s: %w", id, err)
			}
			setRestAPI(c, p, id, prior.str("root_resource_id"), prior.str("created_date"))
			return nil
		},
		read:   readAt("apigateway", func(st *obj) string { return restAPIPath(st.str("id")) }),
		delete: deleteAt("apigateway", func(st *obj) string { return restAPIPath(st.str("id")) }),
	}
}

func restAPIBody(p *obj) map[string]any {
	m := map[string]any{"name": p.str("name"), "apiKeySource": p.str("api_key_source"),
		"binaryMediaTypes": p.strList("binary_media_types"), "disableExecuteApiEndpoint": p.boolean("disable_execute_api_endpoint")}
	putIfSet(m, "description", p, "description")
	putIfSet(m, "policy", p, "policy")
	if ec := endpointConfig(p); ec != nil {
		m["endpointConfiguration"] = ec
	}
	if tags := p.strMap("tags_all"); len(tags) > 0 {
		m["tags"] = tags
	}
	return m
}

func setRestAPI(c *client, p *obj, id, root, created string) {
	p.set("id", id)
	p.set("root_resource_id", root)
	p.set("created_date", created)
	p.set("arn", apiARN(c.region, "/restapis/"+id))
	p.set("execution_arn", executionARN(c.region, id))
	p.setDefault("description", "")
	p.setDefault("policy", "")
}

// readAt refreshes by GETting path: found unless the sandbox answers 404.
func readAt(service string, path func(*obj) string) func(context.Context, *client, *obj) (bool, error) {
	return func(ctx context.Context, c *client, st *obj) (bool, error) {
		err := c.call(ctx, service, "GET", path(st), nil, nil)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

// deleteAt DELETEs path; an object already gone is deleted.
func deleteAt(service string, path func(*obj) string) func(context.Context, *client, *obj) error {
	return func(ctx context.Context, c *client, st *obj) error {
		err := c.call(ctx, service, "DELETE", path(st), nil, nil)
		if isNotFound(err) {
			return nil
		}
		return err
	}
}

func apiResource() *resourceDef {
	resPath := func(st *obj) string {
		return restAPIPath(st.str("rest_api_id")) + "/resources/" + esc(st.str("id"))
	}
	return &resourceDef{
		name: "aws_api_gateway_resource",
		schema: schema.Schema{Attributes: attrs{
			"id":          strAttr(oc),
			"parent_id":   strAttr(req),
			"path":        strAttr(cmp),
			"path_part":   strAttr(req),
			"rest_api_id": strAttr(req | forceNew),
		}},
		plan: func(_ context.Context, _ *client, plan, prior, _ *obj, _ *resource.ModifyPlanResponse) error {
			if prior != nil && changed(plan, prior, "parent_id", "path_part") {
				plan.unknown("path")
			}
			return nil
		},
		create: func(ctx context.Context, c *client, p *obj) error {
			var out struct{ ID, Path string }
			err := c.call(ctx, "apigateway", "POST", restAPIPath(p.str("rest_api_id"))+"/resources/"+esc(p.str("parent_id")),
				map[string]any{"pathPart": p.str("path_part")}, &out)
			if err != nil {
				return fmt.Errorf("resource %s below %s: %w", p.str("path_part"), p.str("parent_id"), err)
			}
			p.set("id", out.ID)
			p.set("path", out.Path)
			return nil
		},
		update: func(ctx context.Context, c *client, p, prior *obj) error {
			var out struct{ ID, Path string }
			err := c.call(ctx, "apigateway", "PUT", resPath(prior),
				map[string]any{"parentId": p.str("parent_id"), "pathPart": p.str("path_part")}, &out)
			if err != nil {
				return fmt.Errorf("resource %s: %w", prior.str("id"), err)
			}
			p.set("path", out.Path)
			return nil
		},
		read: func(ctx context.Context, c *client, st *obj) (bool, error) {
			var out struct{ Path string }
			err := c.call(ctx, "apigateway", "GET", resPath(st), nil, &out)
			if isNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			// A parent moved elsewhere moves this resource's path.
			st.set("path", out.Path)
			return true, nil
		},
		delete: deleteAt("apigateway", resPath),
	}
}

func methodPath(p *obj) string {
	return restAPIPath(p.str("rest_api_id")) + "/resources/" + esc(p.str("resource_id")) + "/methods/" + esc(strings.ToUpper(p.str("http_method")))
}

func apiMethod() *resourceDef {
	put := func(ctx context.Context, c *client, p *obj) error {
		m := map[string]any{"authorizationType": p.str("authorization"), "apiKeyRequired": p.boolean("api_key_required")}
		putIfSet(m, "authorizerId", p, "authorizer_id")
		putIfSet(m, "operationName", p, "operation_name")
		putIfSet(m, "requestValidatorId", p, "request_validator_id")
		if rm := p.strMap("request_models"); len(rm) > 0 {
			m["requestModels"] = rm
		}
		if p.has("request_parameters") {
			m["requestParameters"] = boolMap(p, "request_parameters")
		}
		if sc := p.strList("authorization_scopes"); len(sc) > 0 {
			m["authorizationScopes"] = sc
		}
		if err := c.call(ctx, "apigateway", "PUT", methodPath(p), m, nil); err != nil {
			return fmt.Errorf("method %s of resource %s: %w", p.str("http_method"), p.str("resource_id"), err)
		}
		p.set("id", "agm-"+p.str("rest_api_id")+"-"+p.str("resource_id")+"-"+p.str("http_method"))
		return nil
	}
	return &resourceDef{
		name: "aws_api_gateway_method",
		schema: schema.Schema{Attributes: attrs{
			"api_key_required":     boolAttr(opt),
			"authorization":        strAttr(req),
			"authorization_scopes": setAttr(opt),
			"authorizer_id":        strAttr(opt),
			"http_method":          strAttr(req | forceNew),
			"id":                   strAttr(oc),
			"operation_name":       strAttr(opt),
			"request_models":       mapAttr(opt, nil),
			"request_parameters":   mapAttr(opt, types.BoolType),
			"request_validator_id": strAttr(opt),
			"resource_id":          strAttr(req | forceNew),
			"rest_api_id":          strAttr(req | forceNew),
		}},
		create: put,
		update: func(ctx context.Context, c *client, p, _ *obj) error { return put(ctx, c, p) },
		read:   readAt("apigateway", methodPath),
		delete: deleteAt("apigateway", methodPath),
	}
}

func boolMap(p *obj, k string) map[string]bool {
	out := map[string]bool{}
	var m map[string]tftypes.Value
	if err := p.v[k].As(&m); err != nil {
		return out
	}
	for mk, mv := range m {
		var b bool
		mv.As(&b)
		out[mk] = b
	}
	return out
}

func apiIntegration() *resourceDef {
	integPath := func(p *obj) string { return methodPath(p) + "/integration" }
	put := func(ctx context.Context, c *client, p *obj) error {
		m := map[string]any{"type": p.str("type"), "passthroughBehavior": p.str("passthrough_behavior")}
		putIfSet(m, "httpMethod", p, "integration_http_method")
		putIfSet(m, "uri", p, "uri")
		putIfSet(m, "connectionType", p, "connection_type")
		putIfSet(m, "connectionId", p, "connection_id")
		putIfSet(m, "credentials", p, "credentials")
		putIfSet(m, "contentHandling", p, "content_handling")
		putIfSet(m, "timeoutInMillis", p, "timeout_milliseconds")
		putIfSet(m, "cacheNamespace", p, "cache_namespace")
		if rp := p.strMap("request_parameters"); len(rp) > 0 {
			m["requestParameters"] = rp
		}
		if rt := p.strMap("request_templates"); len(rt) > 0 {
			m["requestTemplates"] = rt
		}
		if ck := p.strList("cache_key_parameters"); len(ck) > 0 {
			m["cacheKeyParameters"] = ck
		}
		if tls := p.block("tls_config"); tls != nil {
			m["tlsConfig"] = map[string]any{"insecureSkipVerification": tls.boolean("insecure_skip_verification")}
		}
		var out struct{ CacheNamespace string }
		if err := c.call(ctx, "apigateway", "PUT", integPath(p), m, &out); err != nil {
			return fmt.Errorf("integration of method %s of resource %s: %w", p.str("http_method"), p.str("resource_id"), err)
		}
		p.set("id", "agi-"+p.str("rest_api_id")+"-"+p.str("resource_id")+"-"+p.str("http_method"))
		p.setIfUnknown("cache_namespace", out.CacheNamespace)
		return nil
	}
	return &resourceDef{
		name: "aws_api_gateway_integration",
		schema: schema.Schema{
			Attributes: attrs{
				"cache_key_parameters":    setAttr(opt),
				"cache_namespace":         strAttr(oc),
				"connection_id":           strAttr(opt),
				"connection_type":         strAttr(opt),
				"content_handling":        strAttr(opt),
				"credentials":             strAttr(opt),
				"http_method":             strAttr(req | forceNew),
				"id":                      strAttr(oc),
				"integration_http_method": strAttr(opt),
				"passthrough_behavior":    strAttr(oc, "WHEN_NO_MATCH"),
				"request_parameters":      mapAttr(opt, nil),
				"request_templates":       mapAttr(opt, nil),
				"resource_id":             strAttr(req | forceNew),
				"rest_api_id":             strAttr(req | forceNew),
				"timeout_milliseconds":    intAttr(opt),
				"type":                    strAttr(req),
				"uri":                     strAttr(opt),
			},
			Blocks: blocks{"tls_config": listBlock(1, attrs{"insecure_skip_verification": boolAttr(opt)}, nil)},
		},
		create: put,
		update: func(ctx context.Context, c *client, p, _ *obj) error { return put(ctx, c, p) },
		read:   readAt("apigateway", integPath),
		delete: deleteAt("apigateway", integPath),
	}
}

func apiDeployment() *resourceDef {
	depPath := func(st *obj) string { return restAPIPath(st.str("rest_api_id")) + "/deployments/" + esc(st.str("id")) }
	fn := forceNew
	return &resourceDef{
		name: "aws_api_gateway_deployment",
		schema: schema.Schema{
			Attributes: attrs{
				"created_date":      strAttr(cmp),
				"description":       strAttr(opt),
				"execution_arn":     strAttr(cmp | deprecated),
				"id":                strAttr(oc),
				"invoke_url":        strAttr(cmp | deprecated),
				"rest_api_id":       strAttr(req | fn),
				"stage_description": strAttr(opt | deprecated | fn),
				"stage_name":        strAttr(opt | deprecated | fn),
				// A deployment is a snapshot: new triggers, new snapshot.
				"triggers":  mapAttr(opt|fn, nil),
				"variables": mapAttr(opt|fn, nil),
			},
			Blocks: blocks{
				"canary_settings": listBlock(1, attrs{
					"percent_traffic": numAttr(opt), "stage_variable_overrides": mapAttr(opt, nil), "use_stage_cache": boolAttr(opt),
				}, nil, true),
			},
		},
		create: func(ctx context.Context, c *client, p *obj) error {
			api := p.str("rest_api_id")
			m := map[string]any{}
			putIfSet(m, "description", p, "description")
			putIfSet(m, "stageName", p, "stage_name")
			putIfSet(m, "stageDescription", p, "stage_description")
			if v := p.strMap("variables"); len(v) > 0 {
				m["variables"] = v
			}
			var out struct{ ID, CreatedDate string }
			if err := c.call(ctx, "apigateway", "POST", restAPIPath(api)+"/deployments", m, &out); err != nil {
				return fmt.Errorf("deployment of REST API %s: %w", api, err)
			}
			p.set("id", out.ID)
			p.set("created_date", out.CreatedDate)
			p.set("execution_arn", executionARN(c.region, api)+"/"+p.str("stage_name"))
			p.set("invoke_url", invokeURL(c.region, api, p.str("stage_name")))
			return nil
		},
		update: func(ctx context.Context, c *client, p, prior *obj) error {
			return c.call(ctx, "apigateway", "PUT", depPath(prior), map[string]any{"description": p.str("description")}, nil)
		},
		read:   readAt("apigateway", depPath),
		delete: deleteAt("apigateway", depPath),
	}
}

func apiStage() *resourceDef {
	stagePath := func(st *obj) string {
		return restAPIPath(st.str("rest_api_id")) + "/stages/" + esc(st.str("stage_name"))
	}
	body := func(p *obj) map[string]any {
		m := map[string]any{"stageName": p.str("stage_name"), "deploymentId": p.str("deployment_id"),
			"cacheClusterEnabled": p.boolean("cache_cluster_enabled"), "tracingEnabled": p.boolean("xray_tracing_enabled")}
		putIfSet(m, "description", p, "description")
		putIfSet(m, "cacheClusterSize", p, "cache_cluster_size")
		putIfSet(m, "clientCertificateId", p, "client_certificate_id")
		putIfSet(m, "documentationVersion", p, "documentation_version")
		if v := p.strMap("variables"); len(v) > 0 {
			m["variables"] = v
		}
		if t := p.strMap("tags_all"); len(t) > 0 {
			m["tags"] = t
		}
		if al := p.block("access_log_settings"); al != nil {
			m["accessLogSettings"] = map[string]any{"destinationArn": al.str("destination_arn"), "format": al.str("format")}
		}
		return m
	}
	set := func(c *client, p *obj) {
		api, stage := p.str("rest_api_id"), p.str("stage_name")
		p.set("id", "ags-"+api+"-"+stage)
		p.set("arn", apiARN(c.region, "/restapis/"+api+"/stages/"+stage))
		p.set("execution_arn", executionARN(c.region, api)+"/"+stage)
		p.set("invoke_url", invokeURL(c.region, api, stage))
		p.set("web_acl_arn", "")
	}
	return &resourceDef{
		name: "aws_api_gateway_stage",
		schema: schema.Schema{
			Attributes: attrs{
				"arn":                   strAttr(cmp),
				"cache_cluster_enabled": boolAttr(opt),
				"cache_cluster_size":    strAttr(opt),
				"client_certificate_id": strAttr(opt),
				"deployment_id":         strAttr(req),
				"description":           strAttr(opt),
				"documentation_version": strAttr(opt),
				"execution_arn":         strAttr(cmp),
				"id":                    strAttr(oc),
				"invoke_url":            strAttr(cmp),
				"rest_api_id":           strAttr(req | forceNew),
				"stage_name":            strAttr(req | forceNew),
				"tags":                  mapAttr(opt, nil),
				"tags_all":              mapAttr(oc, nil),
				"variables":             mapAttr(opt, nil),
				"web_acl_arn":           strAttr(cmp),
				"xray_tracing_enabled":  boolAttr(opt),
			},
			Blocks: blocks{
				"access_log_settings": listBlock(1, attrs{"destination_arn": strAttr(req), "format": strAttr(req)}, nil),
				"canary_settings": listBlock(1, attrs{
					"deployment_id": strAttr(req), "percent_traffic": numAttr(opt), "stage_variable_overrides": mapAttr(opt, nil), "use_stage_cache": boolAttr(opt),
				}, nil),
			},
		},
		create: func(ctx context.Context, c *client, p *obj) error {
			if err := c.call(ctx, "apigateway", "POST", restAPIPath(p.str("rest_api_id"))+"/stages", body(p), nil); err != nil {
				return fmt.Errorf("stage %s of REST API %s: %w", p.str("stage_name"), p.str("rest_api_id"), err)
			}
			set(c, p)
			return nil
		},
		update: func(ctx context.Context, c *client, p, _ *obj) error {
			if err := c.call(ctx, "apigateway", "PUT", stagePath(p), body(p), nil); err != nil {
				return fmt.Errorf("stage %s of REST API %s: %w", p.str("stage_name"), p.str("rest_api_id"), err)
			}
			set(c, p)
			return nil
		},
		read:   readAt("apigateway", stagePath),
		delete: deleteAt("apigateway", stagePath),
	}
}

func apiDomainName() *resourceDef {
	dnPath := func(st *obj) string { return "/domainnames/" + esc(st.str("domain_name")) }
	put := func(ctx context.Context, c *client, p *obj, method, path string) error {
		m := map[string]any{"domainName": p.str("domain_name"), "securityPolicy": p.str("security_policy")}
		for k, a := range map[string]string{"certificateArn": "certificate_arn", "certificateName": "certificate_name",
			"regionalCertificateArn": "regional_certificate_arn", "regionalCertificateName": "regional_certificate_name",
			"ownershipVerificationCertificateArn": "ownership_verification_certificate_arn", "policy": "policy"} {
			putIfSet(m, k, p, a)
		}
		if p.has("certificate_body") || p.has("certificate_private_key") {
			return fmt.Errorf("domain name %s: uploaded certificates: the sandbox takes ACM certificate ARNs only", p.str("domain_name"))
		}
		if ec := endpointConfig(p); ec != nil {
			m["endpointConfiguration"] = ec
		}
		if t := p.strMap("tags_all"); len(t) > 0 {
			m["tags"] = t
		}
		var out struct {
			RegionalDomainName, RegionalHostedZoneID, DistributionDomainName, DistributionHostedZoneID, CertificateUploadDate string
		}
		if err := c.call(ctx, "apigateway", method, path, m, &out); err != nil {
			return fmt.Errorf("domain name %s: %w", p.str("domain_name"), err)
		}
		name := p.str("domain_name")
		p.set("id", name)
		p.set("arn", apiARN(c.region, "/domainnames/"+name))
		p.set("regional_domain_name", out.RegionalDomainName)
		p.set("regional_zone_id", out.RegionalHostedZoneID)
		p.set("cloudfront_domain_name", out.DistributionDomainName)
		p.set("cloudfront_zone_id", out.DistributionHostedZoneID)
		p.setIfUnknown("certificate_upload_date", out.CertificateUploadDate)
		p.set("domain_name_id", "")
		p.setIfUnknown("ownership_verification_certificate_arn", "")
		return nil
	}
	return &resourceDef{
		name: "aws_api_gateway_domain_name",
		schema: schema.Schema{
			Attributes: attrs{
				"arn":                                    strAttr(cmp),
				"certificate_arn":                        strAttr(opt),
				"certificate_body":                       strAttr(opt | forceNew),
				"certificate_chain":                      strAttr(opt | forceNew),
				"certificate_name":                       strAttr(opt),
				"certificate_private_key":                strAttr(opt | forceNew | sensitive),
				"certificate_upload_date":                strAttr(cmp),
				"cloudfront_domain_name":                 strAttr(cmp),
				"cloudfront_zone_id":                     strAttr(cmp),
				"domain_name":                            strAttr(req | forceNew),
				"domain_name_id":                         strAttr(cmp),
				"id":                                     strAttr(oc),
				"ownership_verification_certificate_arn": strAttr(oc),
				"policy":                                 strAttr(opt),
				"regional_certificate_arn":               strAttr(opt),
				"regional_certificate_name":              strAttr(opt),
				"regional_domain_name":                   strAttr(cmp),
				"regional_zone_id":                       strAttr(cmp),
				"security_policy":                        strAttr(oc, "TLS_1_2"),
				"tags":                                   mapAttr(opt, nil),
				"tags_all":                               mapAttr(oc, nil),
			},
			Blocks: blocks{
				"endpoint_configuration": listBlock(1, attrs{"ip_address_type": strAttr(oc, "ipv4"), "types": listAttr(req)}, nil),
				"mutual_tls_authentication": listBlock(1, attrs{
					"truststore_uri": strAttr(req), "truststore_version": strAttr(opt),
				}, nil),
			},
		},
		create: func(ctx context.Context, c *client, p *obj) error { return put(ctx, c, p, "POST", "/domainnames") },
		update: func(ctx context.Context, c *client, p, _ *obj) error { return put(ctx, c, p, "PUT", dnPath(p)) },
		read:   readAt("apigateway", dnPath),
		delete: deleteAt("apigateway", dnPath),
	}
}

func apiBasePathMapping() *resourceDef {
	bpPath := func(st *obj) string {
		bp := st.str("base_path")
		if bp == "" {
			bp = "(none)"
		}
		return "/domainnames/" + esc(st.str("domain_name")) + "/basepathmappings/" + esc(bp)
	}
	body := func(p *obj) map[string]any {
		m := map[string]any{"basePath": p.str("base_path"), "restApiId": p.str("api_id")}
		putIfSet(m, "stage", p, "stage_name")
		return m
	}
	return &resourceDef{
		name: "aws_api_gateway_base_path_mapping",
		schema: schema.Schema{Attributes: attrs{
			"api_id":         strAttr(req),
			"base_path":      strAttr(opt),
			"domain_name":    strAttr(req | forceNew),
			"domain_name_id": strAttr(opt | forceNew),
			"id":             strAttr(oc),
			"stage_name":     strAttr(opt),
		}},
		create: func(ctx context.Context, c *client, p *obj) error {
			if err := c.call(ctx, "apigateway", "POST", "/domainnames/"+esc(p.str("domain_name"))+"/basepathmappings", body(p), nil); err != nil {
				return fmt.Errorf("base path mapping %q of %s: %w", p.str("base_path"), p.str("domain_name"), err)
			}
			p.set("id", p.str("domain_name")+"/"+p.str("base_path"))
			return nil
		},
		update: func(ctx context.Context, c *client, p, prior *obj) error {
			if err := c.call(ctx, "apigateway", "PUT", bpPath(prior), body(p), nil); err != nil {
				return fmt.Errorf("base path mapping %q of %s: %w", prior.str("base_path"), p.str("domain_name"), err)
			}
			p.set("id", p.str("domain_name")+"/"+p.str("base_path"))
			return nil
		},
		read:   readAt("apigateway", bpPath),
		delete: deleteAt("apigateway", bpPath),
	}
}
