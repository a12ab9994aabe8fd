package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MetaSHA256 is the object metadata key (x-amz-meta-sha256) holding the
// zip's hex SHA-256; Upload compares it to skip identical uploads.
const MetaSHA256 = "sha256"

// S3Options configure an S3 client. The zero value uses the SDK's default
// configuration chain (environment, shared config, OIDC web identity, ...).
type S3Options struct {
	// Region defaults to the SDK's (AWS_REGION); "us-east-1" when none is set.
	Region string
	// Endpoint is a custom base URL (an S3-protocol server such as the
	// sandbox's gofakes3). Empty means AWS.
	Endpoint string
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key>; S3-protocol
	// servers on loopback need it.
	PathStyle bool
	// AccessKeyID and SecretAccessKey, when set, are used as static
	// credentials instead of the default chain (the sandbox's fake ones).
	AccessKeyID, SecretAccessKey, SessionToken string
	// MaxAttempts bounds retries (default 3).
	MaxAttempts int
}

// NewS3Client returns an S3 client for opts.
func NewS3Client(ctx context.Context, opts S3Options) (*s3.Client, error) {
	var loads []func(*config.LoadOptions) error
	if opts.Region != "" {
		loads = append(loads, config.WithRegion(opts.Region))
	}
	if opts.AccessKeyID != "" || opts.SecretAccessKey != "" {
		if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
			return nil, errors.New("s3 credentials: give both access key id and secret access key, or neither")
		}
		loads = append(loads, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 3
	}
	loads = append(loads, config.WithRetryMaxAttempts(maxAttempts), config.WithRetryMode(aws.RetryModeStandard))
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		// Upload sends its own SHA-256 checksum; the SDK's automatic CRC
		// trailers are not understood by every S3-protocol server.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, maxAttempts)
	}), nil
}

// UploadResult says what Upload did.
type UploadResult struct {
	Bucket, Key, SHA256Hex string
	// Skipped is true when an object with the same SHA-256 was already there.
	Skipped bool
}

// URI is s3://bucket/key.
func (r UploadResult) URI() string { return "s3://" + r.Bucket + "/" + r.Key }

// Upload puts body at s3://bucket/key unless an object with the same SHA-256
// is already there. The object is written by one PutObject carrying its
// SHA-256 checksum, which S3 verifies before the object becomes visible:
// readers see the old object or the whole new one, never a partial one.
func Upload(ctx context.Context, client *s3.Client, bucket, key string, body []byte) (UploadResult, error) {
	hexSum, b64Sum := Checksums(body)
	res := UploadResult{Bucket: bucket, Key: key, SHA256Hex: hexSum}
	if err := validateLocation(bucket, key); err != nil {
		return res, err
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	switch {
	case err == nil:
		if head.Metadata[MetaSHA256] == hexSum || aws.ToString(head.ChecksumSHA256) == b64Sum {
			res.Skipped = true
			return res, nil
		}
	case isNotFound(err):
		// S3 answers HEAD in a missing bucket with the same bare 404 as a
		// missing key. Ask about the bucket before sending the zip: a server
		// that refuses the PUT before reading its body resets the
		// connection, and the real cause (no such bucket) would be lost.
		// A role allowed only Get/PutObject gets 403 here and goes on.
		if _, berr := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); berr != nil && isNotFound(berr) {
			return res, fmt.Errorf("upload %s: bucket does not exist: %s", res.URI(), strings.Join(strings.Fields(berr.Error()), " "))
		}
	default:
		return res, fmt.Errorf("check %s: %s", res.URI(), describe(err))
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(bucket),
		Key:            aws.String(key),
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ContentType:    aws.String("application/zip"),
		ChecksumSHA256: aws.String(b64Sum),
		Metadata:       map[string]string{MetaSHA256: hexSum},
	})
	if err != nil {
		return res, fmt.Errorf("upload %s: %s", res.URI(), describe(err))
	}
	return res, nil
}

// Download reads s3://bucket/key and, when the object carries a SHA-256 in
// its metadata, checks the bytes against it.
func Download(ctx context.Context, client *s3.Client, bucket, key string) ([]byte, error) {
	if err := validateLocation(bucket, key); err != nil {
		return nil, err
	}
	uri := "s3://" + bucket + "/" + key
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("download %s: %s", uri, describe(err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", uri, err)
	}
	if want := out.Metadata[MetaSHA256]; want != "" {
		if got, _ := Checksums(b); got != want {
			return nil, fmt.Errorf("download %s: sha256 %s does not match the object's metadata %s", uri, got, want)
		}
	}
	return b, nil
}

func validateLocation(bucket, key string) error {
	if bucket == "" {
		return errors.New("bucket: empty")
	}
	if key == "" {
		return fmt.Errorf("s3://%s: empty key", bucket)
	}
	return nil
}

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// describe turns an SDK error into one line that says what went wrong in
// terms of the input (bucket, credentials, endpoint).
func describe(err error) string {
	var api smithy.APIError
	var re interface{ HTTPStatusCode() int }
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	hint := ""
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchBucket":
			hint = "bucket does not exist"
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AccessDenied":
			hint = "credentials rejected (" + api.ErrorCode() + ")"
		}
	}
	var send *smithyhttp.RequestSendError
	if hint == "" && strings.Contains(err.Error(), "get credentials") {
		// The SDK's chain found nothing usable; its error lists every source.
		hint = "no usable AWS credentials"
	}
	if hint == "" && errors.As(err, &send) {
		hint = "cannot reach the S3 endpoint"
	}
	if hint == "" {
		switch status {
		case http.StatusForbidden:
			hint = "access denied: check the credentials and the bucket policy"
		case http.StatusNotFound:
			hint = "not found (is the bucket right?)"
		}
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if hint != "" {
		return hint + ": " + msg
	}
	return msg
}

// Preflight checks, before a slow build, that the endpoint answers and the
// credentials may read s3://bucket/key. A missing object is fine; a missing
// bucket shows only at Upload (S3 answers HEAD on it with a bare 404).
func Preflight(ctx context.Context, client *s3.Client, bucket, key string) error {
	if err := validateLocation(bucket, key); err != nil {
		return err
	}
	_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil || isNotFound(err) {
		return nil
	}
	return fmt.Errorf("check s3://%s/%s: %s", bucket, key, describe(err))
}
