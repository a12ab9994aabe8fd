package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/lambda"
)

// TestServeSwapConcurrency runs the real bootstrap under the real emulator:
// it answers through the gateway, a second version replaces it while a
// client loops without one failed request, and 50 concurrent requests on a
// pool of 4 all succeed.
func TestServeSwapConcurrency(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	upload(t, s.Sandbox, shaA+".zip", artifactZip(t, shaA))
	upload(t, s.Sandbox, shaB+".zip", artifactZip(t, shaB))
	const id = "0a1b2c3d"
	deploy(t, s.Sandbox, id, shaA, 4)

	for _, path := range []string{"/", "/hello"} {
		code, body, err := get(s.Addr(), id, path)
		if err != nil || code != 200 || strings.TrimSpace(body) != want(shaA) {
			t.Fatalf("GET %s = %d %q, %v; want 200 %q", path, code, body, err, want(shaA))
		}
	}

	// Swap under load: every answer is version A or B, never an error.
	var failures, seenB atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := get(s.Addr(), id, "/")
				switch b := strings.TrimSpace(body); {
				case err != nil || code != 200 || (b != want(shaA) && b != want(shaB)):
					failures.Add(1)
					t.Errorf("during swap: %d %q %v", code, body, err)
				case b == want(shaB):
					seenB.Add(1)
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	deploy(t, s.Sandbox, id, shaB, 4)
	deadline := time.Now().Add(10 * time.Second)
	for seenB.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || seenB.Load() < 20 {
		t.Fatalf("swap: %d failed requests, %d answers from the new version", failures.Load(), seenB.Load())
	}
	code, body, err := get(s.Addr(), id, "/")
	if err != nil || code != 200 || strings.TrimSpace(body) != want(shaB) {
		t.Fatalf("after swap GET / = %d %q, %v", code, body, err)
	}

	// 50 at once on a pool of 4: they queue, none fails, no emulator dies.
	var bad atomic.Int64
	var start sync.WaitGroup
	start.Add(1)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			code, body, err := get(s.Addr(), id, "/hello")
			if err != nil || code != 200 || strings.TrimSpace(body) != want(shaB) {
				bad.Add(1)
				t.Errorf("concurrent GET: %d %q %v", code, body, err)
			}
		}()
	}
	start.Done()
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of 50 concurrent requests failed", bad.Load())
	}
	if n := len(emulators(t, dir)); n == 0 || n > 4 {
		t.Fatalf("%d emulators running for a pool of 4", n)
	}

	// Gateway answers of its own.
	for _, tc := range []struct {
		id, path string
		code     int
		body     string
	}{
		{id, "/nope", 403, "Missing Authentication Token"},
		{"ffffffff", "/", 404, "no environment ffffffff"},
	} {
		code, body, err := get(s.Addr(), tc.id, tc.path)
		if err != nil || code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s%s = %d %q %v; want %d containing %q", tc.id, tc.path, code, body, err, tc.code, tc.body)
		}
	}

	// Remove: 404 at once, emulators gone.
	if err := s.Remove(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(s.Addr(), id, "/"); code != 404 {
		t.Fatalf("after remove: %d, want 404", code)
	}
	if pids := emulators(t, dir); len(pids) != 0 {
		t.Fatalf("after remove: emulators still running: %v", pids)
	}
}

