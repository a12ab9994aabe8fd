package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/service/artifact"
)

func sdkS3(t *testing.T, s *sandbox.Sandbox) *s3.Client {
	t.Helper()
	c, err := artifact.NewS3Client(context.Background(), artifact.S3Options{
		Region: "us-east-1", Endpoint: s.S3Endpoint(), PathStyle: true, AccessKeyID: "sandbox", SecretAccessKey: "sandbox",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func s3ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestS3VersioningIsPerBucket: as on S3, a bucket is unversioned until
// versioning is enabled on it, and only a versioned bucket's objects have
// version IDs. The artifact bucket is created versioned (infra/ needs the
// version), the status survives a restart, and a deleted bucket's name
// starts over unversioned.
func TestS3VersioningIsPerBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := start(t, dir)
	c := sdkS3(t, s.Sandbox)

	status := func(bucket string) s3types.BucketVersioningStatus {
		t.Helper()
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("versioning of %s: %v", bucket, err)
		}
		return out.Status
	}
	put := func(bucket, key, body string) string {
		t.Helper()
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatalf("put %s/%s: %v", bucket, key, err)
		}
		return aws.ToString(out.VersionId)
	}
	head := func(bucket, key string) string {
		t.Helper()
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("head %s/%s: %v", bucket, key, err)
		}
		return aws.ToString(out.VersionId)
	}

	if st := status(s.Bucket()); st != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("artifact bucket versioning %q, want Enabled", st)
	}
	if v := put(s.Bucket(), "a.zip", "one"); len(v) != 32 || head(s.Bucket(), "a.zip") != v {
		t.Fatalf("artifact object version %q (head %q), want the same 32-character ID", v, head(s.Bucket(), "a.zip"))
	}

	// A new bucket: no status, no version IDs, and a version ID in a
	// request is refused as S3 refuses it; "null" is the current object.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if st := status("plain"); st != "" {
		t.Fatalf("new bucket versioning %q, want none", st)
	}
	if v := put("plain", "k", "one"); v != "" {
		t.Fatalf("object in an unversioned bucket has version %q", v)
	}
	if v := head("plain", "k"); v != "" {
		t.Fatalf("head in an unversioned bucket: version %q", v)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), VersionId: aws.String("0123456789abcdef0123456789abcdef")})
	if code := s3ErrorCode(err); code != "InvalidArgument" {
		t.Fatalf("get with a version ID from an unversioned bucket: %v (code %q), want InvalidArgument", err, code)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), VersionId: aws.String("null")}); err != nil {
		t.Fatalf("get version null: %v", err)
	}

	// Enabled: the objects have version IDs, which change with the bytes.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("plain"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := head("plain", "k")
	if len(v1) != 32 {
		t.Fatalf("after enabling versioning: version %q", v1)
	}
	if v2 := put("plain", "k", "two"); v2 == v1 || len(v2) != 32 {
		t.Fatalf("new bytes: version %q after %q", v2, v1)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if code := s3ErrorCode(err); code != "NoSuchVersion" {
		t.Fatalf("get the replaced version: %v (code %q), want NoSuchVersion", err, code)
	}

	// Errors name the bucket problem.
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("missing")})
	if code := s3ErrorCode(err); code != "NoSuchBucket" {
		t.Fatalf("versioning of a missing bucket: %v (code %q)", err, code)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("plain"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "On"}})
	if code := s3ErrorCode(err); code != "MalformedXML" {
		t.Fatalf("versioning status On: %v (code %q), want MalformedXML", err, code)
	}
	if st := status("plain"); st != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("a refused change altered the status: %q", st)
	}

	// Suspended: no version IDs from then on.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("paused")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("paused"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	if v := put("paused", "k", "x"); v != "" || status("paused") != s3types.BucketVersioningStatusSuspended {
		t.Fatalf("suspended bucket: version %q, status %q", v, status("paused"))
	}

	// A restart keeps every status.
	s.stop()
	s = start(t, dir)
	c = sdkS3(t, s.Sandbox)
	if status("plain") != s3types.BucketVersioningStatusEnabled || status("paused") != s3types.BucketVersioningStatusSuspended ||
		status(s.Bucket()) != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("after a restart: plain %q, paused %q, artifacts %q", status("plain"), status("paused"), status(s.Bucket()))
	}

	// Deleted and created again: unversioned.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if st := status("plain"); st != "" {
		t.Fatalf("a bucket created again under a deleted one's name has versioning %q", st)
	}
}
