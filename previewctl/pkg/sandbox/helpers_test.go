package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/internal/proctable"
	"preview-environments/previewctl/pkg/managerdir"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/service/artifact"
)

const service = "hello-service"

var (
	shaA = strings.Repeat("a1", 20)
	shaB = strings.Repeat("b2", 20)
)

// repoRoot is the monorepo root, found from this file's folder.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// riePath finds aws-lambda-rie in PATH or bin/; its absence is a broken
// install, not a reason to skip.
func riePath(tb testing.TB) string {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(tb), "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		tb.Fatal("aws-lambda-rie not found in PATH or bin/: run make tools")
	}
	return p
}

var (
	zipMu sync.Mutex
	zips  = map[string][]byte{}
)

// artifactZip builds the real service's bootstrap for the host arch with the
// real packager, once per version per test binary.
func artifactZip(tb testing.TB, version string) []byte {
	zipMu.Lock()
	defer zipMu.Unlock()
	if z, ok := zips[version]; ok {
		return z
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, err := artifact.Build(ctx, artifact.BuildOptions{
		Version: version, Arch: runtime.GOARCH, SourceDir: filepath.Join(repoRoot(tb), "service"),
	})
	if err != nil {
		tb.Fatalf("build artifact %s: %v", version, err)
	}
	zips[version] = a.Zip
	return a.Zip
}

// upload puts the real artifact into the sandbox's S3 stand-in through the
// real packager's S3 client (custom endpoint, path style).
func upload(tb testing.TB, s *sandbox.Sandbox, key string, body []byte) {
	ctx := context.Background()
	c, err := artifact.NewS3Client(ctx, artifact.S3Options{
		Region: "us-east-1", Endpoint: s.S3Endpoint(), PathStyle: true,
		AccessKeyID: "sandbox", SecretAccessKey: "sandbox",
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := artifact.Upload(ctx, c, s.Bucket(), key, body); err != nil {
		tb.Fatalf("upload %s: %v", key, err)
	}
}

type running struct {
	*sandbox.Sandbox
	stop func()
}

func start(tb testing.TB, dir string) *running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sandbox.Open(ctx, sandbox.Config{Addr: "127.0.0.1:0", DataDir: dir, RIEPath: riePath(tb),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		cancel()
		tb.Fatalf("open sandbox: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	r := &running{Sandbox: s, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("serve: %v", err)
			}
		})
	}}
	tb.Cleanup(r.stop)
	return r
}

// client reaches gateway hosts on the sandbox's listener.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}

func get(addr, id, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	_, port, _ := strings.Cut(addr, ":")
	req.Host = id + "." + service + ".localhost:" + port
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// emulators lists live aws-lambda-rie processes whose bootstrap lives under dir.
func emulators(tb testing.TB, dir string) []int {
	tb.Helper()
	pids, err := proctable.Emulators(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return pids
}

func deploy(tb testing.TB, s *sandbox.Sandbox, id, version string, pool int) {
	tb.Helper()
	_, err := s.Deploy(context.Background(), sandbox.Deployment{
		ID: id, Service: service, Version: version, ArtifactKey: version + ".zip",
		PoolSize: pool, TimeoutSeconds: 10, Routes: []string{"GET /", "GET /hello"},
	})
	if err != nil {
		tb.Fatalf("deploy %s %s: %v", id, version, err)
	}
}

func want(version string) string { return fmt.Sprintf("%s: Hello world", version) }
