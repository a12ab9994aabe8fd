package rie_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/service/handler"
	"preview-environments/service/internal/testbin"
	"preview-environments/service/rie"
)

const testVersion = "0123456789abcdef0123456789abcdef01234567"

var (
	buildOnce sync.Once
	bootPath  string
	buildErr  error
)

// hostBootstrap builds the real bootstrap for the host (the emulator runs it
// natively) once per test binary.
func hostBootstrap(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rie-test-")
		if err != nil {
			buildErr = err
			return
		}
		bootPath = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath",
			"-ldflags", "-X main.version="+testVersion+" -X main.commit="+testVersion,
			"-o", bootPath, "./cmd/bootstrap")
		cmd.Dir = testbin.ServiceDir(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build bootstrap: %v", buildErr)
	}
	return bootPath
}

func event(t testing.TB, method, path, accept string) []byte {
	t.Helper()
	b, err := json.Marshal(events.APIGatewayProxyRequest{
		HTTPMethod: method, Path: path, Resource: path,
		Headers:        map[string]string{"Accept": accept},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-1", Stage: "env"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInvokeRunsTheRealBootstrap(t *testing.T) {
	boot := hostBootstrap(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := rie.Start(ctx, rie.Options{
		BootstrapPath: boot,
		RIEPath:       testbin.RIE(t),
		Env:           []string{"PREVIEW_ENVIRONMENT_ID=abcd1234"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Errorf("emulator address %q is not loopback", p.Addr())
	}

	tests := []struct {
		name, method, path, accept string
		status                     int
		bodyHas                    string
	}{
		{"text hello", "GET", "/hello", "", 200, testVersion + ": Hello world"},
		{"json root", "GET", "/", "application/json", 200, `"environment":"abcd1234"`},
		{"unknown path", "GET", "/nope", "", 404, "not found"},
		{"post", "POST", "/hello", "", 405, "method not allowed"},
	}
	// Sequential and then concurrent: Process must serialise, or the
	// emulator crashes on the second concurrent invoke.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := p.Invoke(ctx, event(t, tc.method, tc.path, tc.accept))
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("decode %s: %v", out, err)
			}
			if resp.StatusCode != tc.status || !strings.Contains(resp.Body, tc.bodyHas) {
				t.Errorf("got %d %q, want %d containing %q", resp.StatusCode, resp.Body, tc.status, tc.bodyHas)
			}
		})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Invoke(ctx, event(t, "GET", "/hello", "")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent invoke: %v", err)
	}
}

// TestBootstrapReadsGreeting: the real bootstrap takes its message from
// PREVIEW_GREETING in the function's environment (what infra sets), and
// says "Hello world" without it; with PREVIEW_GREETING_BUCKET (an
// environment with a data stack) it reads the object from S3 (gofakes3 on
// 127.0.0.1, reached through AWS_ENDPOINT_URL_S3 with the credentials and
// region a Lambda gets), and answers 503 when it cannot.
func TestBootstrapReadsGreeting(t *testing.T) {
	boot := hostBootstrap(t)
	const bucket = "preview-0a1b2c3d-20260101000000000000000001"
	endpoint := testbin.S3(t, bucket)
	putObject(t, endpoint, bucket, "greeting.txt", "Hello from the bucket")
	lambdaEnv := func(key string) []string {
		return []string{"PREVIEW_GREETING_BUCKET=" + bucket, "PREVIEW_GREETING_KEY=" + key, "PREVIEW_GREETING=not this one",
			"AWS_ENDPOINT_URL_S3=" + endpoint, "AWS_REGION=eu-west-1",
			"AWS_ACCESS_KEY_ID=" + testbin.S3KeyID, "AWS_SECRET_ACCESS_KEY=sandbox", "AWS_SESSION_TOKEN=sandbox"}
	}
	tests := []struct {
		name   string
		env    []string
		status int
		want   string
	}{
		{"unset", nil, 200, testVersion + ": Hello world"},
		{"empty", []string{"PREVIEW_GREETING="}, 200, testVersion + ": Hello world"},
		{"set by infra", []string{"PREVIEW_GREETING=Hello from infra"}, 200, testVersion + ": Hello from infra"},
		{"from the data bucket", lambdaEnv("greeting.txt"), 200, testVersion + ": Hello from the bucket"},
		{"object missing", lambdaEnv("nope.txt"), 503, handler.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: testbin.RIE(t), Env: tc.env})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			out, err := p.Invoke(ctx, event(t, "GET", "/hello", ""))
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("decode %s: %v", out, err)
			}
			if resp.StatusCode != tc.status || resp.Body != tc.want {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Body, tc.status, tc.want)
			}
		})
	}
}

// putObject writes an object with the real SDK, path style.
func putObject(t testing.TB, endpoint, bucket, key, body string) {
	t.Helper()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testbin.S3KeyID, "sandbox", "")})
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

