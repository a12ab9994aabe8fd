// Package sandbox hosts the local stand-ins for AWS (S3, Lambda, API
// Gateway) behind one loopback HTTP listener, with state in SQLite, so a PR
// environment runs on one machine with no account and no network.
//
// One listener serves everything: a request whose Host is
// <id>.<service>.localhost[:port] goes to the API Gateway stand-in; every
// other request goes to a mux where this package mounts the S3 stand-in
// (/s3/) and the JSON API (/api/), and where the control plane mounts its own
// handlers with Handle.
package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/gateway"
	"preview-environments/previewctl/pkg/sandbox/lambda"
	"preview-environments/previewctl/pkg/sandbox/s3store"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/service/rie"
)

// Defaults.
const (
	DefaultAddr   = "127.0.0.1:8080"
	DefaultBucket = "preview-artifacts"
	// S3Prefix is where the S3 stand-in is mounted: its endpoint is
	// http://<addr>/s3 (path style: /s3/<bucket>/<key>).
	S3Prefix = "/s3"
)

// Config configures a Sandbox.
type Config struct {
	// Addr is the listen address; it must be a loopback address. Port 0
	// picks a free port (tests).
	Addr string
	// DataDir holds state.db, the S3 store and unpacked functions.
	DataDir string
	// Bucket is the artifact bucket, created on start.
	Bucket string
	// RIEPath is the aws-lambda-rie binary; empty looks it up in PATH.
	RIEPath string
	// IdleTimeout stops an emulator idle this long (default 5m).
	IdleTimeout time.Duration
	// Progress receives start-up progress lines; nil discards them.
	// Verbose adds a line per step (for a terminal).
	Progress io.Writer
	Verbose  bool
	// Log receives operational logs (gateway errors, deploys); nil discards.
	Log *slog.Logger
	// FunctionLog receives the functions' and emulators' output; nil means
	// DataDir/functions.log.
	FunctionLog io.Writer
}

// Sandbox is a running data plane.
type Sandbox struct {
	cfg     Config
	ln      net.Listener
	db      *sql.DB
	s3      *s3store.Store
	lambdas *lambda.Manager
	gw      *gateway.Gateway
	vers    *bucketVersioning // S3 versioning per bucket
	mux     *http.ServeMux
	aws     *awsPlane // the Lambda and API Gateway control plane (awsapi.go)
	log     *slog.Logger
	fnLog   io.Closer

	closeOnce sync.Once
	closeErr  error
}

// CheckLoopback refuses an address that is not on loopback; flag names the
// option in the error.
func CheckLoopback(addr, flag string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port: %w", flag, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q: the sandbox listens on loopback only (127.0.0.1, ::1 or localhost)", flag, addr)
	}
	return nil
}

// Open prepares everything and binds the listener; Serve then answers.
func Open(ctx context.Context, cfg Config) (_ *Sandbox, err error) {
	begin := time.Now()
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if err := CheckLoopback(cfg.Addr, "--addr"); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("--data: data directory is empty")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	step := func(what string, t time.Time) {
		if cfg.Verbose {
			fmt.Fprintf(cfg.Progress, "sandbox: %-44s %6.1f ms\n", what, float64(time.Since(t).Microseconds())/1000)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.DataDir, err)
	}
	s := &Sandbox{cfg: cfg, mux: http.NewServeMux(), log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	t := time.Now()
	if s.db, err = state.Open(ctx, filepath.Join(cfg.DataDir, "state.db")); err != nil {
		return nil, err
	}
	if err := state.Migrate(ctx, s.db, "sandbox", migrations); err != nil {
		return nil, err
	}
	step("state "+filepath.Join(cfg.DataDir, "state.db"), t)

	t = time.Now()
	if s.s3, err = s3store.Open(filepath.Join(cfg.DataDir, "s3.bolt"), cfg.Bucket); err != nil {
		return nil, err
	}
	if s.vers, err = openBucketVersioning(ctx, s.db, cfg.Bucket); err != nil {
		return nil, err
	}
	step("S3 stand-in, bucket "+cfg.Bucket, t)

	fnLog := cfg.FunctionLog
	if fnLog == nil {
		f, err := os.OpenFile(filepath.Join(cfg.DataDir, "functions.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("function log: %w", err)
		}
		s.fnLog, fnLog = f, f
	}
	t = time.Now()
	var warnings []error
	s.lambdas, warnings, err = lambda.New(ctx, lambda.Config{
		DB:          s.db,
		Dir:         filepath.Join(cfg.DataDir, "functions"),
		Source:      artifactSource{s.s3, cfg.Bucket},
		Launch:      rieLauncher(cfg.RIEPath, fnLog),
		IdleTimeout: cfg.IdleTimeout,
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintf(cfg.Progress, "sandbox: warning: %v\n", w)
		log.Warn("restore", "err", w)
	}
	step(fmt.Sprintf("Lambda stand-in, %d functions restored", len(s.lambdas.List())), t)

	t = time.Now()
	s.gw = gateway.New(s.lambdas, log)
	n, err := s.restoreEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("API Gateway stand-in, %d environments restored", n), t)

	t = time.Now()
	managed, err := s.openAWS(ctx)
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("AWS control plane, %d environments restored", managed), t)
	n += managed

	s.mux.Handle(S3Prefix+"/", http.StripPrefix(S3Prefix, s3Versioned(s.s3.Handler(), s.vers, log)))
	s.mountAPI()

	t = time.Now()
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	step("listener "+s.ln.Addr().String(), t)
	fmt.Fprintf(cfg.Progress, "sandbox: ready on %s (S3 endpoint %s, bucket %s, %d environments) in %d ms\n",
		s.URL(), s.S3Endpoint(), cfg.Bucket, n, time.Since(begin).Milliseconds())
	return s, nil
}

// ServeHTTP sends gateway hosts to the gateway and the rest to the mux.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if gateway.IsGatewayHost(r.Host) || s.gw.HasSite(r.Host) {
		s.gw.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers requests until ctx is cancelled, then shuts down: the
// listener first, then requests under way (bounded), then every emulator.
func (s *Sandbox) Serve(ctx context.Context) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := s.close(sctx); err != nil {
		return err
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", s.cfg.Addr, serveErr)
	}
	return nil
}

