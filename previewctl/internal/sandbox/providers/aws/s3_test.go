package awsprovider

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"preview-environments/previewctl/pkg/sandbox/s3store"
)

// testObj is a value of d's schema: every attribute null, then vals (a
// tftypes.Value passes as is, e.g. an unknown one).
func testObj(t *testing.T, d *resourceDef, vals map[string]any) *obj {
	t.Helper()
	typ, ok := d.schema.Type().TerraformType(context.Background()).(tftypes.Object)
	if !ok {
		t.Fatalf("%s: schema type is not an object", d.name)
	}
	o := &obj{t: typ, v: map[string]tftypes.Value{}}
	for k, at := range typ.AttributeTypes {
		o.v[k] = tftypes.NewValue(at, nil)
	}
	for k, v := range vals {
		o.set(k, v)
	}
	return o
}

func unknownString() tftypes.Value { return tftypes.NewValue(tftypes.String, tftypes.UnknownValue) }

func TestBucketNames(t *testing.T) {
	for _, tc := range []struct {
		name, err string
	}{
		{"preview-0a1b2c3d-20260101000000000000000001", ""},
		{"a.b-c", ""},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"Preview-data", "only lowercase"},
		{"-data", "only lowercase"},
		{"data-", "only lowercase"},
		{"da_ta", "only lowercase"},
		{"a..b", "adjacent periods"},
		{"192.168.1.1", "IP address"},
		{"xn--data", "reserves"},
		{"data-s3alias", "reserves"},
	} {
		err := validBucketName(tc.name)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("validBucketName(%q) = %v; want %q", tc.name, err, tc.err)
		}
	}
	for _, tc := range []struct {
		prefix, err string
	}{
		{"preview-0a1b2c3d-", ""},
		{"terraform-", ""},
		{"", ""},
		{strings.Repeat("p", 37), ""},
		{strings.Repeat("p", 38), "at most 37"},
		{"Preview-", "does not make a valid bucket name"},
		{"-x", "does not make a valid bucket name"},
	} {
		err := checkBucketPrefix(tc.prefix)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("checkBucketPrefix(%q) = %v; want %q", tc.prefix, err, tc.err)
		}
	}
}

// TestUniqueName: the real provider's id.PrefixedUniqueId shape: the prefix,
// a UTC timestamp to 100 µs and a hex counter, 26 characters that sort in
// creation order, so a 37-character prefix makes a 63-character name.
func TestUniqueName(t *testing.T) {
	re := regexp.MustCompile(`^preview-0a1b2c3d-\d{18}[0-9a-f]{8}$`)
	prev := ""
	for range 50 {
		n := uniqueName("preview-0a1b2c3d-")
		if !re.MatchString(n) || len(n) != len("preview-0a1b2c3d-")+uniqueIDSuffixLength {
			t.Fatalf("uniqueName = %q", n)
		}
		if n <= prev {
			t.Fatalf("%q does not sort after %q", n, prev)
		}
		prev = n
	}
	if n := uniqueName(strings.Repeat("p", maxBucketPrefix)); len(n) != 63 || validBucketName(n) != nil {
		t.Fatalf("longest prefix: %q (%d characters, %v)", n, len(n), validBucketName(n))
	}
}

func TestPlanBucketRefuses(t *testing.T) {
	d := s3BucketResource()
	for _, tc := range []struct {
		name   string
		config map[string]any
		err    string
	}{
		{"prefix only", map[string]any{"bucket_prefix": "preview-0a1b2c3d-", "force_destroy": true}, ""},
		{"name only", map[string]any{"bucket": "my-data"}, ""},
		{"nothing (terraform- prefix)", map[string]any{}, ""},
		{"both", map[string]any{"bucket": "my-data", "bucket_prefix": "my-"}, "conflicts with bucket_prefix"},
		{"prefix too long", map[string]any{"bucket_prefix": strings.Repeat("p", 40)}, "at most 37"},
		{"bad name", map[string]any{"bucket": "My_Data"}, "only lowercase"},
		{"inline versioning", map[string]any{"versioning": []map[string]any{{"enabled": true}}}, "versioning: not supported"},
		{"inline website", map[string]any{"website": []map[string]any{{"index_document": "index.html"}}}, "website: not supported"},
		{"object lock", map[string]any{"object_lock_enabled": true}, "object lock"},
		{"public acl", map[string]any{"acl": "public-read"}, "keeps no ACLs"},
		{"private acl", map[string]any{"acl": "private"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := testObj(t, d, tc.config)
			err := planBucket(context.Background(), nil, testObj(t, d, tc.config), nil, config, nil)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("plan = %v; want %q", err, tc.err)
			}
		})
	}
}

