// Package artifact builds the Lambda's deployment zip reproducibly and moves
// it to and from S3 (or any S3-protocol server).
//
// A zip holds one entry, `bootstrap` (mode 0755, fixed timestamp), built for
// provided.al2023 with the version linked in. The same service/ tree, Go
// version and BuildOptions give the same bytes on any machine, wherever the
// tree sits and whatever workspace surrounds it (builds use GOWORK=off).
package artifact

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Latest is the version name of the default branch's artifact.
const Latest = "latest"

// Architectures the packager builds for; ArchARM64 is the default.
const (
	ArchARM64 = "arm64"
	ArchAMD64 = "amd64"
)

// ModulePath is the Go module the bootstrap lives in.
const ModulePath = "preview-environments/service"

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// zipTime is the fixed modification time of the zip entry (the zip
// format's epoch), so the build time never reaches the bytes.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ValidateVersion accepts a 40-hex lower-case commit sha or "latest".
func ValidateVersion(v string) error {
	if v == Latest || shaRE.MatchString(v) {
		return nil
	}
	return fmt.Errorf("version %q: want a 40-hex lower-case commit sha or %q", v, Latest)
}

// IsCommit reports whether s is a 40-hex lower-case commit sha.
func IsCommit(s string) bool { return shaRE.MatchString(s) }

// Key is the S3 object key of a version's zip: "<version>.zip".
func Key(version string) (string, error) {
	if err := ValidateVersion(version); err != nil {
		return "", err
	}
	return version + ".zip", nil
}

// BuildOptions say what to build.
type BuildOptions struct {
	// Version is the code_version: a 40-hex sha or "latest".
	Version string
	// Commit is the sha recorded inside. Required for "latest"; for a sha
	// version it defaults to Version and must equal it.
	Commit string
	// Arch is ArchARM64 (default) or ArchAMD64.
	Arch string
	// SourceDir is the service module's folder (the one whose go.mod says
	// module preview-environments/service).
	SourceDir string
	// Go is the go command; empty means "go" from PATH.
	Go string
}

// Artifact is a built zip and its checksums.
type Artifact struct {
	Version, Commit, Arch string
	Zip                   []byte
	// SHA256Hex and SHA256Base64 are the zip's SHA-256; the base64 form is
	// what Terraform's source_code_hash wants.
	SHA256Hex, SHA256Base64 string
	// BootstrapSize is the uncompressed executable's size in bytes.
	BootstrapSize int
}

func (o *BuildOptions) normalize() error {
	if err := ValidateVersion(o.Version); err != nil {
		return err
	}
	switch {
	case o.Commit == "" && o.Version == Latest:
		return fmt.Errorf("commit: required for version %q (the sha recorded inside)", Latest)
	case o.Commit == "":
		o.Commit = o.Version
	case !IsCommit(o.Commit):
		return fmt.Errorf("commit %q: want a 40-hex lower-case commit sha", o.Commit)
	case o.Version != Latest && o.Commit != o.Version:
		return fmt.Errorf("commit %q: differs from version %q", o.Commit, o.Version)
	}
	switch o.Arch {
	case "":
		o.Arch = ArchARM64
	case ArchARM64, ArchAMD64:
	default:
		return fmt.Errorf("arch %q: want %q or %q", o.Arch, ArchARM64, ArchAMD64)
	}
	if o.SourceDir == "" {
		return errors.New("source dir: empty (want the service module's folder)")
	}
	mod, err := os.ReadFile(filepath.Join(o.SourceDir, "go.mod"))
	if err != nil {
		return fmt.Errorf("source dir %q: %w", o.SourceDir, err)
	}
	if !bytes.Contains(mod, []byte("module "+ModulePath+"\n")) {
		return fmt.Errorf("source dir %q: go.mod is not module %s", o.SourceDir, ModulePath)
	}
	if o.Go == "" {
		o.Go = "go"
	}
	return nil
}

