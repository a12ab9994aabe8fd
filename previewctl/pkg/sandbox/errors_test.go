package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/sandbox"
)

// TestGatewayErrors maps a real function's error, timeout and crash to API
// Gateway's 502/504 answers, and the environment keeps serving afterwards.
func TestGatewayErrors(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", exe, "./lambda/testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/fn: %v\n%s", err, out)
	}
	body, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	w.Write(body)
	zw.Close()

	s := start(t, t.TempDir())
	upload(t, s.Sandbox, "fn.zip", buf.Bytes())
	const id = "e2202020"
	if _, err := s.Deploy(context.Background(), sandbox.Deployment{
		ID: id, Service: service, Version: "fn1", ArtifactKey: "fn.zip", TimeoutSeconds: 1, PoolSize: 2,
		Env: map[string]string{"FN_MESSAGE": "up"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/ok", 200, "up /ok"},
		{"/err", 502, `{"message":"Internal server error"}`},
		{"/sleep", 504, `{"message":"Endpoint request timed out"}`},
		{"/panic", 502, `{"message":"Internal server error"}`},
		{"/again", 200, "up /again"},
	} {
		code, body, err := get(s.Addr(), id, tc.path)
		if err != nil || code != tc.code || strings.TrimSpace(body) != tc.body {
			t.Errorf("GET %s = %d %q %v; want %d %q", tc.path, code, body, err, tc.code, tc.body)
		}
	}
}