// TestPlanObject: a new content (or content type) is a new upload, whose
// ETag and version the plan leaves unknown; a tags change keeps them; the
// body comes from one of content, content_base64 and source.
func TestPlanObject(t *testing.T) {
	d := s3ObjectResource()
	prior := map[string]any{"bucket": "b", "key": "greeting.txt", "content": "Hello world", "content_type": "text/plain",
		"etag": "3e25960a79dbc69b674cd4ec67a72c62", "version_id": "v1", "tags": map[string]string{}}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range prior {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		config  map[string]any
		newETag bool
		err     string
	}{
		{"unchanged", map[string]any{"bucket": "b", "key": "greeting.txt", "content": "Hello world", "content_type": "text/plain"}, false, ""},
		{"new content", map[string]any{"bucket": "b", "key": "greeting.txt", "content": "Hello again", "content_type": "text/plain"}, true, ""},
		{"new content type", map[string]any{"bucket": "b", "key": "greeting.txt", "content": "Hello world", "content_type": "text/html"}, true, ""},
		{"tags only", map[string]any{"bucket": "b", "key": "greeting.txt", "content": "Hello world", "content_type": "text/plain", "tags": map[string]string{"a": "b"}}, false, ""},
		{"content and source", map[string]any{"bucket": "b", "key": "k", "content": "x", "source": "/etc/hostname"}, false, "only one of"},
		{"bad base64", map[string]any{"bucket": "b", "key": "k", "content_base64": "%%%"}, false, "content_base64"},
		{"object lock", map[string]any{"bucket": "b", "key": "k", "object_lock_mode": "GOVERNANCE"}, false, "object lock"},
		{"checksum", map[string]any{"bucket": "b", "key": "k", "checksum_algorithm": "MD5"}, false, "checksum_algorithm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := testObj(t, d, tc.config)
			// The plan as the generic ModifyPlan hands it on: computed
			// attributes the configuration leaves null keep their prior values.
			plan := testObj(t, d, with(tc.config))
			err := planObject(context.Background(), nil, plan, testObj(t, d, prior), config, nil)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("plan = %v; want %q", err, tc.err)
			}
			if err != nil {
				return
			}
			if unknown := !plan.known("etag") && !plan.known("version_id"); unknown != tc.newETag {
				t.Fatalf("etag and version_id unknown: %v; want %v", unknown, tc.newETag)
			}
		})
	}
	// override_provider replaces the provider's default tags.
	config := testObj(t, d, map[string]any{"bucket": "b", "key": "k", "tags": map[string]string{"own": "1"},
		"override_provider": []map[string]any{{"default_tags": []map[string]any{{"tags": map[string]string{"stack": "data"}}}}}})
	plan := testObj(t, d, map[string]any{"bucket": "b", "key": "k", "tags": map[string]string{"own": "1"}, "tags_all": map[string]string{"from": "provider"}})
	if err := planObject(context.Background(), nil, plan, nil, config, nil); err != nil {
		t.Fatal(err)
	}
	if got := plan.strMap("tags_all"); len(got) != 2 || got["stack"] != "data" || got["own"] != "1" {
		t.Fatalf("tags_all %v; want the override's tags and the object's", got)
	}
}

