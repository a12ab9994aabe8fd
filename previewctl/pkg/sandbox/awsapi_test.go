package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/service/artifact"
)

// awsCall sends a control-plane request and decodes the answer into out
// (when not nil); it fails the test unless the status is want.
func awsCall(t *testing.T, s *sandbox.Sandbox, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	// The region comes from the SigV4 scope, as the provider sends it.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=sandbox/20260101/eu-west-1/apigateway/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s; want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// getHost GETs path with an arbitrary Host on the sandbox's listener.
func getHost(t *testing.T, addr, host, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, nil)
	_, port, _ := strings.Cut(addr, ":")
	req.Host = host + ":" + port
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func objectVersion(t *testing.T, s *sandbox.Sandbox, key string) string {
	t.Helper()
	c, err := artifact.NewS3Client(context.Background(), artifact.S3Options{
		Region: "us-east-1", Endpoint: s.S3Endpoint(), PathStyle: true, AccessKeyID: "sandbox", SecretAccessKey: "sandbox",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	v := aws.ToString(out.VersionId)
	if len(v) != 32 {
		t.Fatalf("head %s: version ID %q; want 32 characters (the bucket is versioned)", key, v)
	}
	return v
}

// apiSetup is what infra/ creates, through the control plane's HTTP API.
type apiSetup struct {
	api, root, hello, deployment, fn, env, host string
}

const apiPrefix = "/aws/apigateway"

func invokeURI(fn string) string {
	return "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:000000000000:function:" + fn + "/invocations"
}

func putRoute(t *testing.T, s *sandbox.Sandbox, api, res, method, fn string) {
	t.Helper()
	base := apiPrefix + "/restapis/" + api + "/resources/" + res + "/methods/" + method
	awsCall(t, s, "PUT", base, map[string]any{"authorizationType": "NONE"}, 201, nil)
	awsCall(t, s, "PUT", base+"/integration", map[string]any{"type": "AWS_PROXY", "httpMethod": "POST", "uri": invokeURI(fn)}, 201, nil)
}

func setupAPI(t *testing.T, s *sandbox.Sandbox, env, key string) apiSetup {
	t.Helper()
	a := apiSetup{fn: "preview-hello-service-" + env, env: env, host: env + ".hello-service.localhost"}
	awsCall(t, s, "PUT", "/aws/lambda/2015-03-31/functions/"+a.fn, map[string]any{
		"Role": "arn:aws:iam::000000000000:role/" + a.fn, "Runtime": "provided.al2023", "Handler": "bootstrap",
		"Timeout": 10, "MemorySize": 128, "Architectures": []string{"arm64"},
		"Code":        map[string]string{"S3Bucket": s.Bucket(), "S3Key": key, "S3ObjectVersion": objectVersion(t, s, key)},
		"Environment": map[string]any{"Variables": map[string]string{"PREVIEW_ENVIRONMENT_ID": env}},
	}, 200, nil)
	var api struct{ ID, RootResourceID string }
	awsCall(t, s, "POST", apiPrefix+"/restapis", map[string]any{"name": a.fn, "endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}}, 201, &api)
	a.api, a.root = api.ID, api.RootResourceID
	var res struct{ ID, Path string }
	awsCall(t, s, "POST", apiPrefix+"/restapis/"+a.api+"/resources/"+a.root, map[string]string{"pathPart": "hello"}, 201, &res)
	if res.Path != "/hello" {
		t.Fatalf("resource path %q; want /hello", res.Path)
	}
	a.hello = res.ID
	putRoute(t, s, a.api, a.root, "GET", a.fn)
	putRoute(t, s, a.api, a.hello, "GET", a.fn)
	a.deployment = deployAPI(t, s, a.api)
	awsCall(t, s, "POST", apiPrefix+"/restapis/"+a.api+"/stages", map[string]string{"stageName": env, "deploymentId": a.deployment}, 201, nil)
	allowInvoke(t, s, a)
	var dn struct{ RegionalDomainName, RegionalHostedZoneID string }
	awsCall(t, s, "POST", apiPrefix+"/domainnames", map[string]any{
		"domainName": a.host, "regionalCertificateArn": "arn:aws:acm:eu-west-1:000000000000:certificate/0b6f0c8e-6a7e-4c1b-9f3c-2f0c8b6f0c8e",
		"endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}, "securityPolicy": "TLS_1_2",
	}, 201, &dn)
	if !strings.HasSuffix(dn.RegionalDomainName, ".execute-api.eu-west-1.amazonaws.com") || dn.RegionalHostedZoneID != "ZLY8HYME6SFDD" {
		t.Fatalf("domain name: regional %q zone %q", dn.RegionalDomainName, dn.RegionalHostedZoneID)
	}
	awsCall(t, s, "POST", apiPrefix+"/domainnames/"+a.host+"/basepathmappings", map[string]string{"restApiId": a.api, "stage": env}, 201, nil)
	return a
}

func deployAPI(t *testing.T, s *sandbox.Sandbox, api string) string {
	t.Helper()
	var d struct{ ID string }
	awsCall(t, s, "POST", apiPrefix+"/restapis/"+api+"/deployments", map[string]string{"description": "test"}, 201, &d)
	return d.ID
}

func allowInvoke(t *testing.T, s *sandbox.Sandbox, a apiSetup) {
	t.Helper()
	awsCall(t, s, "PUT", "/aws/lambda/2015-03-31/functions/"+a.fn+"/policy/AllowInvokeFromThisApi", map[string]string{
		"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
		"SourceArn": "arn:aws:execute-api:eu-west-1:000000000000:" + a.api + "/" + a.env + "/GET/*",
	}, 201, nil)
}

// TestControlPlane drives the control plane as the provider does for
// infra/ and checks what the gateway then serves: routes, the deployment
// snapshot, permissions, idempotent creates, coexistence with the direct
// API, restart, and removal.
func TestControlPlane(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	upload(t, s.Sandbox, "latest.zip", artifactZip(t, shaA))
	upload(t, s.Sandbox, shaA+".zip", artifactZip(t, shaA))
	a := setupAPI(t, s.Sandbox, "0a1b2c3d", "latest.zip")
	fnBefore, _ := s.Lambdas().Get(a.fn)

	check := func(t *testing.T, s *running, cases []struct {
		method, path string
		status       int
		body         string
	}) {
		t.Helper()
		for _, c := range cases {
			code, body := getHost(t, s.Addr(), a.host, c.method, c.path)
			if code != c.status || (c.body != "" && body != c.body) {
				t.Errorf("%s %s = %d %q; want %d %q", c.method, c.path, code, body, c.status, c.body)
			}
		}
	}
	type tc = struct {
		method, path string
		status       int
		body         string
	}
	served := []tc{
		{"GET", "/", 200, want(shaA)},
		{"GET", "/hello", 200, want(shaA)},
		{"POST", "/hello", 403, `{"message":"Missing Authentication Token"}`},
		{"GET", "/nope", 403, `{"message":"Missing Authentication Token"}`},
		{"GET", "/new", 403, `{"message":"Missing Authentication Token"}`},
	}
	check(t, s, served)

	// Environments lists it like a direct one, next to a direct one.
	deploy(t, s.Sandbox, "e2e00001", shaA, 2)
	envs := s.Environments()
	if len(envs) != 2 || envs[0].ID != "0a1b2c3d" || envs[1].ID != "e2e00001" {
		t.Fatalf("environments %+v; want 0a1b2c3d (control plane) and e2e00001 (direct)", envs)
	}
	e := envs[0]
	if e.Service != "hello-service" || e.URL != sandbox.EnvironmentURL(s.Addr(), "0a1b2c3d", "hello-service") ||
		e.Version != "latest" || e.ArtifactKey != "latest.zip" || e.Function != a.fn || e.ObjectVersion != objectVersion(t, s.Sandbox, "latest.zip") ||
		!slices.Equal(e.Routes, []string{"GET /", "GET /hello"}) || e.Timeout != "10s" || e.Env["PREVIEW_ENVIRONMENT_ID"] != "0a1b2c3d" {
		t.Fatalf("control-plane environment %+v", e)
	}
	if code, body, _ := get(s.Addr(), "e2e00001", "/hello"); code != 200 || strings.TrimSpace(body) != want(shaA) {
		t.Fatalf("direct environment next to it: %d %q", code, body)
	}
	// Each path refuses the other's objects.
	if err := s.Remove(context.Background(), "0a1b2c3d"); !errors.Is(err, sandbox.ErrManaged) {
		t.Fatalf("direct Remove of a control-plane environment = %v; want ErrManaged", err)
	}
	if _, err := s.Deploy(context.Background(), sandbox.Deployment{ID: "0a1b2c3d", Service: service, Version: shaA, ArtifactKey: "latest.zip"}); !errors.Is(err, sandbox.ErrManaged) {
		t.Fatalf("direct Deploy over a control-plane environment = %v; want ErrManaged", err)
	}
	awsCall(t, s.Sandbox, "PUT", "/aws/lambda/2015-03-31/functions/e2e00001", map[string]any{
		"Role": "arn:aws:iam::000000000000:role/x", "Runtime": "provided.al2023", "Handler": "bootstrap",
		"Code": map[string]string{"S3Bucket": s.Bucket(), "S3Key": "latest.zip"},
	}, 409, nil)

	// A create retried after a kill adopts what the first one made.
	var again struct{ ID, RootResourceID string }
	awsCall(t, s.Sandbox, "POST", apiPrefix+"/restapis", map[string]any{"name": a.fn, "endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}}, 201, &again)
	var res struct{ ID string }
	awsCall(t, s.Sandbox, "POST", apiPrefix+"/restapis/"+a.api+"/resources/"+a.root, map[string]string{"pathPart": "hello"}, 201, &res)
	if again.ID != a.api || again.RootResourceID != a.root || res.ID != a.hello {
		t.Fatalf("retried creates made new objects: api %s->%s root %s->%s resource %s->%s", a.api, again.ID, a.root, again.RootResourceID, a.hello, res.ID)
	}
	// An identical function PUT redeploys nothing.
	setupFn := func() {
		awsCall(t, s.Sandbox, "PUT", "/aws/lambda/2015-03-31/functions/"+a.fn, map[string]any{
			"Role": "arn:aws:iam::000000000000:role/" + a.fn, "Runtime": "provided.al2023", "Handler": "bootstrap",
			"Timeout": 10, "MemorySize": 128, "Architectures": []string{"arm64"}, "Description": "only metadata changed",
			"Code":        map[string]string{"S3Bucket": s.Bucket(), "S3Key": "latest.zip"},
			"Environment": map[string]any{"Variables": map[string]string{"PREVIEW_ENVIRONMENT_ID": "0a1b2c3d"}},
		}, 200, nil)
	}
	setupFn()
	if fn, _ := s.Lambdas().Get(a.fn); fn != fnBefore {
		t.Fatal("a PUT that changed only the description redeployed the function")
	}

	// Deployment snapshot: a method added later is not served until a new
	// deployment is made and the stage moved to it.
	var newRes struct{ ID string }
	awsCall(t, s.Sandbox, "POST", apiPrefix+"/restapis/"+a.api+"/resources/"+a.root, map[string]string{"pathPart": "new"}, 201, &newRes)
	putRoute(t, s.Sandbox, a.api, newRes.ID, "GET", a.fn)
	check(t, s, served)
	dep2 := deployAPI(t, s.Sandbox, a.api)
	check(t, s, served) // the stage still points at the first deployment
	awsCall(t, s.Sandbox, "PUT", apiPrefix+"/restapis/"+a.api+"/stages/"+a.env, map[string]string{"deploymentId": dep2}, 200, nil)
	// The function itself answers /new (the hello service knows only / and /hello).
	check(t, s, []tc{{"GET", "/new", 404, "not found"}, {"GET", "/hello", 200, want(shaA)}})
	// The deployment a stage uses cannot go; the old one can.
	awsCall(t, s.Sandbox, "DELETE", apiPrefix+"/restapis/"+a.api+"/deployments/"+dep2, nil, 400, nil)
	awsCall(t, s.Sandbox, "DELETE", apiPrefix+"/restapis/"+a.api+"/deployments/"+a.deployment, nil, 202, nil)

	// Without the Lambda permission API Gateway may not invoke: 500.
	awsCall(t, s.Sandbox, "DELETE", "/aws/lambda/2015-03-31/functions/"+a.fn+"/policy/AllowInvokeFromThisApi", nil, 204, nil)
	check(t, s, []tc{{"GET", "/hello", 500, `{"message":"Internal server error"}`}})
	// A permission for another stage or method does not count.
	awsCall(t, s.Sandbox, "PUT", "/aws/lambda/2015-03-31/functions/"+a.fn+"/policy/Other", map[string]string{
		"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
		"SourceArn": "arn:aws:execute-api:eu-west-1:000000000000:" + a.api + "/other/POST/*",
	}, 201, nil)
	check(t, s, []tc{{"GET", "/hello", 500, `{"message":"Internal server error"}`}})
	allowInvoke(t, s.Sandbox, a)
	check(t, s, []tc{{"GET", "/hello", 200, want(shaA)}})

	// A restart serves from state.
	s.stop()
	s = start(t, dir)
	check(t, s, []tc{{"GET", "/", 200, want(shaA)}, {"GET", "/new", 404, "not found"}, {"POST", "/", 403, ""}})
	if envs := s.Environments(); len(envs) != 2 || envs[0].Function != a.fn {
		t.Fatalf("after restart: environments %+v", envs)
	}

	// Removal: the function's emulators stop; then nothing serves the host.
	awsCall(t, s.Sandbox, "DELETE", "/aws/lambda/2015-03-31/functions/"+a.fn, nil, 204, nil)
	check(t, s, []tc{{"GET", "/hello", 500, `{"message":"Internal server error"}`}})
	awsCall(t, s.Sandbox, "DELETE", apiPrefix+"/domainnames/"+a.host, nil, 202, nil)
	awsCall(t, s.Sandbox, "DELETE", apiPrefix+"/restapis/"+a.api, nil, 202, nil)
	code, body := getHost(t, s.Addr(), a.host, "GET", "/")
	if code != 404 {
		t.Fatalf("after destroy GET / = %d %q; want 404", code, body)
	}
	if err := s.Remove(context.Background(), "e2e00001"); err != nil {
		t.Fatal(err)
	}
	if envs := s.Environments(); len(envs) != 0 {
		t.Fatalf("after removal: environments %+v", envs)
	}
	if pids := emulators(t, dir); len(pids) != 0 {
		t.Fatalf("emulators left after removal: %v", pids)
	}
	var n int
	for _, table := range []string{"aws_lambda_functions", "aws_lambda_permissions", "apigw_rest_apis", "apigw_resources", "apigw_methods",
		"apigw_integrations", "apigw_deployments", "apigw_stages", "apigw_domain_names", "apigw_base_path_mappings"} {
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("table %s: %d rows left (%v)", table, n, err)
		}
	}
}

// TestControlPlaneRefusals: inputs AWS refuses are refused with its error
// types, and nothing is recorded.
func TestControlPlaneRefusals(t *testing.T) {
	s := start(t, t.TempDir())
	upload(t, s.Sandbox, "latest.zip", artifactZip(t, shaA))
	fn := func(mod func(map[string]any)) map[string]any {
		in := map[string]any{"Role": "arn:aws:iam::000000000000:role/r", "Runtime": "provided.al2023", "Handler": "bootstrap",
			"Code": map[string]string{"S3Bucket": s.Bucket(), "S3Key": "latest.zip"}}
		mod(in)
		return in
	}
	var api struct{ ID, RootResourceID string }
	awsCall(t, s.Sandbox, "POST", apiPrefix+"/restapis", map[string]any{"name": "refusals"}, 201, &api)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		errType            string
	}{
		{"python runtime", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) { m["Runtime"] = "python3.12" }), 400, "InvalidParameterValueException"},
		{"missing key", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) { m["Code"] = map[string]string{"S3Bucket": s.Bucket(), "S3Key": "nope.zip"} }), 400, "InvalidParameterValueException"},
		{"old object version", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) {
			m["Code"] = map[string]string{"S3Bucket": s.Bucket(), "S3Key": "latest.zip", "S3ObjectVersion": strings.Repeat("0", 32)}
		}), 400, "InvalidParameterValueException"},
		{"other bucket", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) { m["Code"] = map[string]string{"S3Bucket": "other", "S3Key": "latest.zip"} }), 400, "InvalidParameterValueException"},
		{"timeout", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) { m["Timeout"] = 901 }), 400, "InvalidParameterValueException"},
		{"reserved variable", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) {
			m["Environment"] = map[string]any{"Variables": map[string]string{"AWS_SECRET_ACCESS_KEY": "mine"}}
		}), 400, "InvalidParameterValueException"},
		{"unknown field", "PUT", "/aws/lambda/2015-03-31/functions/f1", fn(func(m map[string]any) { m["Bogus"] = 1 }), 400, "InvalidParameterValueException"},
		{"no such function", "GET", "/aws/lambda/2015-03-31/functions/f1", nil, 404, "ResourceNotFoundException"},
		{"permission of no function", "PUT", "/aws/lambda/2015-03-31/functions/f1/policy/s", map[string]string{"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com"}, 404, "ResourceNotFoundException"},
		{"bad path part", "POST", apiPrefix + "/restapis/" + api.ID + "/resources/" + api.RootResourceID, map[string]string{"pathPart": "a b"}, 400, "BadRequestException"},
		{"no such parent", "POST", apiPrefix + "/restapis/" + api.ID + "/resources/nope", map[string]string{"pathPart": "a"}, 404, "NotFoundException"},
		{"deployment without methods", "POST", apiPrefix + "/restapis/" + api.ID + "/deployments", map[string]string{}, 400, "BadRequestException"},
		{"integration without method", "PUT", apiPrefix + "/restapis/" + api.ID + "/resources/" + api.RootResourceID + "/methods/GET/integration",
			map[string]string{"type": "AWS_PROXY", "httpMethod": "POST", "uri": invokeURI("f1")}, 404, "NotFoundException"},
		{"domain name that is an IP", "POST", apiPrefix + "/domainnames", map[string]any{"domainName": "127.0.0.1", "regionalCertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/x",
			"endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}}, 400, "BadRequestException"},
		{"regional domain without certificate", "POST", apiPrefix + "/domainnames", map[string]any{"domainName": "a.b.localhost",
			"endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}}, 400, "BadRequestException"},
		{"mapping of no domain", "POST", apiPrefix + "/domainnames/a.b.localhost/basepathmappings", map[string]string{"restApiId": api.ID}, 404, "NotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			awsCall(t, s.Sandbox, tc.method, tc.path, tc.body, tc.status, &e)
			if e.Type != tc.errType || e.Message == "" {
				t.Fatalf("error %+v; want type %s with a message", e, tc.errType)
			}
		})
	}
	if fns := s.Lambdas().List(); len(fns) != 0 {
		t.Fatalf("refused creates deployed %d functions", len(fns))
	}
}

// TestFunctionsReachS3: a function's runtime gets the S3 stand-in's
// endpoint, a region and credentials, as a Lambda gets a region and its
// role's credentials: the real hello service, given infra/'s
// PREVIEW_GREETING_BUCKET and PREVIEW_GREETING_KEY, reads its greeting
// from a bucket of the sandbox's S3 at request time (a new object is
// served within the service's one-second cache), and answers 503 when the
// object is gone.
func TestFunctionsReachS3(t *testing.T) {
	s := start(t, t.TempDir())
	upload(t, s.Sandbox, "latest.zip", artifactZip(t, shaA))
	a := setupAPI(t, s.Sandbox, "0a1b2c3d", "latest.zip")

	ctx := context.Background()
	c, err := artifact.NewS3Client(ctx, artifact.S3Options{Region: "eu-west-1", Endpoint: s.S3Endpoint(), PathStyle: true,
		AccessKeyID: "sandbox", SecretAccessKey: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "preview-0a1b2c3d-20260101000000000000000001"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	putGreeting := func(g string) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("greeting.txt"),
			Body: strings.NewReader(g), ContentType: aws.String("text/plain; charset=utf-8")}); err != nil {
			t.Fatal(err)
		}
	}
	putGreeting("Hello from the data bucket")
	awsCall(t, s.Sandbox, "PUT", "/aws/lambda/2015-03-31/functions/"+a.fn, map[string]any{
		"Role": "arn:aws:iam::000000000000:role/" + a.fn, "Runtime": "provided.al2023", "Handler": "bootstrap", "Timeout": 10,
		"Code": map[string]string{"S3Bucket": s.Bucket(), "S3Key": "latest.zip"},
		"Environment": map[string]any{"Variables": map[string]string{"PREVIEW_ENVIRONMENT_ID": "0a1b2c3d",
			"PREVIEW_GREETING_BUCKET": bucket, "PREVIEW_GREETING_KEY": "greeting.txt"}},
	}, 200, nil)
	served := func(code int, body string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			gotCode, got := getHost(t, s.Addr(), a.host, "GET", "/hello")
			if gotCode == code && got == body {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /hello = %d %q; want %d %q", gotCode, got, code, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	served(200, shaA+": Hello from the data bucket")
	putGreeting("Hello again")
	served(200, shaA+": Hello again")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("greeting.txt")}); err != nil {
		t.Fatal(err)
	}
	served(503, "service unavailable: the greeting could not be read")
}
