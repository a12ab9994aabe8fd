package awsprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// aws_s3_bucket and aws_s3_object call the S3 stand-in (AWS_ENDPOINT_URL_S3)
// with the AWS SDK, as the real resources call S3: CreateBucket, HeadBucket,
// DeleteBucket (emptying it first with force_destroy), PutObject,
// HeadObject, DeleteObject. The stand-in (gofakes3) keeps buckets and
// objects with their content type, ETag (the MD5 of the bytes) and
// metadata; tags, ACLs, encryption, storage classes and the deprecated
// inline bucket configuration have nothing there to act on: tags are kept
// in state (tags_all as for every resource), the rest is refused with an
// error when configured.

// uniqueIDSuffixLength is what uniqueName appends to a prefix (the real
// provider's id.UniqueIDSuffixLength): a bucket_prefix may be at most
// 63 - 26 = 37 characters.
const uniqueIDSuffixLength = 26

// maxBucketPrefix is the longest bucket_prefix: the name stays within S3's 63.
const maxBucketPrefix = 63 - uniqueIDSuffixLength

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// validBucketName is S3's general purpose bucket naming rules (the ones the
// real provider checks before CreateBucket).
func validBucketName(name string) error {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("bucket name %q: %d characters, want 3 to 63", name, len(name))
	case !bucketNameRE.MatchString(name):
		return fmt.Errorf("bucket name %q: only lowercase letters, digits, '.' and '-', beginning and ending with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("bucket name %q: no two adjacent periods", name)
	case net.ParseIP(name) != nil:
		return fmt.Errorf("bucket name %q: must not be formatted as an IP address", name)
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") || strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3"):
		return fmt.Errorf("bucket name %q: uses a prefix or suffix S3 reserves", name)
	}
	return nil
}

// checkBucketPrefix refuses a prefix that cannot yield a valid name.
func checkBucketPrefix(prefix string) error {
	if len(prefix) > maxBucketPrefix {
		return fmt.Errorf("bucket_prefix %q is %d characters; at most %d: the provider appends a %d-character unique suffix and bucket names are at most 63",
			prefix, len(prefix), maxBucketPrefix, uniqueIDSuffixLength)
	}
	if err := validBucketName(prefix + strings.Repeat("0", uniqueIDSuffixLength)); err != nil {
		return fmt.Errorf("bucket_prefix %q: does not make a valid bucket name: %w", prefix, err)
	}
	return nil
}

// s3HostedZoneIDs is the real provider's hostedZoneIDsMap (S3 website
// endpoints' Route 53 zones, by region).
var s3HostedZoneIDs = map[string]string{
	"af-south-1": "Z83WF9RJE8B12", "ap-east-1": "ZNB98KWMFR0R6", "ap-northeast-1": "Z2M4EHUR26P7ZW", "ap-northeast-2": "Z3W03O7B5YMIYP",
	"ap-northeast-3": "Z2YQB5RD63NC85", "ap-south-1": "Z11RGJOFQNVJUP", "ap-south-2": "Z02976202B4EZMXIPMXF7", "ap-southeast-1": "Z3O0J2DXBE1FTB",
	"ap-southeast-2": "Z1WCIGYICN2BYD", "ap-southeast-3": "Z01846753K324LI26A3VV", "ap-southeast-4": "Z0312387243XT5FE14WFO",
	"ap-southeast-5": "Z08660063OXLMA7F1FJHU", "ca-central-1": "Z1QDHH18159H29", "ca-west-1": "Z03565811Z33SLEZTHOUL",
	"cn-north-1": "Z5CN8UMXT92WN", "cn-northwest-1": "Z282HJ1KT0DH03", "eu-central-1": "Z21DNDUVLTQW6Q", "eu-central-2": "Z030506016YDQGETNASS",
	"eu-north-1": "Z3BAZG2TWCNX0D", "eu-south-1": "Z30OZKI7KPW7MI", "eu-south-2": "Z0081959F7139GRJC19J", "eu-west-1": "Z1BKCTXD74EZPE",
	"eu-west-2": "Z3GKZC51ZF0DB4", "eu-west-3": "Z3R1K369G5AVDG", "il-central-1": "Z09640613K4A3MN55U7GU", "me-central-1": "Z06143092I8HRXZRUZROF",
	"me-south-1": "Z1MPMWCPA7YB62", "sa-east-1": "Z7KQH4QJS55SO", "us-east-1": "Z3AQBSTGFYJSTF", "us-east-2": "Z2O1EMRO9K5GLX",
	"us-gov-east-1": "Z2NIFVYYW2VKV1", "us-gov-west-1": "Z31GFT0UA1I2HV", "us-west-1": "Z2F56UZL2M1ACD", "us-west-2": "Z3BJ6K6RIION7M",
}

