package sandbox

// AWSEnv is the environment that points AWS clients at this sandbox, with
// the variables the real AWS SDKs and the aws provider read: the S3
// stand-in, the Lambda and API Gateway control plane, and throw-away
// credentials. The Spacelift stand-in gives it to every run.
func (s *Sandbox) AWSEnv() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":          s.S3Endpoint(),
		"AWS_ENDPOINT_URL_LAMBDA":      s.URL() + LambdaPrefix,
		"AWS_ENDPOINT_URL_API_GATEWAY": s.URL() + APIGatewayPrefix,
		"AWS_ACCESS_KEY_ID":            "sandbox",
		"AWS_SECRET_ACCESS_KEY":        "sandbox",
		"AWS_REGION":                   "us-east-1",
		"AWS_EC2_METADATA_DISABLED":    "true",
	}
}

// FunctionEnv is what the sandbox adds to every Lambda function's runtime
// environment, as Lambda gives a function its execution role's credentials
// (the region comes from the function's own ARN, see lambda.Spec.Region):
// the S3 stand-in's endpoint, so that the AWS SDKs in the function reach it
// (http://127.0.0.1:<port>/s3: an IP address, which the SDKs address path
// style), and throw-away temporary credentials. A function's own variable of
// one of these names is ignored (the credentials are reserved names,
// which Lambda refuses anyway). Empty until the listener is bound.
func (s *Sandbox) FunctionEnv() map[string]string {
	if s.ln == nil {
		return nil
	}
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":   s.S3Endpoint(),
		"AWS_ACCESS_KEY_ID":     "sandbox",
		"AWS_SECRET_ACCESS_KEY": "sandbox",
		"AWS_SESSION_TOKEN":     "sandbox",
	}
}
