package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"preview-environments/previewctl/internal/proctable"
	"preview-environments/previewctl/pkg/managerdir"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"preview-environments/service/artifact"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestKill9LeavesNoEmulator runs the built `previewctl sandbox up` as a
// subprocess, warms a function, kills the sandbox with SIGKILL, and checks
// that after a restart no emulator of the first run is alive and the
// environment serves again from the state; then SIGTERM stops it cleanly.
func TestKill9LeavesNoEmulator(t *testing.T) {
	root := repoRoot(t)
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		rie = filepath.Join(root, "bin", "aws-lambda-rie")
		if _, err := os.Stat(rie); err != nil {
			t.Fatal("aws-lambda-rie not found in PATH or bin/: run make tools")
		}
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "previewctl")
	build := exec.Command("go", "build", "-o", bin, "preview-environments/previewctl/cmd/previewctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build previewctl: %v\n%s", err, out)
	}
	sha := strings.Repeat("c3", 20)
	a, err := artifact.Build(context.Background(), artifact.BuildOptions{Version: sha, Arch: runtime.GOARCH, SourceDir: filepath.Join(root, "service")})
	if err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(tmp, "data")
	addr := freeAddr(t)
	up := func() *exec.Cmd {
		cmd := exec.Command(bin, "sandbox", "up", "--addr", addr, "--data", data)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(rie)+":"+os.Getenv("PATH"))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitReady(t, addr)
		return cmd
	}

	first := up()
	c, err := artifact.NewS3Client(context.Background(), artifact.S3Options{Region: "us-east-1", Endpoint: "http://" + addr + "/s3", PathStyle: true, AccessKeyID: "x", SecretAccessKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Upload(context.Background(), c, "preview-artifacts", sha+".zip", a.Zip); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"service":"hello-service","version":%q,"artifact_key":"%s.zip","pool_size":3,"routes":["GET /"]}`, sha, sha)
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/environments/dead0001", strings.NewReader(body))
	if code, out := do(t, req); code != 200 {
		t.Fatalf("deploy: %d %s", code, out)
	}
	hello := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Host = "dead0001.hello-service.localhost"
		return do(t, req)
	}
	if code, out := hello(); code != 200 || strings.TrimSpace(out) != sha+": Hello world" {
		t.Fatalf("first run: %d %q", code, out)
	}
	old := emulators(t, data)
	if len(old) == 0 {
		t.Fatal("first run: no emulator in the process table after a request")
	}

	first.Process.Signal(syscall.SIGKILL)
	first.Wait()

	second := up()
	for _, pid := range old {
		if alive(pid) {
			t.Errorf("emulator %d of the killed sandbox is still alive", pid)
		}
	}
	if code, out := hello(); code != 200 || strings.TrimSpace(out) != sha+": Hello world" {
		t.Fatalf("after restart: %d %q", code, out)
	}
	second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Fatalf("SIGTERM: sandbox exited with %v, want a clean exit", err)
	}
	if pids := emulators(t, data); len(pids) != 0 {
		t.Fatalf("after SIGTERM: emulators still running: %v", pids)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, addr string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/api/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sandbox on %s not ready after 30s", addr)
}

func do(t *testing.T, req *http.Request) (int, string) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func alive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// emulators lists live aws-lambda-rie processes whose bootstrap lives under dir.
func emulators(t *testing.T, dir string) []int {
	t.Helper()
	pids, err := proctable.Emulators(dir)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}