// dnsSuffix is the region's partition's domain.
func dnsSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// s3Code is the S3 error code of err ("" when it is not an S3 answer).
func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// s3Missing reports an answer saying the bucket or object does not exist
// (HEAD answers carry no code, only the 404).
func s3Missing(err error) bool {
	switch s3Code(err) {
	case "NoSuchBucket", "NoSuchKey", "NotFound":
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// The deprecated inline configuration of aws_s3_bucket (blocks and
// attributes the real provider still accepts, each now a resource of its
// own) has no effect on the S3 stand-in; a configuration that sets any is
// refused rather than silently ignored.
var bucketInlineBlocks = []string{"cors_rule", "grant", "lifecycle_rule", "logging", "object_lock_configuration",
	"replication_configuration", "server_side_encryption_configuration", "versioning", "website"}

func s3BucketResource() *resourceDef {
	dep := deprecated
	lifecycle := listBlock(0, attrs{
		"abort_incomplete_multipart_upload_days": intAttr(opt),
		"enabled":                                boolAttr(req),
		"id":                                     strAttr(oc),
		"prefix":                                 strAttr(opt),
		"tags":                                   mapAttr(opt, nil),
	}, blocks{
		"expiration":                    listBlock(1, attrs{"date": strAttr(opt), "days": intAttr(opt), "expired_object_delete_marker": boolAttr(opt)}, nil),
		"noncurrent_version_expiration": listBlock(1, attrs{"days": intAttr(opt)}, nil),
		"noncurrent_version_transition": setBlock(attrs{"days": intAttr(opt), "storage_class": strAttr(req)}),
		"transition":                    setBlock(attrs{"date": strAttr(opt), "days": intAttr(opt), "storage_class": strAttr(req)}),
	})
	replication := listBlock(1, attrs{"role": strAttr(req)}, blocks{
		"rules": setBlockOf(1, attrs{
			"delete_marker_replication_status": strAttr(opt),
			"id":                               strAttr(opt),
			"prefix":                           strAttr(opt),
			"priority":                         intAttr(opt),
			"status":                           strAttr(req),
		}, blocks{
			"destination": requiredBlock(attrs{
				"account_id": strAttr(opt), "bucket": strAttr(req), "replica_kms_key_id": strAttr(opt), "storage_class": strAttr(opt),
			}, blocks{
				"access_control_translation": listBlock(1, attrs{"owner": strAttr(req)}, nil),
				"metrics":                    listBlock(1, attrs{"minutes": intAttr(opt), "status": strAttr(opt)}, nil),
				"replication_time":           listBlock(1, attrs{"minutes": intAttr(opt), "status": strAttr(opt)}, nil),
			}),
			"filter": listBlock(1, attrs{"prefix": strAttr(opt), "tags": mapAttr(opt, nil)}, nil),
			"source_selection_criteria": listBlock(1, nil, blocks{
				"sse_kms_encrypted_objects": listBlock(1, attrs{"enabled": boolAttr(req)}, nil),
			}),
		}),
	})
	return &resourceDef{
		name: "aws_s3_bucket",
		schema: schema.Schema{
			Attributes: attrs{
				"acceleration_status":         strAttr(oc | dep),
				"acl":                         strAttr(oc | dep),
				"arn":                         strAttr(cmp),
				"bucket":                      strAttr(oc | forceNew),
				"bucket_domain_name":          strAttr(cmp),
				"bucket_prefix":               strAttr(oc | forceNew),
				"bucket_regional_domain_name": strAttr(cmp),
				"force_destroy":               boolAttr(opt),
				"hosted_zone_id":              strAttr(cmp),
				"id":                          strAttr(oc),
				"object_lock_enabled":         boolAttr(oc | forceNew),
				"policy":                      strAttr(oc | dep),
				"region":                      strAttr(cmp),
				"request_payer":               strAttr(oc | dep),
				"tags":                        mapAttr(opt, nil),
				"tags_all":                    mapAttr(oc, nil),
				"website_domain":              strAttr(cmp | dep),
				"website_endpoint":            strAttr(cmp | dep),
			},
			Blocks: blocks{
				"cors_rule": listBlock(0, attrs{
					"allowed_headers": listAttr(opt), "allowed_methods": listAttr(req), "allowed_origins": listAttr(req),
					"expose_headers": listAttr(opt), "max_age_seconds": intAttr(opt),
				}, nil),
				"grant":          setBlock(attrs{"id": strAttr(opt), "permissions": setAttr(req), "type": strAttr(req), "uri": strAttr(opt)}),
				"lifecycle_rule": lifecycle,
				"logging":        listBlock(1, attrs{"target_bucket": strAttr(req), "target_prefix": strAttr(opt)}, nil),
				"object_lock_configuration": listBlock(1, attrs{"object_lock_enabled": strAttr(opt | dep)}, blocks{
					"rule": listBlock(1, nil, blocks{
						"default_retention": requiredBlock(attrs{"days": intAttr(opt), "mode": strAttr(req), "years": intAttr(opt)}, nil),
					}),
				}),
				"replication_configuration": replication,
				"server_side_encryption_configuration": listBlock(1, nil, blocks{
					"rule": requiredBlock(attrs{"bucket_key_enabled": boolAttr(opt)}, blocks{
						"apply_server_side_encryption_by_default": requiredBlock(attrs{"kms_master_key_id": strAttr(opt), "sse_algorithm": strAttr(req)}, nil),
					}),
				}),
				"timeouts":   timeoutsBlock("create", "delete", "read", "update"),
				"versioning": listBlock(1, attrs{"enabled": boolAttr(opt), "mfa_delete": boolAttr(opt)}, nil),
				"website": listBlock(1, attrs{
					"error_document": strAttr(opt), "index_document": strAttr(opt), "redirect_all_requests_to": strAttr(opt), "routing_rules": strAttr(opt),
				}, nil),
			},
		},
		plan:   planBucket,
		create: createBucket,
		read: func(ctx context.Context, c *client, st *obj) (bool, error) {
			cl, err := c.s3Client()
			if err != nil {
				return false, err
			}
			name := st.str("bucket")
			if _, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
				if s3Missing(err) {
					return false, nil
				}
				return false, fmt.Errorf("S3 bucket %s: HeadBucket: %w", name, err)
			}
			return true, nil
		},
		// tags, tags_all, force_destroy and timeouts are all an update can
		// change (the rest forces a new bucket or is refused): state only.
		update: func(context.Context, *client, *obj, *obj) error { return nil },
		delete: deleteBucket,
	}
}

func planBucket(_ context.Context, _ *client, plan, _, config *obj, _ *resource.ModifyPlanResponse) error {
	if config.has("bucket") && config.has("bucket_prefix") {
		return fmt.Errorf(`"bucket": conflicts with bucket_prefix`)
	}
	if config.has("bucket") {
		if err := validBucketName(config.str("bucket")); err != nil {
			return err
		}
	}
	if config.has("bucket_prefix") {
		if err := checkBucketPrefix(config.str("bucket_prefix")); err != nil {
			return err
		}
	}
	for _, b := range bucketInlineBlocks {
		if len(config.blocks(b)) > 0 {
			return fmt.Errorf("%s: not supported by the sandbox (its S3 stand-in keeps objects only); the real provider deprecates the inline block for aws_s3_bucket_%s resources, which the sandbox does not have either", b, strings.TrimSuffix(b, "_rule"))
		}
	}
	switch {
	case config.boolean("object_lock_enabled"):
		return fmt.Errorf("object_lock_enabled: the sandbox's S3 stand-in has no object lock")
	case config.has("policy") || config.has("acceleration_status"):
		return fmt.Errorf("policy and acceleration_status: not supported by the sandbox's S3 stand-in")
	case config.has("acl") && config.str("acl") != "private":
		return fmt.Errorf("acl %q: the sandbox's S3 stand-in keeps no ACLs (only \"private\", the default, is accepted)", config.str("acl"))
	case config.has("request_payer") && config.str("request_payer") != "BucketOwner":
		return fmt.Errorf("request_payer %q: the sandbox's S3 stand-in bills nobody (only \"BucketOwner\", the default, is accepted)", config.str("request_payer"))
	}
	return nil
}

func createBucket(ctx context.Context, c *client, p *obj) error {
	name, prefix := p.str("bucket"), ""
	if !p.has("bucket") {
		prefix = p.str("bucket_prefix")
		if prefix == "" {
			prefix = "terraform-"
		}
		if err := checkBucketPrefix(prefix); err != nil {
			return err
		}
		name = uniqueName(prefix)
	}
	if err := validBucketName(name); err != nil {
		return err
	}
	cl, err := c.s3Client()
	if err != nil {
		return fmt.Errorf("S3 bucket %s: %w", name, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if c.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(c.region)}
	}
	if _, err := cl.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("creating S3 bucket (%s): %w", name, err)
	}
	p.set("id", name)
	p.set("bucket", name)
	p.setIfUnknown("bucket_prefix", prefix)
	p.set("arn", "arn:aws:s3:::"+name)
	p.set("bucket_domain_name", name+".s3.amazonaws.com")
	p.set("bucket_regional_domain_name", name+".s3."+c.region+"."+dnsSuffix(c.region))
	p.set("region", c.region)
	if z, ok := s3HostedZoneIDs[c.region]; ok {
		p.set("hosted_zone_id", z)
	}
	p.setIfUnknown("object_lock_enabled", false)
	p.setIfUnknown("request_payer", "BucketOwner")
	return nil
}