// Close releases everything without serving (Serve does this itself).
func (s *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.close(ctx)
}

func (s *Sandbox) close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.ln != nil {
			s.ln.Close()
		}
		if s.lambdas != nil {
			errs = append(errs, s.lambdas.Close(ctx))
		}
		if s.s3 != nil {
			errs = append(errs, s.s3.Close())
		}
		if s.db != nil {
			errs = append(errs, s.db.Close())
		}
		if s.fnLog != nil {
			s.fnLog.Close()
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Handle mounts a control-plane handler on the non-gateway mux (e.g. the
// GitHub and Spacelift stand-ins, the dashboard at "/").
func (s *Sandbox) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// DB is the state database; components add tables with state.Migrate.
func (s *Sandbox) DB() *sql.DB { return s.db }

// Lambdas is the Lambda stand-in.
func (s *Sandbox) Lambdas() *lambda.Manager { return s.lambdas }

// S3 is the S3 stand-in's store.
func (s *Sandbox) S3() *s3store.Store { return s.s3 }

// Addr is the bound listen address (host:port).
func (s *Sandbox) Addr() string { return s.ln.Addr().String() }

// URL is the sandbox's base URL.
func (s *Sandbox) URL() string { return "http://" + s.Addr() }

// S3Endpoint is the S3 stand-in's endpoint for aws-sdk-go-v2 (path style).
func (s *Sandbox) S3Endpoint() string { return s.URL() + S3Prefix }

// Bucket is the artifact bucket.
func (s *Sandbox) Bucket() string { return s.cfg.Bucket }

// EnvironmentURL is the gateway URL of an environment.
func EnvironmentURL(addr, id, service string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "http://" + id + "." + service + ".localhost:" + port + "/"
}

type artifactSource struct {
	s3     *s3store.Store
	bucket string
}

func (a artifactSource) Fetch(ctx context.Context, bucket, key string) ([]byte, error) {
	if bucket == "" {
		bucket = a.bucket
	}
	return a.s3.Get(ctx, bucket, key, lambda.MaxZipBytes)
}

// rieLauncher starts AWS's Runtime Interface Emulator through service/rie.
func rieLauncher(riePath string, out io.Writer) lambda.Launcher {
	// A file goes to the emulators as their own stdout/stderr descriptor
	// (O_APPEND writes do not interleave), so no goroutine in this process
	// copies every invocation's log lines; any other writer is shared under
	// a lock.
	if _, isFile := out.(*os.File); !isFile {
		out = &lockedWriter{w: out}
	}
	return func(ctx context.Context, bootstrap string, env []string) (lambda.Process, error) {
		p, err := rie.Start(ctx, rie.Options{BootstrapPath: bootstrap, Env: env, RIEPath: riePath, Stdout: out, Stderr: out})
		if err != nil {
			if errors.Is(err, rie.ErrNotFound) {
				return nil, fmt.Errorf("%w (aws-lambda-rie is built into bin/)", err)
			}
			return nil, err
		}
		return p, nil
	}
}

// lockedWriter lets many emulators share one log file without interleaving
// within a write.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
