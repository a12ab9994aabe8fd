package greeting

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/service/internal/testbin"
)

var goodCreds = aws.Credentials{AccessKeyID: testbin.S3KeyID, SecretAccessKey: "secret", SessionToken: "token"}

// put writes an object on the S3-protocol server with the real SDK.
func put(t *testing.T, endpoint, bucket, key, body string) {
	t.Helper()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return goodCreds, nil })})
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body), ContentType: aws.String("text/plain; charset=utf-8")}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// TestReadsTheObject: against gofakes3 (a real S3-protocol server on
// 127.0.0.1, so the SDK addresses it path style, as in the sandbox), the
// source answers the object's contents, cached for its TTL; a failure names
// the object and S3's error code, and is not cached.
func TestReadsTheObject(t *testing.T) {
	endpoint := testbin.S3(t, "preview-0a1b2c3d-20260101000000000000000001")
	const bucket, key = "preview-0a1b2c3d-20260101000000000000000001", "greeting.txt"
	put(t, endpoint, bucket, key, "Hello from the data stack")

	now := time.Unix(1_800_000_000, 0)
	src, err := New(Options{Bucket: bucket, Key: key, Region: "eu-west-1", Endpoint: endpoint, Credentials: goodCreds})
	if err != nil {
		t.Fatal(err)
	}
	src.now = func() time.Time { return now }
	ctx := context.Background()
	got := func(want string) {
		t.Helper()
		g, err := src.Greeting(ctx)
		if err != nil || g != want {
			t.Fatalf("Greeting() = %q, %v; want %q", g, err, want)
		}
	}
	got("Hello from the data stack")

	// Within the TTL the cached value answers; after it, the new object.
	put(t, endpoint, bucket, key, "Hello again")
	now = now.Add(DefaultTTL - time.Millisecond)
	got("Hello from the data stack")
	now = now.Add(time.Millisecond)
	got("Hello again")

	// A failure is not cached: the next call reads again.
	missing, err := New(Options{Bucket: bucket, Key: "later.txt", Region: "eu-west-1", Endpoint: endpoint, Credentials: goodCreds, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Greeting(ctx); err == nil || !strings.Contains(err.Error(), "NoSuchKey") || !strings.Contains(err.Error(), "s3://"+bucket+"/later.txt") {
		t.Fatalf("missing object: %v; want NoSuchKey naming s3://%s/later.txt", err, bucket)
	}
	put(t, endpoint, bucket, "later.txt", "there now")
	if g, err := missing.Greeting(ctx); err != nil || g != "there now" {
		t.Fatalf("after the object appeared: %q, %v", g, err)
	}
}

func TestReadFailures(t *testing.T) {
	endpoint := testbin.S3(t, "b")
	put(t, endpoint, "b", "big.txt", strings.Repeat("x", MaxBytes+1))
	put(t, endpoint, "b", "ok.txt", "ok")
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no such bucket", Options{Bucket: "nope", Key: "ok.txt", Credentials: goodCreds}, "NoSuchBucket"},
		{"no such key", Options{Bucket: "b", Key: "nope.txt", Credentials: goodCreds}, "NoSuchKey"},
		{"credentials refused", Options{Bucket: "b", Key: "ok.txt", Credentials: aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "x"}}, "InvalidAccessKeyId"},
		{"too big", Options{Bucket: "b", Key: "big.txt", Credentials: goodCreds}, "over the 65536-byte limit"},
		{"unreachable", Options{Bucket: "b", Key: "ok.txt", Credentials: goodCreds, Endpoint: "http://127.0.0.1:1"}, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Region = "us-east-1"
			if tc.o.Endpoint == "" {
				tc.o.Endpoint = endpoint
			}
			src, err := New(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Greeting(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s3://"+tc.o.Bucket+"/"+tc.o.Key) {
				t.Fatalf("Greeting() error %v; want one naming s3://%s/%s and containing %q", err, tc.o.Bucket, tc.o.Key, tc.want)
			}
		})
	}
}

// TestReadTimeout: an S3 that never answers fails the read within
// ReadTimeout, well before the function's own timeout.
func TestReadTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := testServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer close(hang)
	src, err := New(Options{Bucket: "b", Key: "k", Region: "us-east-1", Endpoint: srv, Credentials: goodCreds})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = src.Greeting(context.Background())
	if took := time.Since(start); err == nil || took > 3*ReadTimeout {
		t.Fatalf("Greeting() = %v after %s; want an error within about %s", err, took, ReadTimeout)
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Options
	}{
		{"lambda", map[string]string{
			"PREVIEW_GREETING_BUCKET": "preview-x-1", "PREVIEW_GREETING_KEY": "g/hello.txt", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8080/s3", "AWS_ENDPOINT_URL": "http://elsewhere", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
		}, Options{Bucket: "preview-x-1", Key: "g/hello.txt", Region: "eu-west-1", Endpoint: "http://127.0.0.1:8080/s3",
			Credentials: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", SessionToken: "t", Source: "environment"}}},
		{"defaults", map[string]string{"PREVIEW_GREETING_BUCKET": "b", "AWS_DEFAULT_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://all"},
			Options{Bucket: "b", Key: "greeting.txt", Region: "us-west-2", Endpoint: "http://all", Credentials: aws.Credentials{Source: "environment"}}},
		{"nothing", map[string]string{}, Options{Key: "greeting.txt", Region: "us-east-1", Credentials: aws.Credentials{Source: "environment"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Fatalf("FromEnv = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
	if _, err := New(Options{Key: "k"}); err == nil || !strings.Contains(err.Error(), "PREVIEW_GREETING_BUCKET") {
		t.Fatalf("New without a bucket = %v; want an error naming PREVIEW_GREETING_BUCKET", err)
	}
}

func testServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