// deleteBucket deletes the bucket; S3 refuses one that holds objects
// (BucketNotEmpty), unless force_destroy, with which the provider deletes
// every object first, as the real one does.
func deleteBucket(ctx context.Context, c *client, st *obj) error {
	name := st.str("bucket")
	cl, err := c.s3Client()
	if err != nil {
		return fmt.Errorf("S3 bucket %s: %w", name, err)
	}
	_, err = cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	if s3Code(err) == "BucketNotEmpty" && st.boolean("force_destroy") {
		n, eerr := emptyBucket(ctx, cl, name)
		if eerr != nil {
			return fmt.Errorf("deleting S3 bucket (%s): emptying it (force_destroy): %w", name, eerr)
		}
		_, err = cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		if err == nil {
			return nil
		}
		return fmt.Errorf("deleting S3 bucket (%s) after deleting its %d objects: %w", name, n, err)
	}
	switch {
	case err == nil, s3Code(err) == "NoSuchBucket":
		return nil
	case s3Code(err) == "BucketNotEmpty":
		return fmt.Errorf("deleting S3 bucket (%s): %w (set force_destroy = true, and apply it, to delete a bucket with its objects)", name, err)
	}
	return fmt.Errorf("deleting S3 bucket (%s): %w", name, err)
}

// emptyBucket deletes every object in the bucket; it returns how many.
func emptyBucket(ctx context.Context, cl *s3.Client, bucket string) (int, error) {
	n := 0
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("ListObjectsV2: %w", err)
		}
		for _, o := range page.Contents {
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil && !s3Missing(err) {
				return n, fmt.Errorf("DeleteObject %s: %w", aws.ToString(o.Key), err)
			}
			n++
		}
	}
	return n, nil
}

