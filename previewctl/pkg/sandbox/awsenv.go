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
