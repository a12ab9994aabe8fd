package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preview-environments/service/artifact"
	"preview-environments/service/internal/testbin"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// awsEnv points the SDK's default chain at the given key id only: no shared
// files, no instance metadata.
func awsEnv(t *testing.T, keyID string) {
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// parse reads key=value lines.
func parse(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("stdout line %q is not key=value", line)
		}
		m[k] = v
	}
	return m
}

func TestBadInput(t *testing.T) {
	src := testbin.ServiceDir(t)
	endpoint := testbin.S3(t, "artifacts")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	tests := []struct {
		name   string
		keyID  string // "" means no credentials at all
		args   []string
		code   int
		errHas string
	}{
		{"no version", "k", []string{}, 1, "--version: required"},
		{"bad version", "k", []string{"--version", "v1.2.3"}, 1, `"v1.2.3"`},
		{"path in version", "k", []string{"--version", "../x"}, 1, `"../x"`},
		{"latest without commit", "k", []string{"--version", "latest"}, 1, "--commit: required"},
		{"bad commit", "k", []string{"--version", "latest", "--commit", "HEAD"}, 1, `--commit "HEAD"`},
		{"also-latest on latest", "k", []string{"--version", "latest", "--commit", sha, "--also-latest", "--bucket", "artifacts"}, 1, "--also-latest"},
		{"bad arch", "k", []string{"--version", sha, "--arch", "x86"}, 1, `--arch "x86"`},
		{"bad bucket name", "k", []string{"--version", sha, "--bucket", "Bad_Bucket"}, 1, `--bucket "Bad_Bucket"`},
		{"endpoint without bucket", "k", []string{"--version", sha, "--endpoint", endpoint}, 1, "--bucket: required"},
		{"bad endpoint", "k", []string{"--version", sha, "--bucket", "artifacts", "--endpoint", "ftp://x"}, 1, `--endpoint "ftp://x"`},
		{"bad source", "k", []string{"--version", sha, "--source", "/nonexistent"}, 1, `--source "/nonexistent"`},
		{"unknown flag", "k", []string{"--nope"}, 2, "-nope"},
		{"stray argument", "k", []string{"--version", sha, "extra"}, 2, `"extra"`},
		{"rejected credentials", "AKIDWRONG", []string{"--version", sha, "--source", src, "--bucket", "artifacts", "--endpoint", endpoint}, 1, "s3://artifacts/" + sha + ".zip"},
		{"no credentials", "", []string{"--version", sha, "--source", src, "--bucket", "artifacts", "--endpoint", endpoint}, 1, "no usable AWS credentials"},
		{"unreachable endpoint", testbin.S3KeyID, []string{"--version", sha, "--source", src, "--bucket", "artifacts", "--endpoint", dead}, 1, "cannot reach the S3 endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t, tc.keyID)
			if tc.keyID == "" {
				os.Unsetenv("AWS_ACCESS_KEY_ID")
				os.Unsetenv("AWS_SECRET_ACCESS_KEY")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.errHas) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.errHas)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q on failure", stdout.String())
			}
		})
	}
}

// TestPackageAndUpload runs the CLI as the workflow does, twice: the first
// run uploads <sha>.zip and latest.zip, the second skips both.
func TestPackageAndUpload(t *testing.T) {
	awsEnv(t, testbin.S3KeyID)
	endpoint := testbin.S3(t, "artifacts")
	out := t.TempDir()
	args := []string{"--version", sha, "--also-latest", "--bucket", "artifacts", "--endpoint", endpoint,
		"--out", out, "--source", testbin.ServiceDir(t)}
	ctx := context.Background()

	for _, wantSkipped := range []string{"false", "true"} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		kv := parse(t, stdout.String())
		for _, p := range []string{"", "latest_"} {
			wantVersion := map[string]string{"": sha, "latest_": "latest"}[p]
			if kv[p+"version"] != wantVersion || kv[p+"commit"] != sha || kv[p+"arch"] != "arm64" ||
				kv[p+"key"] != wantVersion+".zip" || kv[p+"skipped"] != wantSkipped ||
				kv[p+"uri"] != "s3://artifacts/"+wantVersion+".zip" {
				t.Errorf("run skipped=%s: outputs %v", wantSkipped, kv)
			}
			zip, err := os.ReadFile(filepath.Join(out, wantVersion+".zip"))
			if err != nil {
				t.Fatal(err)
			}
			hexSum, b64Sum := artifact.Checksums(zip)
			if kv[p+"sha256"] != hexSum || kv[p+"sha256_base64"] != b64Sum {
				t.Errorf("printed checksums %s/%s, file has %s/%s", kv[p+"sha256"], kv[p+"sha256_base64"], hexSum, b64Sum)
			}
			c, err := artifact.NewS3Client(ctx, artifact.S3Options{Endpoint: endpoint, PathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := artifact.Download(ctx, c, "artifacts", wantVersion+".zip")
			if err != nil || !bytes.Equal(got, zip) {
				t.Errorf("s3 %s.zip differs from --out (%v)", wantVersion, err)
			}
		}
		if kv["sha256"] == kv["latest_sha256"] {
			t.Error("latest.zip and <sha>.zip are identical; latest must say latest")
		}
		// Progress says what was built and uploaded, with sizes and times.
		for _, want := range []string{
			"built " + sha + ".zip: " + kv["size"] + " bytes, sha256 " + kv["sha256"] + ", in ",
			"built latest.zip: " + kv["latest_size"] + " bytes, sha256 " + kv["latest_sha256"] + ", in ",
		} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("progress lacks %q:\n%s", want, stderr.String())
			}
		}
		if wantSkipped == "false" && !strings.Contains(stderr.String(), "uploaded s3://artifacts/"+sha+".zip ("+kv["size"]+" bytes in ") {
			t.Errorf("first run does not say what it uploaded: %s", stderr.String())
		}
		if wantSkipped == "true" && !strings.Contains(stderr.String(), "skipped s3://artifacts/"+sha+".zip") {
			t.Errorf("second run does not say it skipped: %s", stderr.String())
		}
	}
}

// TestMissingBucket: the bucket is checked by the upload itself (S3 answers
// HEAD in a missing bucket with a bare 404), after the build.
func TestMissingBucket(t *testing.T) {
	awsEnv(t, testbin.S3KeyID)
	endpoint := testbin.S3(t, "artifacts")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--version", sha, "--bucket", "no-such-bucket",
		"--endpoint", endpoint, "--source", testbin.ServiceDir(t)}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	last := stderr.String()[strings.LastIndex(strings.TrimSpace(stderr.String()), "\n")+1:]
	for _, want := range []string{"s3://no-such-bucket/" + sha + ".zip", "bucket does not exist"} {
		if !strings.Contains(last, want) {
			t.Errorf("error line %q lacks %q", last, want)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("failed run printed outputs: %q", stdout.String())
	}
}
