package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/lambda"
	"preview-environments/service/rie"
)

const benchPool = 4

// benchRounds is how many times the benchmark alternates between the paths.
const benchRounds = 16

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchClients load both paths with the same number of concurrent clients,
// one per emulator. (Twice as many only adds CPU contention on a small
// machine: the ratio drops.)
const benchClients = benchPool

// BenchmarkGatewayVsDirect measures, in one run, warm requests/s on three
// paths to the same function, with benchClients concurrent clients each on
// benchPool emulators:
//   - direct: straight to the function's emulators (Lambda Invoke API);
//   - gateway: through the sandbox's gateway (HTTP in, proxy event, pool,
//     emulator, response mapped back);
//   - pass-through: an HTTP server like the sandbox's (net/http, same
//     process, same client) whose handler sends the same precomputed
//     event through the same pool and writes the function's answer as it
//     came: the gateway's path with none of the gateway's own work.
//
// gateway/direct is the P2 ratio (goal >= 0.9). passthrough/direct
// is what the HTTP hop alone leaves of the direct rate: no gateway on that
// listener can score above it. gateway/passthrough is what the gateway's
// own code costs.
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

	// Direct: the same unpacked bootstrap under benchPool emulators. Their
	// logs (START, the function's line, END, REPORT: ~575 bytes a request)
	// go to a log file opened as the sandbox opens functions.log, so the
	// emulators on both paths do the same work; /dev/null made the direct
	// path's emulators skip the file writes the sandbox's make.
	fnLog, err := os.OpenFile(filepath.Join(dir, "direct-functions.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer fnLog.Close()
	procs := make(chan *rie.Process, benchPool)
	for range benchPool {
		p, err := rie.Start(context.Background(), rie.Options{BootstrapPath: filepath.Join(fn.Dir(), "bootstrap"), RIEPath: riePath(b),
			Env: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=10"}, Stdout: fnLog, Stderr: fnLog})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Stop()
		procs <- p
	}
	// The direct and pass-through paths send the event the gateway would
	// build for the same request, so all three make the function do the
	// same work.
	host := id + "." + service + ".localhost"
	hdr := map[string]string{"Host": host, "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}
	mhdr := map[string][]string{"Host": {host}, "User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}}
	event, err := json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/hello", Path: "/hello", HTTPMethod: "GET", Headers: hdr, MultiValueHeaders: mhdr,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "000000000000", ResourceID: "GET /hello", Stage: id, RequestID: "0123abcd-000000000001",
			ResourcePath: "/hello", HTTPMethod: "GET", APIID: "sandbox", Path: "/" + id + "/hello", Protocol: "HTTP/1.1",
			DomainName: host, RequestTime: "28/Nov/2026:05:00:00 +0000", RequestTimeEpoch: 1795842000000,
			Identity: events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "Go-http-client/1.1"},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	passAddr := passThrough(b, s.Lambdas(), id, event)

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
	viaPassThrough := func() error {
		code, body, err := get(passAddr, id, "/hello")
		if err == nil && (code != 200 || !strings.Contains(body, want(shaA))) {
			err = fmt.Errorf("pass-through: %d %q", code, body)
		}
		return err
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	run := func(n int, f func() error) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range benchClients {
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
	paths := []struct {
		name string
		f    func() error
		wall time.Duration
		cpu  time.Duration
	}{{name: "direct", f: direct}, {name: "gateway", f: viaGateway}, {name: "passthrough", f: viaPassThrough}}
	// Warm every emulator on every path.
	for i := range paths {
		run(4*benchPool, paths[i].f)
	}
	b.ResetTimer()
	// Interleave short rounds so load from other processes on a shared
	// machine, which comes and goes within seconds, hits every path alike,
	// in a new order each round: with a rotation one path would always
	// follow the same other, and a path that runs right after another
	// loses several percent. Seeded, so runs are comparable.
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := min(benchRounds, max(1, b.N/(8*benchClients)))
	for i := range rounds {
		n := b.N/rounds + btoi(i < b.N%rounds)
		for _, k := range rng.Perm(len(paths)) {
			p := &paths[k]
			c0 := cpu()
			p.wall += run(n, p.f)
			p.cpu += cpu() - c0
		}
	}
	b.StopTimer()
	rps := map[string]float64{}
	for _, p := range paths {
		rps[p.name] = float64(b.N) / p.wall.Seconds()
		b.ReportMetric(rps[p.name], p.name+"-req/s")
		// CPU this process spends per request: the benchmark's clients on
		// every path, plus the server side on the gateway and pass-through
		// paths. The emulators' CPU (not counted here) is the same on all.
		b.ReportMetric(float64(p.cpu.Microseconds())/float64(b.N), p.name+"-cpu-µs/req")
	}
	b.ReportMetric(rps["gateway"]/rps["direct"], "gateway/direct")
	b.ReportMetric(rps["passthrough"]/rps["direct"], "passthrough/direct")
	b.ReportMetric(rps["gateway"]/rps["passthrough"], "gateway/passthrough")
	b.ReportMetric(0, "ns/op")
}

// passThrough serves, on a loopback port of its own, an HTTP server set up
// as the sandbox's is, whose every request sends event to the function id
// through the sandbox's pool and answers the function's raw response.
func passThrough(b *testing.B, inv *lambda.Manager, id string, event []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := inv.Invoke(r.Context(), id, event)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(out)
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
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
