package awsprovider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Account is the sandbox's AWS account ID, in every ARN.
const Account = "000000000000"

// endpointEnv names the environment variable of each service's endpoint:
// the real AWS SDKs' (and the real provider's) names.
var endpointEnv = map[string]string{
	"s3":         "AWS_ENDPOINT_URL_S3",
	"lambda":     "AWS_ENDPOINT_URL_LAMBDA",
	"apigateway": "AWS_ENDPOINT_URL_API_GATEWAY",
}

// client is the configured provider: region, default tags, credentials and
// endpoints, shared by every resource.
type client struct {
	region      string
	defaultTags map[string]string
	creds       aws.Credentials
	// endpoints by service ("s3", "lambda", "apigateway"); a missing one is
	// an error only when a resource needs it.
	endpoints map[string]string
	http      *http.Client
}

// endpoint is a service's base URL, or an error naming the variable to set.
func (c *client) endpoint(service string) (string, error) {
	if ep := c.endpoints[service]; ep != "" {
		return strings.TrimSuffix(ep, "/"), nil
	}
	return "", fmt.Errorf("no %s endpoint: set %s (the sandbox's is http://<addr>%s) or endpoints { %s = ... } in the provider block",
		service, endpointEnv[service], sandboxPath[service], service)
}

var sandboxPath = map[string]string{"s3": "/s3", "lambda": "/aws/lambda", "apigateway": "/aws/apigateway"}

// apiError is an error answer of a sandbox control-plane API.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// call sends a JSON request to a control-plane API, signed with SigV4 like
// any AWS API call (the sandbox takes the region from the signature's
// scope), and decodes a JSON answer into out.
func (c *client) call(ctx context.Context, service, method, p string, in, out any) error {
	base, err := c.endpoint(service)
	if err != nil {
		return err
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: %w", method, p, err)
		}
	}
	u := base + p
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), service, c.region, time.Now()); err != nil {
		return fmt.Errorf("%s %s: sign: %w", method, u, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the sandbox running at %s?)", method, u, err, base)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(b, &e)
		if e.Type == "" {
			e.Type = resp.Header.Get("X-Amzn-Errortype")
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return &apiError{Status: resp.StatusCode, Type: e.Type, Message: fmt.Sprintf("%s (%s %s)", e.Message, method, u)}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, u, err)
		}
	}
	return nil
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }

// s3Client talks to the S3 endpoint path style: the sandbox's stand-in is
// http://<addr>/s3, where a bucket in the host name cannot work.
func (c *client) s3Client() (*s3.Client, error) {
	ep, err := c.endpoint("s3")
	if err != nil {
		return nil, err
	}
	creds := c.creds
	return s3.New(s3.Options{
		Region:       c.region,
		BaseEndpoint: aws.String(ep),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient:                 c.http,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}), nil
}

var uniqueSeq atomic.Uint64

// uniqueName is the real provider's id.PrefixedUniqueId: prefix, a UTC
// timestamp and a counter (names from name_prefix, statement IDs).
func uniqueName(prefix string) string {
	t := time.Now().UTC()
	return fmt.Sprintf("%s%s%04d%08x", prefix, t.Format("20060102150405"), t.Nanosecond()/100000, uniqueSeq.Add(1))
}
