package awsprovider

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// data "aws_s3_object" reads an object's metadata (and a text object's
// body) with the AWS SDK's HeadObject/GetObject, as the real data source
// does, from AWS_ENDPOINT_URL_S3 (the sandbox's S3 stand-in).
type s3Object struct{ client *client }

var (
	_ datasource.DataSource              = (*s3Object)(nil)
	_ datasource.DataSourceWithConfigure = (*s3Object)(nil)
)

func newS3Object() datasource.DataSource { return &s3Object{} }

func (d *s3Object) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "aws_s3_object"
}

func (d *s3Object) Configure(_ context.Context, req datasource.ConfigureRequest, _ *datasource.ConfigureResponse) {
	if c, ok := req.ProviderData.(*client); ok {
		d.client = c
	}
}

func (d *s3Object) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	c := func() schema.StringAttribute { return schema.StringAttribute{Computed: true} }
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"arn":                           c(),
		"body":                          c(),
		"bucket":                        schema.StringAttribute{Required: true},
		"bucket_key_enabled":            schema.BoolAttribute{Computed: true},
		"cache_control":                 c(),
		"checksum_crc32":                c(),
		"checksum_crc32c":               c(),
		"checksum_crc64nvme":            c(),
		"checksum_mode":                 schema.StringAttribute{Optional: true},
		"checksum_sha1":                 c(),
		"checksum_sha256":               c(),
		"content_disposition":           c(),
		"content_encoding":              c(),
		"content_language":              c(),
		"content_length":                schema.Int64Attribute{Computed: true},
		"content_type":                  c(),
		"etag":                          c(),
		"expiration":                    c(),
		"expires":                       c(),
		"id":                            schema.StringAttribute{Optional: true, Computed: true},
		"key":                           schema.StringAttribute{Required: true},
		"last_modified":                 c(),
		"metadata":                      schema.MapAttribute{ElementType: types.StringType, Computed: true},
		"object_lock_legal_hold_status": c(),
		"object_lock_mode":              c(),
		"object_lock_retain_until_date": c(),
		"range":                         schema.StringAttribute{Optional: true},
		"server_side_encryption":        c(),
		"sse_kms_key_id":                c(),
		"storage_class":                 c(),
		"tags":                          schema.MapAttribute{ElementType: types.StringType, Optional: true, Computed: true},
		"version_id":                    schema.StringAttribute{Optional: true, Computed: true},
		"website_redirect_location":     c(),
	}}
}

// textContent are the content types whose body the real data source reads.
var textContent = regexp.MustCompile(`^(text/.+|application/(json|xml|javascript|ld\+json|x-www-form-urlencoded))(;.*)?$`)

func (d *s3Object) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	fail := func(err error) { resp.Diagnostics.AddError("data aws_s3_object: read", err.Error()) }
	if d.client == nil {
		fail(fmt.Errorf("the aws provider's configuration was not applied"))
		return
	}
	o, err := newObj(req.Config.Raw)
	if err != nil {
		fail(err)
		return
	}
	bucket, key := o.str("bucket"), o.str("key")
	cl, err := d.client.s3Client()
	if err != nil {
		fail(fmt.Errorf("s3://%s/%s: %w", bucket, key, err))
		return
	}
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if v := o.str("version_id"); v != "" {
		in.VersionId = aws.String(v)
	}
	if r := o.str("range"); r != "" {
		in.Range = aws.String(r)
	}
	if o.str("checksum_mode") == "ENABLED" {
		in.ChecksumMode = s3types.ChecksumModeEnabled
	}
	head, err := cl.HeadObject(ctx, in)
	if err != nil {
		fail(fmt.Errorf("s3://%s/%s: HeadObject: %w", bucket, key, err))
		return
	}
	s := func(p *string) string { return aws.ToString(p) }
	o.set("id", bucket+"/"+key)
	o.set("arn", "arn:aws:s3:::"+bucket+"/"+key)
	o.set("bucket_key_enabled", aws.ToBool(head.BucketKeyEnabled))
	o.set("cache_control", s(head.CacheControl))
	o.set("checksum_crc32", s(head.ChecksumCRC32))
	o.set("checksum_crc32c", s(head.ChecksumCRC32C))
	o.set("checksum_crc64nvme", s(head.ChecksumCRC64NVME))
	o.set("checksum_sha1", s(head.ChecksumSHA1))
	o.set("checksum_sha256", s(head.ChecksumSHA256))
	o.set("content_disposition", s(head.ContentDisposition))
	o.set("content_encoding", s(head.ContentEncoding))
	o.set("content_language", s(head.ContentLanguage))
	o.set("content_length", aws.ToInt64(head.ContentLength))
	o.set("content_type", s(head.ContentType))
	o.set("etag", strings.Trim(s(head.ETag), `"`))
	o.set("expiration", s(head.Expiration))
	o.set("expires", s(head.ExpiresString))
	o.set("last_modified", "")
	if head.LastModified != nil {
		o.set("last_modified", head.LastModified.UTC().Format(time.RFC1123))
	}
	meta := head.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	o.set("metadata", meta)
	o.set("object_lock_legal_hold_status", string(head.ObjectLockLegalHoldStatus))
	o.set("object_lock_mode", string(head.ObjectLockMode))
	o.set("object_lock_retain_until_date", "")
	if t := head.ObjectLockRetainUntilDate; t != nil {
		o.set("object_lock_retain_until_date", t.UTC().Format(time.RFC3339))
	}
	o.set("server_side_encryption", string(head.ServerSideEncryption))
	o.set("sse_kms_key_id", s(head.SSEKMSKeyId))
	storage := string(head.StorageClass)
	if storage == "" {
		storage = "STANDARD" // S3 omits the header for STANDARD
	}
	o.set("storage_class", storage)
	o.set("version_id", s(head.VersionId))
	o.set("website_redirect_location", s(head.WebsiteRedirectLocation))
	// The sandbox's objects carry no tags (gofakes3 keeps none).
	o.setIfUnknown("tags", map[string]string{})
	o.set("body", nil)
	if textContent.MatchString(s(head.ContentType)) {
		get, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: in.Bucket, Key: in.Key, VersionId: in.VersionId, Range: in.Range})
		if err != nil {
			fail(fmt.Errorf("s3://%s/%s: GetObject: %w", bucket, key, err))
			return
		}
		b, err := io.ReadAll(io.LimitReader(get.Body, 64<<20))
		get.Body.Close()
		if err != nil {
			fail(fmt.Errorf("s3://%s/%s: read body: %w", bucket, key, err))
			return
		}
		o.set("body", string(b))
	}
	resp.State.Raw = o.raw()
}