// objectContentAttrs are the attributes whose change uploads the object
// again (the real provider's hasObjectContentChanges).
var objectContentAttrs = []string{"bucket_key_enabled", "cache_control", "checksum_algorithm", "content_base64", "content_disposition",
	"content_encoding", "content_language", "content_type", "content", "etag", "kms_key_id", "metadata", "server_side_encryption",
	"source", "source_hash", "storage_class", "website_redirect"}

var checksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

func s3ObjectResource() *resourceDef {
	return &resourceDef{
		name: "aws_s3_object",
		schema: schema.Schema{
			Attributes: attrs{
				"acl":                           strAttr(oc),
				"arn":                           strAttr(cmp),
				"bucket":                        strAttr(req | forceNew),
				"bucket_key_enabled":            boolAttr(oc),
				"cache_control":                 strAttr(opt),
				"checksum_algorithm":            strAttr(opt),
				"checksum_crc32":                strAttr(cmp),
				"checksum_crc32c":               strAttr(cmp),
				"checksum_crc64nvme":            strAttr(cmp),
				"checksum_sha1":                 strAttr(cmp),
				"checksum_sha256":               strAttr(cmp),
				"content":                       strAttr(opt),
				"content_base64":                strAttr(opt),
				"content_disposition":           strAttr(opt),
				"content_encoding":              strAttr(opt),
				"content_language":              strAttr(opt),
				"content_type":                  strAttr(oc),
				"etag":                          strAttr(oc),
				"force_destroy":                 boolAttr(opt),
				"id":                            strAttr(oc),
				"key":                           strAttr(req | forceNew),
				"kms_key_id":                    strAttr(oc),
				"metadata":                      mapAttr(opt, nil),
				"object_lock_legal_hold_status": strAttr(opt),
				"object_lock_mode":              strAttr(opt),
				"object_lock_retain_until_date": strAttr(opt),
				"server_side_encryption":        strAttr(oc),
				"source":                        strAttr(opt),
				"source_hash":                   strAttr(opt),
				"storage_class":                 strAttr(oc),
				"tags":                          mapAttr(opt, nil),
				"tags_all":                      mapAttr(oc, nil),
				"version_id":                    strAttr(cmp),
				"website_redirect":              strAttr(opt),
			},
			Blocks: blocks{
				"override_provider": listBlock(1, nil, blocks{
					"default_tags": listBlock(1, attrs{"tags": mapAttr(opt, nil)}, nil),
				}),
			},
		},
		plan:   planObject,
		create: putObject,
		read: func(ctx context.Context, c *client, st *obj) (bool, error) {
			return readObject(ctx, c, st, true)
		},
		update: func(ctx context.Context, c *client, plan, prior *obj) error {
			if changed(plan, prior, objectContentAttrs...) {
				return putObject(ctx, c, plan)
			}
			return nil // tags, acl, force_destroy: state only
		},
		delete: func(ctx context.Context, c *client, st *obj) error {
			bucket, key := st.str("bucket"), st.str("key")
			cl, err := c.s3Client()
			if err != nil {
				return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
			}
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil && !s3Missing(err) {
				return fmt.Errorf("deleting S3 object (s3://%s/%s): %w", bucket, key, err)
			}
			return nil
		},
	}
}