// TestBadDeploys: each bad artifact is refused with a clear error through
// the JSON API, nothing new is left on disk, and the live version keeps
// serving.
func TestBadDeploys(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	upload(t, s.Sandbox, shaA+".zip", artifactZip(t, shaA))
	const id = "11223344"
	deploy(t, s.Sandbox, id, shaA, 2)

	noBootstrap := zipOf(t, map[string]string{"main": "x"})
	traversal := zipOf(t, map[string]string{"bootstrap": "x", "../evil": "x"})
	upload(t, s.Sandbox, "nobootstrap.zip", noBootstrap)
	upload(t, s.Sandbox, "corrupt.zip", []byte("PK\x03\x04 this is not a zip"))
	upload(t, s.Sandbox, "traversal.zip", traversal)

	for _, tc := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"zip without bootstrap", `{"service":"hello-service","version":"v2","artifact_key":"nobootstrap.zip"}`, 422, "no bootstrap"},
		{"corrupt zip", `{"service":"hello-service","version":"v2","artifact_key":"corrupt.zip"}`, 422, "not a valid zip"},
		{"version not in bucket", `{"service":"hello-service","version":"` + shaB + `","artifact_key":"` + shaB + `.zip"}`, 422, "not found"},
		{"path traversal", `{"service":"hello-service","version":"v2","artifact_key":"traversal.zip"}`, 422, "unsafe path"},
		{"bad service name", `{"service":"Hello_Service","version":"v2","artifact_key":"x.zip"}`, 400, "service"},
		{"bad route", `{"service":"hello-service","version":"v2","artifact_key":"x.zip","routes":["FETCH /"]}`, 400, "method"},
		{"unknown field", `{"service":"hello-service","versoin":"v2"}`, 400, "unknown field"},
		{"key with ..", `{"service":"hello-service","version":"v2","artifact_key":"../x.zip"}`, 400, "artifact key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := listDirs(t, filepath.Join(dir, "functions"))
			req, _ := http.NewRequest(http.MethodPut, s.URL()+"/api/environments/"+id, strings.NewReader(tc.body))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]string
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(out["error"], tc.msg) {
				t.Fatalf("PUT = %d %q; want %d containing %q", resp.StatusCode, out["error"], tc.code, tc.msg)
			}
			if after := listDirs(t, filepath.Join(dir, "functions")); after != before {
				t.Fatalf("files left behind: before %s, after %s", before, after)
			}
			code, body, err := get(s.Addr(), id, "/")
			if err != nil || code != 200 || strings.TrimSpace(body) != want(shaA) {
				t.Fatalf("previous version after a bad deploy: %d %q %v", code, body, err)
			}
		})
	}
	// The Go API names the same failures with errors the caller can test.
	_, err := s.Deploy(context.Background(), sandbox.Deployment{ID: id, Service: service, Version: "v3", ArtifactKey: "corrupt.zip"})
	if !errors.Is(err, lambda.ErrArtifact) {
		t.Fatalf("Deploy(corrupt) = %v; want ErrArtifact", err)
	}
}

// TestRestart: stopping leaves no emulator; starting again brings routes
// and functions back from the state.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	upload(t, s.Sandbox, shaA+".zip", artifactZip(t, shaA))
	deploy(t, s.Sandbox, "aaaa0001", shaA, 2)
	if code, body, _ := get(s.Addr(), "aaaa0001", "/hello"); code != 200 || strings.TrimSpace(body) != want(shaA) {
		t.Fatalf("before restart: %d %q", code, body)
	}
	if len(emulators(t, dir)) == 0 {
		t.Fatal("no emulator running after a request")
	}
	s.stop()
	if pids := emulators(t, dir); len(pids) != 0 {
		t.Fatalf("after stop: emulators still running: %v", pids)
	}

	s2 := start(t, dir)
	code, body, err := get(s2.Addr(), "aaaa0001", "/hello")
	if err != nil || code != 200 || strings.TrimSpace(body) != want(shaA) {
		t.Fatalf("after restart: %d %q %v", code, body, err)
	}
	if code, _, _ := get(s2.Addr(), "aaaa0001", "/other"); code != 403 {
		t.Fatalf("after restart, unrouted path: %d, want 403 (routes restored)", code)
	}
	envs := s2.Environments()
	if len(envs) != 1 || envs[0].Version != shaA || envs[0].Service != service {
		t.Fatalf("after restart: environments %+v", envs)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "192.0.2.1:80", "example.com:80"} {
		_, err := sandbox.Open(context.Background(), sandbox.Config{Addr: addr, DataDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "--addr") {
			t.Errorf("Open(%q) = %v; want an error naming --addr", addr, err)
		}
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func listDirs(t *testing.T, root string) string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return strings.Join(out, ",")
}
