package sandbox_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/service/rie"
)

const benchPool = 4

// BenchmarkGatewayVsDirect measures, in one run, warm requests/s through the
// gateway (HTTP in, proxy event, pool, emulator, response mapped back) and
// straight to the same function's emulators (Lambda Invoke API), with
// benchPool concurrent clients each, and reports the ratio (goal >= 0.9).
func BenchmarkGatewayVsDirect(b *testing.B) {
	dir := b.TempDir()
	s := start(b, dir)
	upload(b, s.Sandbox, shaA+".zip", artifactZip(b, shaA))
	const id = "be0c0001"
	deploy(b, s.Sandbox, id, shaA, benchPool)
	fn, ok := s.Lambdas().Get(id)
	if !ok {
		b.Fatal("function not deployed")
	}

	// Direct: the same unpacked bootstrap under benchPool emulators.
	procs := make(chan *rie.Process, benchPool)
	for range benchPool {
		p, err := rie.Start(context.Background(), rie.Options{BootstrapPath: filepath.Join(fn.Dir(), "bootstrap"), RIEPath: riePath(b),
			Env: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=10"}})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Stop()
		procs <- p
	}
	event := []byte(`{"resource":"/hello","path":"/hello","httpMethod":"GET","headers":{"Host":"x"},"requestContext":{"stage":"` + id + `"}}`)
	direct := func() error {
		p := <-procs
		defer func() { procs <- p }()
		out, err := p.Invoke(context.Background(), event)
		if err == nil && !strings.Contains(string(out), shaA) {
			err = fmt.Errorf("direct: %s", out)
		}
		return err
	}
	viaGateway := func() error {
		code, body, err := get(s.Addr(), id, "/hello")
		if err == nil && (code != 200 || strings.TrimSpace(body) != want(shaA)) {
			err = fmt.Errorf("gateway: %d %q", code, body)
		}
		return err
	}
	run := func(n int, f func() error) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range benchPool {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	// Warm every emulator on both paths.
	run(4*benchPool, direct)
	run(4*benchPool, viaGateway)
	b.ResetTimer()
	var dDirect, dGateway time.Duration
	// Interleave halves so drift on a shared machine hits both paths alike.
	for _, half := range []int{b.N / 2, b.N - b.N/2} {
		dDirect += run(half, direct)
		dGateway += run(half, viaGateway)
	}
	b.StopTimer()
	direct_rps := float64(b.N) / dDirect.Seconds()
	gateway_rps := float64(b.N) / dGateway.Seconds()
	b.ReportMetric(direct_rps, "direct-req/s")
	b.ReportMetric(gateway_rps, "gateway-req/s")
	b.ReportMetric(gateway_rps/direct_rps, "gateway/direct")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkColdStart deploys a new version each iteration (fetch from the S3
// stand-in, check, unpack, swap) and measures the first request to it: the
// emulator's start, the runtime's init and the invoke.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	s := start(b, dir)
	upload(b, s.Sandbox, shaA+".zip", artifactZip(b, shaA))
	const id = "be0c0002"
	var deployTotal, firstTotal time.Duration
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		_, err := s.Deploy(context.Background(), sandbox.Deployment{ID: id, Service: service, Version: fmt.Sprintf("v%d", i), ArtifactKey: shaA + ".zip", PoolSize: 1})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		code, body, err := get(s.Addr(), id, "/")
		if err != nil || code != 200 || strings.TrimSpace(body) != want(shaA) {
			b.Fatalf("first request: %d %q %v", code, body, err)
		}
		deployTotal += t1.Sub(t0)
		firstTotal += time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(deployTotal.Microseconds())/1000/float64(b.N), "ms/op-deploy")
	b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "ms/op-first-response")
}
