// Command package builds the Lambda artifact for a version and uploads it.
//
//	package --version <40-hex sha|latest> [--commit <sha>] [--arch arm64|amd64]
//	        [--out DIR] [--bucket NAME [--endpoint URL] [--region R] [--also-latest]]
//
// stdout carries key=value lines (ready for $GITHUB_OUTPUT); progress goes
// to stderr. Bad input: one line naming it on stderr, exit status 1 (2 for
// flag syntax).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"preview-environments/service/artifact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// bucketRE is S3's bucket naming rule (lower case, digits, dots, hyphens).
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

type options struct {
	version, commit, arch, source, out string
	bucket, endpoint, region           string
	pathStyle, alsoLatest              bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.version, "version", "", "code version: a 40-hex commit sha or \"latest\" (required)")
	fs.StringVar(&o.commit, "commit", "", "commit recorded inside; required with --version latest")
	fs.StringVar(&o.arch, "arch", artifact.ArchARM64, "target architecture: arm64 or amd64")
	fs.StringVar(&o.source, "source", "", "the service module's folder (default: found from the working directory)")
	fs.StringVar(&o.out, "out", "", "also write <version>.zip into this folder")
	fs.StringVar(&o.bucket, "bucket", "", "S3 bucket to upload <version>.zip to")
	fs.StringVar(&o.endpoint, "endpoint", "", "custom S3 endpoint URL (S3-protocol servers); implies --path-style")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the SDK's, else us-east-1)")
	fs.BoolVar(&o.pathStyle, "path-style", false, "address buckets as <endpoint>/<bucket>")
	fs.BoolVar(&o.alsoLatest, "also-latest", false, "also build and upload latest.zip recording this commit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "package: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	// Outputs are held back until everything succeeded, so a failed run
	// never leaves half a set of key=value lines in $GITHUB_OUTPUT.
	var out bytes.Buffer
	if err := pkg(ctx, o, &out, stderr); err != nil {
		fmt.Fprintf(stderr, "package: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return 1
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "package: write outputs: %v\n", err)
		return 1
	}
	return 0
}

func (o *options) validate() error {
	if o.version == "" {
		return errors.New("--version: required (a 40-hex commit sha or \"latest\")")
	}
	if err := artifact.ValidateVersion(o.version); err != nil {
		return err
	}
	if o.version == artifact.Latest && o.commit == "" {
		return errors.New("--commit: required with --version latest (the sha recorded inside)")
	}
	if o.commit != "" && !artifact.IsCommit(o.commit) {
		return fmt.Errorf("--commit %q: want a 40-hex lower-case commit sha", o.commit)
	}
	if o.alsoLatest && o.version == artifact.Latest {
		return errors.New("--also-latest: needs --version to be a commit sha, not latest")
	}
	if o.arch != artifact.ArchARM64 && o.arch != artifact.ArchAMD64 {
		return fmt.Errorf("--arch %q: want arm64 or amd64", o.arch)
	}
	if o.bucket != "" && !bucketRE.MatchString(o.bucket) {
		return fmt.Errorf("--bucket %q: not a valid S3 bucket name", o.bucket)
	}
	if o.bucket == "" && (o.endpoint != "" || o.alsoLatest) {
		return errors.New("--bucket: required with --endpoint or --also-latest")
	}
	if o.endpoint != "" {
		u, err := url.Parse(o.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--endpoint %q: want an http(s) URL", o.endpoint)
		}
		o.pathStyle = true
	}
	return nil
}

func pkg(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	src, err := findSource(o.source)
	if err != nil {
		return err
	}
	type job struct{ version, commit, prefix string }
	jobs := []job{{o.version, o.commit, ""}}
	if o.alsoLatest {
		jobs = append(jobs, job{artifact.Latest, o.version, "latest_"})
	}

	var up func(a *artifact.Artifact, prefix string) error
	if o.bucket != "" {
		client, err := artifact.NewS3Client(ctx, artifact.S3Options{
			Region: o.region, Endpoint: o.endpoint, PathStyle: o.pathStyle,
		})
		if err != nil {
			return err
		}
		// Fail on credentials or endpoint before the build, not after.
		key, _ := artifact.Key(o.version)
		if err := artifact.Preflight(ctx, client, o.bucket, key); err != nil {
			return err
		}
		up = func(a *artifact.Artifact, prefix string) error {
			key, _ := artifact.Key(a.Version)
			t := time.Now()
			res, err := artifact.Upload(ctx, client, o.bucket, key, a.Zip)
			if err != nil {
				return err
			}
			if res.Skipped {
				fmt.Fprintf(stderr, "skipped %s: an object with sha256 %s is already there (checked in %s)\n", res.URI(), res.SHA256Hex, seconds(time.Since(t)))
			} else {
				fmt.Fprintf(stderr, "uploaded %s (%d bytes in %s)\n", res.URI(), len(a.Zip), seconds(time.Since(t)))
			}
			fmt.Fprintf(stdout, "%suri=%s\n%sskipped=%t\n", prefix, res.URI(), prefix, res.Skipped)
			return nil
		}
	}

	for _, j := range jobs {
		fmt.Fprintf(stderr, "building %s for linux/%s from %s\n", j.version, o.arch, src)
		t := time.Now()
		a, err := artifact.Build(ctx, artifact.BuildOptions{Version: j.version, Commit: j.commit, Arch: o.arch, SourceDir: src})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "built %s.zip: %d bytes, sha256 %s, in %s\n", a.Version, len(a.Zip), a.SHA256Hex, seconds(time.Since(t)))
		key, _ := artifact.Key(a.Version)
		fmt.Fprintf(stdout, "%sversion=%s\n%scommit=%s\n%sarch=%s\n%skey=%s\n%ssize=%d\n%ssha256=%s\n%ssha256_base64=%s\n",
			j.prefix, a.Version, j.prefix, a.Commit, j.prefix, a.Arch, j.prefix, key,
			j.prefix, len(a.Zip), j.prefix, a.SHA256Hex, j.prefix, a.SHA256Base64)
		if o.out != "" {
			p, err := a.WriteFile(o.out)
			if err != nil {
				return fmt.Errorf("--out %q: %w", o.out, err)
			}
			fmt.Fprintf(stdout, "%spath=%s\n", j.prefix, p)
		}
		if up != nil {
			if err := up(a, j.prefix); err != nil {
				return err
			}
		}
	}
	return nil
}

// seconds is a duration for the progress lines (a build takes seconds; an
// upload to a nearby bucket, milliseconds).
func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// findSource returns dir when given, else the service module found from the
// working directory: "." itself, or a "service" folder in it or a parent.
func findSource(dir string) (string, error) {
	isService := func(d string) bool {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		return err == nil && strings.HasPrefix(string(b), "module "+artifact.ModulePath+"\n")
	}
	if dir != "" {
		if !isService(dir) {
			return "", fmt.Errorf("--source %q: no go.mod of module %s there", dir, artifact.ModulePath)
		}
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("--source: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, c := range []string{d, filepath.Join(d, "service")} {
			if isService(c) {
				return c, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("--source: no %s module found from %s; pass --source", artifact.ModulePath, wd)
		}
	}
}
