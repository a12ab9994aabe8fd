// Package greeting reads the hello service's greeting from the
// environment's data bucket (the data stack's aws_s3_object), for
// handler.Config.Source.
//
// One GetObject per read, cached for TTL (one second by default): under
// load an instance asks S3 at most once a second instead of once per
// request, and a new greeting is served at most a second after the data
// stack's apply wrote it. Failures are not cached: the next request asks
// again.
package greeting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"preview-environments/service/handler"
)

// Defaults.
const (
	// DefaultTTL is how long a read greeting is served before S3 is asked
	// again.
	DefaultTTL = time.Second
	// ReadTimeout bounds one GetObject, well inside the function's timeout:
	// a hung S3 answers 503, not the gateway's timeout.
	ReadTimeout = 2 * time.Second
	// MaxBytes is the largest greeting accepted.
	MaxBytes = 64 << 10
)

// Options configures an S3 source.
type Options struct {
	Bucket, Key string
	// Region is the bucket's region (Lambda's AWS_REGION).
	Region string
	// Endpoint is a custom S3 endpoint (AWS_ENDPOINT_URL_S3, the sandbox's
	// stand-in); empty means AWS's. An endpoint whose host is an IP
	// address is addressed path style.
	Endpoint string
	// Credentials sign the request (Lambda's role credentials, from the
	// environment).
	Credentials aws.Credentials
	// TTL is how long a read greeting is served (default DefaultTTL;
	// negative: every call reads).
	TTL time.Duration
	// HTTPClient sends the requests (default: a client with ReadTimeout).
	HTTPClient *http.Client
}

// FromEnv is the Options Lambda's environment gives: bucket and key from
// the function's variables (PREVIEW_GREETING_BUCKET, PREVIEW_GREETING_KEY,
// default key greeting.txt, infra/data's), region, endpoint and the role's
// credentials from what Lambda (or the sandbox) sets.
func FromEnv(getenv func(string) string) Options {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	o := Options{
		Bucket:   getenv(handler.EnvGreetingBucket),
		Key:      getenv(handler.EnvGreetingKey),
		Region:   first("AWS_REGION", "AWS_DEFAULT_REGION"),
		Endpoint: first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Credentials: aws.Credentials{
			AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
			Source:          "environment",
		},
	}
	if o.Key == "" {
		o.Key = "greeting.txt"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	return o
}

// S3 reads the greeting from one object; it is safe for concurrent use.
type S3 struct {
	bucket, key string
	ttl         time.Duration
	client      *s3.Client
	now         func() time.Time

	mu      sync.Mutex
	value   string
	fetched time.Time
}

// New returns the source for o.
func New(o Options) (*S3, error) {
	if o.Bucket == "" {
		return nil, errors.New("greeting: no bucket (PREVIEW_GREETING_BUCKET)")
	}
	if o.Key == "" {
		return nil, errors.New("greeting: no key (PREVIEW_GREETING_KEY)")
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: ReadTimeout}
	}
	creds := o.Credentials
	s3o := s3.Options{
		Region:     o.Region,
		HTTPClient: hc,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           2,
	}
	if o.Endpoint != "" {
		s3o.BaseEndpoint = aws.String(o.Endpoint)
	}
	return &S3{bucket: o.Bucket, key: o.Key, ttl: ttl, client: s3.New(s3o), now: time.Now}, nil
}

// Greeting returns the object's contents, from the cache when it is
// younger than the TTL.
func (s *S3) Greeting(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !s.fetched.IsZero() && now.Sub(s.fetched) < s.ttl {
		return s.value, nil
	}
	v, err := s.read(ctx)
	if err != nil {
		return "", err
	}
	s.value, s.fetched = v, now
	return v, nil
}

func (s *S3) read(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ReadTimeout)
	defer cancel()
	where := "s3://" + s.bucket + "/" + s.key
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return "", fmt.Errorf("read greeting %s: %s: %s", where, ae.ErrorCode(), ae.ErrorMessage())
		}
		return "", fmt.Errorf("read greeting %s: %w", where, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > MaxBytes {
		return "", fmt.Errorf("read greeting %s: %d bytes, over the %d-byte limit", where, n, MaxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("read greeting %s: %w", where, err)
	}
	if len(b) > MaxBytes {
		return "", fmt.Errorf("read greeting %s: over the %d-byte limit", where, MaxBytes)
	}
	return string(b), nil
}
