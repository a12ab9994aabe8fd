package artifact_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"preview-environments/service/artifact"
	"preview-environments/service/internal/testbin"
	"preview-environments/service/rie"
)

const (
	shaA = "0123456789abcdef0123456789abcdef01234567"
	shaB = "fedcba9876543210fedcba9876543210fedcba98"
)

// builds caches artifacts by options: each distinct build runs once per test
// binary (the machine is shared; go build is the slow part).
var builds sync.Map

type buildResult struct {
	once sync.Once
	a    *artifact.Artifact
	err  error
}

func build(t testing.TB, version, commit, arch string) *artifact.Artifact {
	t.Helper()
	v, _ := builds.LoadOrStore(version+"/"+commit+"/"+arch, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		r.a, r.err = artifact.Build(ctx, artifact.BuildOptions{
			Version: version, Commit: commit, Arch: arch, SourceDir: testbin.ServiceDir(t),
		})
	})
	if r.err != nil {
		t.Fatalf("build %s/%s: %v", version, arch, r.err)
	}
	return r.a
}

func TestValidateVersion(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{shaA, true},
		{"latest", true},
		{"", false},
		{"LATEST", false},
		{strings.ToUpper(shaA), false},
		{shaA[:39], false},
		{shaA + "0", false},
		{"../../etc/passwd", false},
		{"0123456789abcdef0123456789abcdef0123456g", false},
		{"main", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			err := artifact.ValidateVersion(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateVersion(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("error %q does not name the input", err)
			}
			key, err := artifact.Key(tc.in)
			if tc.ok && key != tc.in+".zip" {
				t.Errorf("Key(%q) = %q, %v", tc.in, key, err)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	src := testbin.ServiceDir(t)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   artifact.BuildOptions
		errHas string
	}{
		{"bad version", artifact.BuildOptions{Version: "v1.0", SourceDir: src}, `version "v1.0"`},
		{"latest without commit", artifact.BuildOptions{Version: "latest", SourceDir: src}, "commit: required"},
		{"bad commit", artifact.BuildOptions{Version: "latest", Commit: "abc", SourceDir: src}, `commit "abc"`},
		{"commit differs", artifact.BuildOptions{Version: shaA, Commit: shaB, SourceDir: src}, "differs from version"},
		{"bad arch", artifact.BuildOptions{Version: shaA, Arch: "386", SourceDir: src}, `arch "386"`},
		{"no source", artifact.BuildOptions{Version: shaA}, "source dir: empty"},
		{"missing source", artifact.BuildOptions{Version: shaA, SourceDir: filepath.Join(other, "nope")}, "nope"},
		{"wrong module", artifact.BuildOptions{Version: shaA, SourceDir: other}, "is not module preview-environments/service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := artifact.Build(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.errHas)
			}
			if a != nil {
				t.Error("got an artifact with an error")
			}
		})
	}
}

// checkZip asserts the layout every artifact must have.
func checkZip(t *testing.T, z []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry %q, want bootstrap", f.Name)
	}
	if f.Mode() != 0o755 {
		t.Errorf("mode %v, want 0755", f.Mode())
	}
	if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("modified %v, want 1980-01-01", f.Modified)
	}
}

func TestZipIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		exe  []byte
	}{
		{"empty", nil},
		{"small", []byte("\x7fELF not really")},
		{"large", bytes.Repeat([]byte("0123456789"), 100_000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z1, err := artifact.Zip(tc.exe)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
			z2, err := artifact.Zip(tc.exe)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(z1, z2) {
				t.Fatal("two zips of the same bytes differ")
			}
			checkZip(t, z1)
			dir := t.TempDir()
			p, err := artifact.ExtractBootstrap(z1, dir)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			fi, _ := os.Stat(p)
			if !bytes.Equal(got, tc.exe) || fi.Mode().Perm() != 0o755 {
				t.Errorf("extracted %d bytes mode %v, want %d bytes 0755", len(got), fi.Mode().Perm(), len(tc.exe))
			}
		})
	}
}

func TestExtractRejectsOtherLayouts(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"bootstrap", "../evil"} {
		w, _ := zw.Create(name)
		w.Write([]byte("x"))
	}
	zw.Close()
	dir := t.TempDir()
	for name, z := range map[string][]byte{"two entries": buf.Bytes(), "not a zip": []byte("nope")} {
		t.Run(name, func(t *testing.T) {
			if _, err := artifact.ExtractBootstrap(z, dir); err == nil {
				t.Fatal("no error")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %v behind", entries)
			}
		})
	}
}