// Build compiles bootstrap for linux/opts.Arch and zips it.
func Build(ctx context.Context, opts BuildOptions) (*Artifact, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	exe, err := compile(ctx, opts)
	if err != nil {
		return nil, err
	}
	z, err := Zip(exe)
	if err != nil {
		return nil, err
	}
	hexSum, b64Sum := Checksums(z)
	return &Artifact{
		Version: opts.Version, Commit: opts.Commit, Arch: opts.Arch,
		Zip: z, SHA256Hex: hexSum, SHA256Base64: b64Sum, BootstrapSize: len(exe),
	}, nil
}

// compile runs go build with every input that could vary between machines
// pinned: no cgo, fixed GOARM64/GOAMD64 levels, no VCS stamp, no paths, no
// build id.
func compile(ctx context.Context, opts BuildOptions) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "bootstrap-build-")
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", opts.Version, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	ldflags := fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.commit=%s", opts.Version, opts.Commit)
	cmd := exec.CommandContext(ctx, opts.Go, "build",
		"-trimpath", "-tags", "lambda.norpc", "-ldflags", ldflags,
		"-o", out, "./cmd/bootstrap")
	cmd.Dir = opts.SourceDir
	cmd.Env = append(os.Environ(),
		"GOOS=linux", "GOARCH="+opts.Arch, "CGO_ENABLED=0",
		"GOARM64=v8.0", "GOAMD64=v1", "GOEXPERIMENT=",
		"GOFLAGS=-buildvcs=false",
		// SourceDir is a module of its own: a workspace from the caller's
		// environment (make exports GOWORK) must not claim it, or a checkout
		// exported outside the workspace would not build. It also makes the
		// bytes a function of service/ alone (its go.mod and go.sum).
		"GOWORK=off",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s (%s) in %s: %w: %s", opts.Version, opts.Arch, opts.SourceDir, err,
			strings.Join(strings.Fields(stderr.String()), " "))
	}
	exe, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build %s: read output: %w", opts.Version, err)
	}
	return exe, nil
}

// Zip wraps an executable as the single entry "bootstrap", mode 0755, with a
// fixed timestamp and deflate compression.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// Default level: best compression saves 0.3% of ~2.5 MB for 5x the time.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.DefaultCompression)
	})
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if _, err := w.Write(bootstrap); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	return buf.Bytes(), nil
}

// Checksums returns b's SHA-256 as hex and as standard base64.
func Checksums(b []byte) (hexSum, base64Sum string) {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:])
}

// ExtractBootstrap writes the zip's "bootstrap" entry to dir/bootstrap with
// mode 0755 and returns its path. Any other entry is an error: an artifact
// holds exactly one file.
func ExtractBootstrap(zipBytes []byte, dir string) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return "", fmt.Errorf("read artifact zip: %w", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		names := make([]string, 0, len(zr.File))
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		return "", fmt.Errorf("artifact zip: want the single entry bootstrap, have %q", names)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		return "", fmt.Errorf("artifact zip: open bootstrap: %w", err)
	}
	defer rc.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	// Written under a temporary name and renamed, so a running pool never
	// execs a half-written file.
	f, err := os.CreateTemp(dir, ".bootstrap-*")
	if err != nil {
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	if err := f.Chmod(0o755); err != nil {
		f.Close()
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	dst := filepath.Join(dir, "bootstrap")
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", fmt.Errorf("extract bootstrap to %s: %w", dir, err)
	}
	return dst, nil
}

// WriteFile writes the zip to dir/<version>.zip atomically and returns the path.
func (a *Artifact) WriteFile(dir string) (string, error) {
	key, err := Key(a.Version)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	f, err := os.CreateTemp(dir, "."+key+"-*")
	if err != nil {
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(a.Zip); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	dst := filepath.Join(dir, key)
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", fmt.Errorf("write %s to %s: %w", key, dir, err)
	}
	return dst, nil
}
