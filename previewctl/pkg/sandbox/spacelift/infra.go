package spacelift

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Function is what an environment run hands to the data plane: the part of
// infra/ the sandbox can run for real.
type Function struct {
	EnvironmentID string
	Service       string
	Name          string
	Bucket        string
	ArtifactKey   string
	Handler       string
	Runtime       string
	Env           map[string]string
	Timeout       time.Duration
	MemoryMB      int
	Routes        []Route
}

// Route is one API Gateway method on one resource path.
type Route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// infraPlan is the emulation plan for one environment run.
type infraPlan struct {
	Function    Function
	Emulated    []string // resource addresses the sandbox realises
	NotEmulated []string // resource addresses it only records
}

// emulated lists the resource types whose meaning the sandbox reproduces:
// the function and the API's routes. Everything else (IAM, logs, DNS,
// certificates) has no local equivalent and is reported as such.
var emulated = map[string]bool{
	"aws_lambda_function":        true,
	"aws_api_gateway_rest_api":   true,
	"aws_api_gateway_resource":   true,
	"aws_api_gateway_method":     true,
	"aws_apigatewayv2_route":     true,
	"aws_lambda_permission":      true,
	"aws_api_gateway_stage":      true,
	"aws_api_gateway_deployment": true,
}

// planInfra evaluates infra/ with the stack's TF_VAR_* values.
func planInfra(dir string, stack Stack) (infraPlan, error) {
	var plan infraPlan
	m, err := loadModule(dir)
	if err != nil {
		return plan, err
	}
	inputs := map[string]cty.Value{}
	for k, v := range stack.Env {
		if name, ok := strings.CutPrefix(k, "TF_VAR_"); ok {
			inputs[name] = cty.StringVal(v)
		}
	}
	vars, err := m.variableValues(inputs)
	if err != nil {
		return plan, err
	}
	ctx := m.evalContext(vars)

	fns := m.blocks("resource", "aws_lambda_function")
	if len(fns) != 1 {
		return plan, fmt.Errorf("infra: the sandbox emulates exactly one aws_lambda_function, found %d", len(fns))
	}
	fb := fns[0]
	f := Function{EnvironmentID: stack.EnvironmentID, Service: stack.Service, Env: map[string]string{}}
	for _, a := range []struct {
		name string
		dst  *string
		def  string
	}{
		{"function_name", &f.Name, ""}, {"s3_bucket", &f.Bucket, ""}, {"s3_key", &f.ArtifactKey, ""},
		{"handler", &f.Handler, ""}, {"runtime", &f.Runtime, ""},
	} {
		v, err := attrString(fb.Body, a.name, ctx, a.def)
		if err != nil {
			return plan, fmt.Errorf("%s aws_lambda_function.%s: %w", where(fb), fb.Labels[1], err)
		}
		*a.dst = v
	}
	if f.ArtifactKey == "" {
		return plan, fmt.Errorf("%s aws_lambda_function.%s: the sandbox needs s3_key (code from the artifact bucket)", where(fb), fb.Labels[1])
	}
	timeout, err := attrString(fb.Body, "timeout", ctx, "3") // Lambda's default
	if err != nil {
		return plan, fmt.Errorf("%s aws_lambda_function.%s: %w", where(fb), fb.Labels[1], err)
	}
	secs, err := strconv.Atoi(timeout)
	if err != nil || secs < 1 || secs > 900 {
		return plan, fmt.Errorf("%s aws_lambda_function.%s: timeout %q is not 1..900 seconds", where(fb), fb.Labels[1], timeout)
	}
	f.Timeout = time.Duration(secs) * time.Second
	mem, err := attrString(fb.Body, "memory_size", ctx, "128")
	if err != nil {
		return plan, fmt.Errorf("%s aws_lambda_function.%s: %w", where(fb), fb.Labels[1], err)
	}
	f.MemoryMB, _ = strconv.Atoi(mem)
	for _, b := range fb.Body.Blocks {
		if b.Type == "environment" {
			env, err := attrStringMap(b.Body, "variables", ctx)
			if err != nil {
				return plan, fmt.Errorf("%s aws_lambda_function.%s environment: %w", where(fb), fb.Labels[1], err)
			}
			f.Env = env
		}
	}
	routes, err := restRoutes(m, ctx)
	if err != nil {
		return plan, err
	}
	v2, err := httpRoutes(m, ctx)
	if err != nil {
		return plan, err
	}
	f.Routes = append(routes, v2...)
	if len(f.Routes) == 0 {
		return plan, fmt.Errorf("infra: no API Gateway method or route reaches the function")
	}
	plan.Function = f
	for _, b := range m.resources {
		addr := b.Labels[0] + "." + b.Labels[1]
		if b.Type == "data" {
			addr = "data." + addr
		}
		if b.Type == "resource" && emulated[b.Labels[0]] {
			plan.Emulated = append(plan.Emulated, addr)
		} else {
			plan.NotEmulated = append(plan.NotEmulated, addr)
		}
	}
	return plan, nil
}