func planObject(_ context.Context, _ *client, plan, prior, config *obj, _ *resource.ModifyPlanResponse) error {
	set := 0
	for _, k := range []string{"content", "content_base64", "source"} {
		if config.has(k) || !config.known(k) {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf(`only one of "content", "content_base64" and "source" may be set`)
	}
	for _, k := range []string{"object_lock_legal_hold_status", "object_lock_mode", "object_lock_retain_until_date"} {
		if config.has(k) {
			return fmt.Errorf("%s: the sandbox's S3 stand-in has no object lock", k)
		}
	}
	if a := config.str("checksum_algorithm"); a != "" && !slices.Contains(checksumAlgorithms, a) {
		return fmt.Errorf("checksum_algorithm %q: want one of %v", a, checksumAlgorithms)
	}
	if config.has("content_base64") {
		if _, err := base64.StdEncoding.DecodeString(config.str("content_base64")); err != nil {
			return fmt.Errorf("content_base64: %w", err)
		}
	}
	// override_provider { default_tags { tags = ... } } replaces the
	// provider's default tags for this object.
	if op := config.block("override_provider"); op != nil && plan.known("tags") {
		if dt := op.block("default_tags"); dt != nil {
			plan.set("tags_all", mergeTags(dt.strMap("tags"), plan.strMap("tags")))
		}
	}
	// New bytes, or new headers, are a new upload: a new ETag (when the
	// bytes differ) and version.
	if prior != nil && changed(plan, prior, objectContentAttrs...) {
		if config.isNull("etag") {
			plan.unknown("etag")
		}
		plan.unknown("version_id")
		for _, k := range []string{"checksum_crc32", "checksum_crc32c", "checksum_crc64nvme", "checksum_sha1", "checksum_sha256"} {
			plan.unknown(k)
		}
	}
	return nil
}

// objectBody is what the configuration uploads: content, content_base64
// decoded, or the file at source (empty without any, as the real one).
func objectBody(p *obj) ([]byte, error) {
	switch {
	case p.has("content_base64"):
		b, err := base64.StdEncoding.DecodeString(p.str("content_base64"))
		if err != nil {
			return nil, fmt.Errorf("content_base64: %w", err)
		}
		return b, nil
	case p.has("source"):
		b, err := os.ReadFile(p.str("source"))
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		return b, nil
	}
	return []byte(p.str("content")), nil
}

func putObject(ctx context.Context, c *client, p *obj) error {
	bucket, key := p.str("bucket"), p.str("key")
	where := "s3://" + bucket + "/" + key
	body, err := objectBody(p)
	if err != nil {
		return fmt.Errorf("S3 object %s: %w", where, err)
	}
	cl, err := c.s3Client()
	if err != nil {
		return fmt.Errorf("S3 object %s: %w", where, err)
	}
	opt := func(k string) *string {
		if p.has(k) {
			return aws.String(p.str(k))
		}
		return nil
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: opt("content_type"), CacheControl: opt("cache_control"), ContentDisposition: opt("content_disposition"),
		ContentEncoding: opt("content_encoding"), ContentLanguage: opt("content_language"), WebsiteRedirectLocation: opt("website_redirect"),
		Metadata: p.strMap("metadata"),
	}
	if a := p.str("checksum_algorithm"); a != "" {
		in.ChecksumAlgorithm = s3types.ChecksumAlgorithm(a)
	}
	out, err := cl.PutObject(ctx, in)
	if err != nil {
		return fmt.Errorf("uploading S3 object (%s): %w", where, err)
	}
	p.set("id", key)
	p.set("arn", "arn:aws:s3:::"+bucket+"/"+key)
	p.setIfUnknown("etag", strings.Trim(aws.ToString(out.ETag), `"`))
	p.setIfUnknown("version_id", aws.ToString(out.VersionId))
	for k, v := range map[string]*string{"checksum_crc32": out.ChecksumCRC32, "checksum_crc32c": out.ChecksumCRC32C,
		"checksum_crc64nvme": out.ChecksumCRC64NVME, "checksum_sha1": out.ChecksumSHA1, "checksum_sha256": out.ChecksumSHA256} {
		p.setIfUnknown(k, aws.ToString(v))
	}
	// What S3 made of the rest, as the real provider reads it back.
	found, err := readObject(ctx, c, p, false)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("S3 object %s: not found right after PutObject", where)
	}
	return nil
}

