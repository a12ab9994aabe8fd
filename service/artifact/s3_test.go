package artifact_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/service/artifact"
	"preview-environments/service/internal/testbin"
)

const (
	bucket    = "artifacts"
	goodKeyID = testbin.S3KeyID
)

func s3Server(t *testing.T) string { return testbin.S3(t, bucket) }

func client(t *testing.T, endpoint, keyID string) *s3.Client {
	t.Helper()
	c, err := artifact.NewS3Client(context.Background(), artifact.S3Options{
		Endpoint: endpoint, PathStyle: true, Region: "us-east-1",
		AccessKeyID: keyID, SecretAccessKey: "secret", MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUploadDownloadSkipWhenSame(t *testing.T) {
	ctx := context.Background()
	c := client(t, s3Server(t), goodKeyID)
	v1, _ := artifact.Zip([]byte("first bootstrap"))
	v2, _ := artifact.Zip([]byte("second bootstrap"))
	hex1, _ := artifact.Checksums(v1)

	steps := []struct {
		name        string
		body        []byte
		wantSkipped bool
	}{
		{"first upload writes", v1, false},
		{"same bytes skip", v1, true},
		{"new bytes replace", v2, false},
		{"new bytes then skip", v2, true},
		{"old bytes again write", v1, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, err := artifact.Upload(ctx, c, bucket, "latest.zip", s.body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != s.wantSkipped {
				t.Errorf("Skipped = %v, want %v", res.Skipped, s.wantSkipped)
			}
			if res.URI() != "s3://artifacts/latest.zip" {
				t.Errorf("URI %s", res.URI())
			}
			got, err := artifact.Download(ctx, c, bucket, "latest.zip")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, s.body) {
				t.Error("downloaded bytes differ from the last upload")
			}
		})
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("latest.zip")})
	if err != nil {
		t.Fatal(err)
	}
	if head.Metadata[artifact.MetaSHA256] != hex1 || aws.ToString(head.ContentType) != "application/zip" {
		t.Errorf("object metadata %v, content type %s", head.Metadata, aws.ToString(head.ContentType))
	}
}

func TestDownloadDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	c := client(t, s3Server(t), goodKeyID)
	// An object whose bytes do not match its recorded sha256.
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("bad.zip"),
		Body:     strings.NewReader("tampered"),
		Metadata: map[string]string{artifact.MetaSHA256: strings.Repeat("0", 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Download(ctx, c, bucket, "bad.zip"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
}

func TestUploadErrorsNameTheInput(t *testing.T) {
	endpoint := s3Server(t)
	// A loopback port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	body, _ := artifact.Zip([]byte("x"))
	tests := []struct {
		name, endpoint, keyID, bucket string
		errHas                        []string
	}{
		{"missing bucket", endpoint, goodKeyID, "no-such-bucket", []string{"s3://no-such-bucket/latest.zip", "bucket"}},
		{"rejected credentials", endpoint, "AKIDWRONG", bucket, []string{"s3://artifacts/latest.zip", "403"}},
		{"unreachable endpoint", dead, goodKeyID, bucket, []string{"s3://artifacts/latest.zip", "cannot reach", l.Addr().String()}},
		{"empty bucket", endpoint, goodKeyID, "", []string{"bucket: empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := artifact.Upload(ctx, client(t, tc.endpoint, tc.keyID), tc.bucket, "latest.zip", body)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	// Nothing was written by the failed attempts.
	if _, err := artifact.Download(context.Background(), client(t, endpoint, goodKeyID), bucket, "latest.zip"); err == nil {
		t.Error("a failed upload left an object behind")
	}
}

func TestNewS3ClientRejectsHalfCredentials(t *testing.T) {
	_, err := artifact.NewS3Client(context.Background(), artifact.S3Options{AccessKeyID: "only-id"})
	if err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("err = %v", err)
	}
}