// restRoutes turns aws_api_gateway_resource/method blocks into routes by
// following parent_id and resource_id references. The API's root resource
// is any reference to a rest_api's root_resource_id.
func restRoutes(m *module, ctx *hcl.EvalContext) ([]Route, error) {
	type res struct {
		parent hcl.Traversal
		part   string
	}
	resources := map[string]res{}
	for _, b := range m.blocks("resource", "aws_api_gateway_resource") {
		if _, has := b.Body.Attributes["for_each"]; has {
			return nil, fmt.Errorf("%s aws_api_gateway_resource.%s: for_each is not emulated", where(b), b.Labels[1])
		}
		part, err := attrString(b.Body, "path_part", ctx, "")
		if err != nil {
			return nil, fmt.Errorf("%s aws_api_gateway_resource.%s: %w", where(b), b.Labels[1], err)
		}
		pa, ok := b.Body.Attributes["parent_id"]
		if !ok {
			return nil, fmt.Errorf("%s aws_api_gateway_resource.%s: no parent_id", where(b), b.Labels[1])
		}
		resources[b.Labels[1]] = res{parent: traversalOf(pa.Expr), part: part}
	}
	var pathOf func(tr hcl.Traversal, depth int) (string, error)
	pathOf = func(tr hcl.Traversal, depth int) (string, error) {
		if depth > 32 {
			return "", fmt.Errorf("resource paths nest too deep (a cycle?)")
		}
		names := traversalNames(tr)
		switch {
		case len(names) >= 3 && names[0] == "aws_api_gateway_rest_api" && names[2] == "root_resource_id":
			return "", nil
		case len(names) >= 3 && names[0] == "aws_api_gateway_resource" && names[2] == "id":
			r, ok := resources[names[1]]
			if !ok {
				return "", fmt.Errorf("unknown resource aws_api_gateway_resource.%s", names[1])
			}
			parent, err := pathOf(r.parent, depth+1)
			if err != nil {
				return "", err
			}
			return parent + "/" + r.part, nil
		}
		return "", fmt.Errorf("cannot follow %q to an API resource", strings.Join(names, "."))
	}
	var out []Route
	for _, b := range m.blocks("resource", "aws_api_gateway_method") {
		method, err := attrString(b.Body, "http_method", ctx, "")
		if err != nil {
			return nil, fmt.Errorf("%s aws_api_gateway_method.%s: %w", where(b), b.Labels[1], err)
		}
		ra, ok := b.Body.Attributes["resource_id"]
		if !ok {
			return nil, fmt.Errorf("%s aws_api_gateway_method.%s: no resource_id", where(b), b.Labels[1])
		}
		p, err := pathOf(traversalOf(ra.Expr), 0)
		if err != nil {
			return nil, fmt.Errorf("%s aws_api_gateway_method.%s: %w", where(b), b.Labels[1], err)
		}
		if p == "" {
			p = "/"
		}
		out = append(out, Route{Method: strings.ToUpper(method), Path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out, nil
}

// httpRoutes reads HTTP API (v2) route keys such as "GET /hello", so a fork
// that moves infra/ to an HTTP API still runs in the sandbox.
func httpRoutes(m *module, ctx *hcl.EvalContext) ([]Route, error) {
	var out []Route
	for _, b := range m.blocks("resource", "aws_apigatewayv2_route") {
		key, err := attrString(b.Body, "route_key", ctx, "")
		if err != nil {
			return nil, fmt.Errorf("%s aws_apigatewayv2_route.%s: %w", where(b), b.Labels[1], err)
		}
		method, path, ok := strings.Cut(key, " ")
		if !ok {
			return nil, fmt.Errorf("%s aws_apigatewayv2_route.%s: route_key %q is not \"METHOD /path\"", where(b), b.Labels[1], key)
		}
		out = append(out, Route{Method: strings.ToUpper(method), Path: path})
	}
	return out, nil
}

func traversalOf(e hclsyntax.Expression) hcl.Traversal {
	if st, ok := e.(*hclsyntax.ScopeTraversalExpr); ok {
		return st.Traversal
	}
	return nil
}

func traversalNames(tr hcl.Traversal) []string {
	var out []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		}
	}
	return out
}