func TestStopKillsEmulatorAndBootstrap(t *testing.T) {
	boot := hostBootstrap(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: testbin.RIE(t)})
	if err != nil {
		t.Fatal(err)
	}
	// The emulator starts the bootstrap on the first invoke.
	if _, err := p.Invoke(ctx, event(t, "GET", "/", "")); err != nil {
		p.Stop()
		t.Fatal(err)
	}
	pgid := p.Pid()
	boots := bootstrapsOf(t, pgid)
	if len(boots) != 1 {
		t.Fatalf("emulator %d runs bootstraps %v, want one", pgid, boots)
	}
	p.Stop()
	p.Stop() // idempotent
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(groupMembers(t, pgid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := groupMembers(t, pgid); len(left) > 0 {
		t.Errorf("processes %v of group %d outlived Stop", left, pgid)
	}
	for len(groupMembers(t, boots[0])) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := groupMembers(t, boots[0]); len(left) > 0 {
		t.Errorf("bootstrap processes %v outlived Stop", left)
	}
	if _, err := p.Invoke(ctx, event(t, "GET", "/", "")); err == nil {
		t.Error("Invoke after Stop succeeded")
	}
}

// bootstrapsOf lists the live children of pid (the emulator starts the
// bootstrap in a process group of its own, led by the bootstrap).
func bootstrapsOf(t testing.TB, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(e.Name())
			out = append(out, n)
		}
	}
	return out
}

// groupMembers lists live (non-zombie) processes in process group pgid.
func groupMembers(t testing.TB, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		g, err := syscall.Getpgid(pid)
		if err != nil || g != pgid {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && strings.Contains(string(stat), ") Z ") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func TestStartRejects(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    rie.Options
		errHas  string
		notFind bool
	}{
		{"empty bootstrap", rie.Options{}, "BootstrapPath is empty", false},
		{"missing bootstrap", rie.Options{BootstrapPath: filepath.Join(dir, "nope")}, "nope", false},
		{"not executable", rie.Options{BootstrapPath: notExec}, "not an executable", false},
		{"directory", rie.Options{BootstrapPath: dir}, "not an executable", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rie.Start(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.errHas)
			}
		})
	}
	t.Run("emulator missing from PATH", func(t *testing.T) {
		t.Setenv("PATH", dir)
		boot := filepath.Join(dir, "exe")
		if err := os.WriteFile(boot, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := rie.Start(context.Background(), rie.Options{BootstrapPath: boot})
		if !errors.Is(err, rie.ErrNotFound) || !strings.Contains(err.Error(), "run make tools") {
			t.Fatalf("err = %v, want ErrNotFound saying run make tools", err)
		}
	})
}

// BenchmarkColdStart measures process start to first response: what a
// sandbox deploy or a pool scale-up costs.
func BenchmarkColdStart(b *testing.B) {
	boot := hostBootstrap(b)
	riePath := testbin.RIE(b)
	payload := event(b, "GET", "/hello", "")
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: riePath})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Invoke(ctx, payload); err != nil {
			p.Stop()
			b.Fatal(err)
		}
		total += time.Since(start)
		p.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op-first-response")
}

// BenchmarkColdStartS3 is BenchmarkColdStart for an environment with a
// data stack: the first response includes reading the greeting from S3
// (gofakes3 on loopback, so about the SDK's own cost).
func BenchmarkColdStartS3(b *testing.B) {
	boot := hostBootstrap(b)
	riePath := testbin.RIE(b)
	const bucket = "preview-0a1b2c3d-20260101000000000000000001"
	endpoint := testbin.S3(b, bucket)
	putObject(b, endpoint, bucket, "greeting.txt", "Hello from the bucket")
	env := []string{"PREVIEW_GREETING_BUCKET=" + bucket, "PREVIEW_GREETING_KEY=greeting.txt", "AWS_ENDPOINT_URL_S3=" + endpoint,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + testbin.S3KeyID, "AWS_SECRET_ACCESS_KEY=sandbox", "AWS_SESSION_TOKEN=sandbox"}
	payload := event(b, "GET", "/hello", "")
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: riePath, Env: env})
		if err != nil {
			b.Fatal(err)
		}
		out, err := p.Invoke(ctx, payload)
		if err != nil || !strings.Contains(string(out), "Hello from the bucket") {
			p.Stop()
			b.Fatalf("first response %s, %v; want the bucket's greeting", out, err)
		}
		total += time.Since(start)
		p.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op-first-response")
}

// BenchmarkWarmInvoke measures one invoke on a running emulator.
func BenchmarkWarmInvoke(b *testing.B) {
	boot := hostBootstrap(b)
	ctx := context.Background()
	p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: testbin.RIE(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	payload := event(b, "GET", "/hello", "")
	if _, err := p.Invoke(ctx, payload); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHelperProcess is not a test: TestNothingOutlivesParent runs the test
// binary as a parent that starts an emulator and is then killed.
func TestHelperProcess(t *testing.T) {
	boot := os.Getenv("RIE_TEST_HELPER_BOOTSTRAP")
	if boot == "" {
		return
	}
	ctx := context.Background()
	p, err := rie.Start(ctx, rie.Options{BootstrapPath: boot, RIEPath: os.Getenv("RIE_TEST_HELPER_RIE")})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	if _, err := p.Invoke(ctx, event(t, "GET", "/", "")); err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("pid " + strconv.Itoa(p.Pid()) + "\n")
	select {} // wait to be killed
}

func TestNothingOutlivesParent(t *testing.T) {
	boot := hostBootstrap(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RIE_TEST_HELPER_BOOTSTRAP="+boot, "RIE_TEST_HELPER_RIE="+testbin.RIE(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 64)
	n, _ := out.Read(line)
	fields := strings.Fields(string(line[:n]))
	if len(fields) != 2 || fields[0] != "pid" {
		t.Fatalf("helper said %q", line[:n])
	}
	emu, _ := strconv.Atoi(fields[1])
	boots := bootstrapsOf(t, emu)
	if len(boots) != 1 {
		t.Fatalf("emulator %d runs bootstraps %v, want one", emu, boots)
	}

	// The parent dies without a chance to call Stop.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range []int{emu, boots[0]} {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d outlived its parent", pid)
		}
	}
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