// readObject reads an object's metadata with HeadObject; false when it is
// gone. After an upload (refresh false) it fills only what the plan left
// unknown; a refresh takes S3's values, as the real provider's read does
// (so an object changed outside OpenTofu shows in the next plan).
func readObject(ctx context.Context, c *client, p *obj, refresh bool) (bool, error) {
	bucket, key := p.str("bucket"), p.str("key")
	cl, err := c.s3Client()
	if err != nil {
		return false, fmt.Errorf("S3 object s3://%s/%s: %w", bucket, key, err)
	}
	head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if s3Missing(err) {
			return false, nil
		}
		return false, fmt.Errorf("S3 object s3://%s/%s: HeadObject: %w", bucket, key, err)
	}
	put := p.setIfUnknown
	if refresh {
		put = p.set
	}
	contentType := aws.ToString(head.ContentType)
	if contentType == "" {
		contentType = "binary/octet-stream" // what S3 stores without one
	}
	storage := string(head.StorageClass)
	if storage == "" {
		storage = "STANDARD" // S3 omits the header for STANDARD
	}
	sse := string(head.ServerSideEncryption)
	if sse == "" {
		sse = "AES256" // S3 encrypts every new object (SSE-S3) since 2023
	}
	put("etag", strings.Trim(aws.ToString(head.ETag), `"`))
	put("version_id", aws.ToString(head.VersionId))
	put("content_type", contentType)
	put("storage_class", storage)
	put("server_side_encryption", sse)
	put("kms_key_id", aws.ToString(head.SSEKMSKeyId))
	put("bucket_key_enabled", aws.ToBool(head.BucketKeyEnabled))
	return true, nil
}