// s3Stub serves the sandbox's S3 stand-in (gofakes3 over bbolt) and returns
// a client of this provider configured for it.
func s3Stub(t *testing.T) (*client, *s3store.Store) {
	t.Helper()
	store, err := s3store.Open(filepath.Join(t.TempDir(), "s3.bolt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(store.Handler())
	t.Cleanup(srv.Close)
	return &client{region: "eu-west-1", endpoints: map[string]string{"s3": srv.URL}, http: http.DefaultClient,
		creds: aws.Credentials{AccessKeyID: "sandbox", SecretAccessKey: "sandbox"}}, store
}

// TestBucketAndObjectLifecycle drives the resources' operations against the
// S3 stand-in: a bucket from its prefix with the real provider's computed
// attributes; objects from content, content_base64 and source whose ETag is
// the MD5 of their bytes; a new content, a new ETag; a refresh seeing an
// object deleted outside; a bucket that holds objects refusing deletion with
// S3's BucketNotEmpty unless force_destroy.
func TestBucketAndObjectLifecycle(t *testing.T) {
	ctx := context.Background()
	c, store := s3Stub(t)
	bd, od := s3BucketResource(), s3ObjectResource()

	b := testObj(t, bd, map[string]any{"bucket_prefix": "preview-0a1b2c3d-", "bucket": unknownString(), "id": unknownString(),
		"arn": unknownString(), "region": unknownString(), "hosted_zone_id": unknownString(), "bucket_domain_name": unknownString(),
		"bucket_regional_domain_name": unknownString()})
	if err := createBucket(ctx, c, b); err != nil {
		t.Fatal(err)
	}
	name := b.str("bucket")
	if !strings.HasPrefix(name, "preview-0a1b2c3d-") || b.str("id") != name || b.str("arn") != "arn:aws:s3:::"+name ||
		b.str("bucket_domain_name") != name+".s3.amazonaws.com" || b.str("bucket_regional_domain_name") != name+".s3.eu-west-1.amazonaws.com" ||
		b.str("region") != "eu-west-1" || b.str("hosted_zone_id") != "Z1BKCTXD74EZPE" || b.str("bucket_prefix") != "preview-0a1b2c3d-" {
		t.Fatalf("created bucket: %v", b.raw())
	}
	if found, err := bd.read(ctx, c, b); err != nil || !found {
		t.Fatalf("read after create: %v %v", found, err)
	}

	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	source := filepath.Join(t.TempDir(), "greeting.txt")
	if err := writeFile(source, "from a file"); err != nil {
		t.Fatal(err)
	}
	computed := map[string]any{"etag": unknownString(), "version_id": unknownString(), "content_type": unknownString(), "id": unknownString(), "arn": unknownString()}
	for _, tc := range []struct {
		name, key string
		config    map[string]any
		body      string
	}{
		{"content", "greeting.txt", map[string]any{"content": "Hello world", "content_type": "text/plain; charset=utf-8"}, "Hello world"},
		{"base64", "data.bin", map[string]any{"content_base64": base64.StdEncoding.EncodeToString([]byte{0, 1, 2})}, "\x00\x01\x02"},
		{"source", "file.txt", map[string]any{"source": source}, "from a file"},
		{"empty", "empty", map[string]any{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string]any{"bucket": name, "key": tc.key}
			for k, v := range computed {
				vals[k] = v
			}
			for k, v := range tc.config {
				vals[k] = v
			}
			o := testObj(t, od, vals)
			if err := putObject(ctx, c, o); err != nil {
				t.Fatal(err)
			}
			got, err := store.Get(ctx, name, tc.key, 1<<20)
			if err != nil || string(got) != tc.body || o.str("etag") != md5hex(tc.body) || o.str("id") != tc.key || o.str("arn") != "arn:aws:s3:::"+name+"/"+tc.key {
				t.Fatalf("stored %q (%v), state etag %s id %s arn %s; want %q with ETag %s", got, err, o.str("etag"), o.str("id"), o.str("arn"), tc.body, md5hex(tc.body))
			}
			if want, ok := tc.config["content_type"]; ok && o.str("content_type") != want {
				t.Fatalf("content_type %q; want %q", o.str("content_type"), want)
			}
		})
	}

	// A new content: uploaded again, under a new ETag.
	o := testObj(t, od, map[string]any{"bucket": name, "key": "greeting.txt", "content": "Hello world", "content_type": "text/plain; charset=utf-8"})
	if found, err := od.read(ctx, c, o); err != nil || !found || o.str("etag") != md5hex("Hello world") {
		t.Fatalf("refresh: %v %v etag %s", found, err, o.str("etag"))
	}
	prior := testObj(t, od, map[string]any{"bucket": name, "key": "greeting.txt", "content": "Hello world", "content_type": "text/plain; charset=utf-8", "etag": o.str("etag")})
	next := testObj(t, od, map[string]any{"bucket": name, "key": "greeting.txt", "content": "Hello again", "content_type": "text/plain; charset=utf-8",
		"etag": unknownString(), "version_id": unknownString()})
	if err := od.update(ctx, c, next, prior); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, name, "greeting.txt", 1<<20); string(got) != "Hello again" || next.str("etag") != md5hex("Hello again") {
		t.Fatalf("after the update: %q, etag %s", got, next.str("etag"))
	}

	// Deleted outside OpenTofu: the refresh says gone.
	if err := od.delete(ctx, c, testObj(t, od, map[string]any{"bucket": name, "key": "empty"})); err != nil {
		t.Fatal(err)
	}
	if found, err := od.read(ctx, c, testObj(t, od, map[string]any{"bucket": name, "key": "empty"})); err != nil || found {
		t.Fatalf("read of a deleted object: %v %v; want not found", found, err)
	}

	// Objects left: without force_destroy S3 refuses; with it, they go first.
	err := bd.delete(ctx, c, testObj(t, bd, map[string]any{"bucket": name, "force_destroy": false}))
	if err == nil || !strings.Contains(err.Error(), "BucketNotEmpty") || !strings.Contains(err.Error(), "force_destroy") {
		t.Fatalf("delete of a non-empty bucket = %v; want BucketNotEmpty and a word on force_destroy", err)
	}
	if err := bd.delete(ctx, c, testObj(t, bd, map[string]any{"bucket": name, "force_destroy": true})); err != nil {
		t.Fatal(err)
	}
	if found, err := bd.read(ctx, c, b); err != nil || found {
		t.Fatalf("read after delete: %v %v; want gone", found, err)
	}
	// Deleting what is gone is done.
	if err := bd.delete(ctx, c, testObj(t, bd, map[string]any{"bucket": name})); err != nil {
		t.Fatalf("delete of a missing bucket: %v", err)
	}
	cl, _ := c.s3Client()
	if out, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(out.Buckets) != 0 {
		t.Fatalf("buckets left: %v (%v)", out, err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