func TestBuildIsReproducible(t *testing.T) {
	a := build(t, shaA, "", artifact.ArchARM64)
	// A second, independent build (not the cache above).
	again, err := artifact.Build(context.Background(), artifact.BuildOptions{
		Version: shaA, Arch: artifact.ArchARM64, SourceDir: testbin.ServiceDir(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Zip, again.Zip) {
		t.Fatalf("two builds of %s differ: %s vs %s", shaA, a.SHA256Hex, again.SHA256Hex)
	}
	checkZip(t, a.Zip)
	sum := sha256.Sum256(a.Zip)
	if a.SHA256Hex != hex.EncodeToString(sum[:]) || a.SHA256Base64 != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("checksums %s / %s do not match the zip", a.SHA256Hex, a.SHA256Base64)
	}
	if a.Arch != artifact.ArchARM64 || a.Commit != shaA {
		t.Errorf("artifact says arch %s commit %s", a.Arch, a.Commit)
	}
	if len(a.Zip) > 5<<20 {
		t.Errorf("zip is %d bytes, goal is at most 5 MB", len(a.Zip))
	}
	// The version is in the bytes: another version must give another zip.
	b := build(t, shaB, "", artifact.ArchARM64)
	if bytes.Equal(a.Zip, b.Zip) {
		t.Error("builds of different versions are identical")
	}
	// The ELF header says which machine: aarch64 is 0xB7 at offset 18.
	exe := extract(t, a.Zip)
	if len(exe) < 20 || string(exe[1:4]) != "ELF" || exe[18] != 0xB7 {
		t.Errorf("bootstrap is not a linux/arm64 ELF")
	}
	p, err := a.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); filepath.Base(p) != shaA+".zip" || !bytes.Equal(got, a.Zip) {
		t.Errorf("WriteFile wrote %s with other bytes", p)
	}
}

func extract(t *testing.T, z []byte) []byte {
	t.Helper()
	p, err := artifact.ExtractBootstrap(z, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestArtifactRunsUnderEmulator unzips a real artifact (host arch) and runs
// it under AWS's Runtime Interface Emulator with an API Gateway event.
func TestArtifactRunsUnderEmulator(t *testing.T) {
	tests := []struct {
		name, version, commit string
	}{
		{"commit build", shaA, ""},
		{"latest build records its commit", "latest", shaB},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := build(t, tc.version, tc.commit, runtime.GOARCH)
			boot, err := artifact.ExtractBootstrap(a.Zip, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var logs bytes.Buffer
			p, err := rie.Start(ctx, rie.Options{
				BootstrapPath: boot, RIEPath: testbin.RIE(t),
				Env:    []string{"PREVIEW_ENVIRONMENT_ID=e0e0e0e0"},
				Stdout: &logs,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()

			text := invoke(t, ctx, p, "", "req-text")
			if text.StatusCode != 200 || text.Body != tc.version+": Hello world" {
				t.Errorf("text: %d %q, want 200 %q", text.StatusCode, text.Body, tc.version+": Hello world")
			}
			js := invoke(t, ctx, p, "application/json", "req-json")
			var hello struct{ Version, Commit, Environment, Message string }
			if err := json.Unmarshal([]byte(js.Body), &hello); err != nil {
				t.Fatalf("json body %q: %v", js.Body, err)
			}
			wantCommit := tc.commit
			if wantCommit == "" {
				wantCommit = tc.version
			}
			if hello.Version != tc.version || hello.Commit != wantCommit || hello.Environment != "e0e0e0e0" {
				t.Errorf("json %+v, want version %s commit %s environment e0e0e0e0", hello, tc.version, wantCommit)
			}
			p.Stop()
			if !strings.Contains(logs.String(), `"request_id":"req-json"`) {
				t.Errorf("function logs lack the request id:\n%s", logs.String())
			}
		})
	}
}

func invoke(t *testing.T, ctx context.Context, p *rie.Process, accept, id string) events.APIGatewayProxyResponse {
	t.Helper()
	ev, _ := json.Marshal(events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/hello", Resource: "/hello",
		Headers:        map[string]string{"Accept": accept},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: id, Stage: "e0e0e0e0"},
	})
	out, err := p.Invoke(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	return resp
}

// BenchmarkArtifactSize reports the default (arm64) artifact's size; the
// goal is at most 5 MB zipped.
func BenchmarkArtifactSize(b *testing.B) {
	a := build(b, shaA, "", artifact.ArchARM64)
	for b.Loop() {
		if _, err := artifact.Zip(extractB(b, a.Zip)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(a.Zip)), "zip-bytes")
	b.ReportMetric(float64(a.BootstrapSize), "bootstrap-bytes")
}

func extractB(b *testing.B, z []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		b.Fatal(err)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// TestBuildIgnoresLocationAndWorkspace builds exported copies of the
// service module at two other paths, with a GOWORK that names a workspace
// they are not in (as make exports it), and expects the in-repo bytes.
func TestBuildIgnoresLocationAndWorkspace(t *testing.T) {
	want := build(t, shaA, "", artifact.ArchARM64)
	t.Setenv("GOWORK", filepath.Join(testbin.ServiceDir(t), "..", "go.work"))
	for _, name := range []string{"copy-one", "some/deeper/copy-two"} {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), name, "service")
			copyTree(t, testbin.ServiceDir(t), dst)
			got, err := artifact.Build(context.Background(), artifact.BuildOptions{
				Version: shaA, Arch: artifact.ArchARM64, SourceDir: dst,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Zip, want.Zip) {
				t.Errorf("build at %s: sha256 %s, in-repo build %s", dst, got.SHA256Hex, want.SHA256Hex)
			}
		})
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
