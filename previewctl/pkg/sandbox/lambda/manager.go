// Package lambda is the sandbox's Lambda stand-in: functions are
// (name, version) pairs unpacked from artifact zips in the S3 stand-in, each
// served by a bounded pool of AWS Runtime Interface Emulator processes
// running the real bootstrap. Deploying a new version swaps it in atomically
// and drains the old pool; the emulators are recorded in SQLite so a sandbox
// killed with -9 reaps them on its next start.
package lambda

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"preview-environments/previewctl/pkg/sandbox/state"
)

// Defaults and bounds, Lambda's where Lambda has one.
const (
	DefaultTimeout  = 3 * time.Second // Lambda's default
	MaxTimeout      = 900 * time.Second
	DefaultPoolSize = 4
	MaxPoolSize     = 64
)

// ErrNotFound is returned (wrapped) for a function that is not deployed.
var ErrNotFound = errors.New("function not found")

// ErrArtifact is returned (wrapped) when a deploy's artifact is missing or
// unusable (not a zip, no bootstrap, unsafe paths, too big).
var ErrArtifact = errors.New("bad artifact")

// Spec is one function version.
type Spec struct {
	// Name is the function (the sandbox uses the environment ID).
	Name string `json:"name"`
	// Version labels the code (a commit sha or "latest").
	Version string `json:"version"`
	// ArtifactKey is the zip's key in ArtifactBucket.
	ArtifactKey string `json:"artifact_key"`
	// ArtifactBucket holds the zip; "" is the sandbox's artifact bucket.
	// Each service has a bucket of its own (docs/ADDING-A-SERVICE.md).
	ArtifactBucket string `json:"artifact_bucket,omitempty"`
	// Env is the function's environment variables.
	Env map[string]string `json:"env,omitempty"`
	// Timeout is Lambda's function timeout (default 3s, at most 900s).
	Timeout time.Duration `json:"timeout"`
	// PoolSize bounds concurrent emulators (Lambda's reserved concurrency).
	PoolSize int `json:"pool_size"`
	// Handler and MemoryMB reach the runtime as Lambda passes them (_HANDLER,
	// AWS_LAMBDA_FUNCTION_MEMORY_SIZE); the emulator enforces no memory cap.
	// Empty/zero passes neither (the direct data-plane API sets neither).
	Handler  string `json:"handler,omitempty"`
	MemoryMB int    `json:"memory_mb,omitempty"`
	// Region is the function's region, which its runtime gets as
	// AWS_REGION and AWS_DEFAULT_REGION (empty: DefaultRegion).
	Region string `json:"region,omitempty"`
}

// DefaultRegion is a function's region when its Spec names none.
const DefaultRegion = "us-east-1"

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	envKeyRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	keyRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,1000}$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Lambda reserves these names: its runtime sets them (the role's
// credentials, the region, the runtime API...) and CreateFunction refuses a
// function that sets one ("Defined runtime environment variables" in the
// Lambda developer guide). AWS_LAMBDA_FUNCTION_TIMEOUT is the emulator's.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true, "AWS_EXECUTION_ENV": true,
	"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true, "AWS_LAMBDA_FUNCTION_VERSION": true,
	"AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true, "AWS_LAMBDA_FUNCTION_TIMEOUT": true,
}

// ReservedEnv reports whether Lambda reserves the environment variable name.
func ReservedEnv(name string) bool { return reservedEnv[name] }

// Normalize fills defaults and validates s; errors name the field.
func (s *Spec) Normalize() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("function name %q: want 1-63 lower-case letters, digits or '-'", s.Name)
	}
	if !versionRE.MatchString(s.Version) {
		return fmt.Errorf("version %q: want 1-64 letters, digits, '.', '_' or '-'", s.Version)
	}
	if !keyRE.MatchString(s.ArtifactKey) || strings.Contains(s.ArtifactKey, "..") {
		return fmt.Errorf("artifact key %q: want an S3 key of letters, digits, '.', '_', '-', '/'", s.ArtifactKey)
	}
	if s.ArtifactBucket != "" && (!bucketRE.MatchString(s.ArtifactBucket) || strings.Contains(s.ArtifactBucket, "..")) {
		return fmt.Errorf("artifact bucket %q: want an S3 bucket name", s.ArtifactBucket)
	}
	var reserved []string
	for k, v := range s.Env {
		if reservedEnv[k] {
			reserved = append(reserved, k)
			continue
		}
		if !envKeyRE.MatchString(k) {
			return fmt.Errorf("environment variable %q: not a valid name (a letter, then letters, digits or '_')", k)
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("environment variable %q: value contains a NUL byte", k)
		}
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		// Lambda's own words.
		return fmt.Errorf("Lambda was unable to configure your environment variables because the environment variables you have provided "+
			"contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ","))
	}
	if s.Region != "" && !regionRE.MatchString(s.Region) {
		return fmt.Errorf("region %q: not a region name", s.Region)
	}
	switch {
	case s.Timeout == 0:
		s.Timeout = DefaultTimeout
	case s.Timeout < 0 || s.Timeout > MaxTimeout:
		return fmt.Errorf("timeout %s: want between 1s and %s", s.Timeout, MaxTimeout)
	}
	switch {
	case s.PoolSize == 0:
		s.PoolSize = DefaultPoolSize
	case s.PoolSize < 0 || s.PoolSize > MaxPoolSize:
		return fmt.Errorf("pool size %d: want between 1 and %d", s.PoolSize, MaxPoolSize)
	}
	return nil
}

// Source fetches artifact zips from the S3 stand-in; bucket "" is the
// sandbox's artifact bucket.
type Source interface {
	Fetch(ctx context.Context, bucket, key string) ([]byte, error)
}

// Config configures a Manager.
type Config struct {
	DB          *sql.DB
	Dir         string // where versions are unpacked
	Source      Source
	Launch      Launcher
	IdleTimeout time.Duration // stop a process idle this long (default 5m)
	Log         *slog.Logger
}

// Manager owns every function and its emulators.
type Manager struct {
	cfg        Config
	log        *slog.Logger
	mu         sync.RWMutex
	fns        map[string]*Function
	deployMu   sync.Mutex
	stopReaper context.CancelFunc
	drains     sync.WaitGroup
	runtimeEnv atomic.Pointer[func() map[string]string]
}

// SetRuntimeEnv makes env's variables part of every function's runtime
// environment from the next emulator start on, as Lambda gives every
// function the variables of its platform (the sandbox's S3 endpoint and
// role credentials). They win over a function's own variables of the same
// name; env is called at each start (the sandbox's address may be known
// only after New).
func (m *Manager) SetRuntimeEnv(env func() map[string]string) { m.runtimeEnv.Store(&env) }

var migrations = []string{
	`CREATE TABLE lambda_functions (
		name TEXT PRIMARY KEY,
		spec TEXT NOT NULL,
		dir  TEXT NOT NULL)`,
	`CREATE TABLE lambda_processes (
		pid         INTEGER PRIMARY KEY,
		start_ticks INTEGER NOT NULL,
		function    TEXT NOT NULL)`,
}

// New migrates the tables, kills emulators left by a previous sandbox that
// died without cleaning up, and loads the deployed functions (processes start
// on first request).
func New(ctx context.Context, cfg Config) (*Manager, []error, error) {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := state.Migrate(ctx, cfg.DB, "lambda", migrations); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("lambda dir: %w", err)
	}
	m := &Manager{cfg: cfg, log: cfg.Log, fns: map[string]*Function{}}
	if _, err := m.ReapOrphans(ctx); err != nil {
		return nil, nil, err
	}
	warnings, err := m.restore(ctx)
	if err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	m.stopReaper = cancel
	go m.idleReaper(rctx)
	return m, warnings, nil
}

func (m *Manager) restore(ctx context.Context) ([]error, error) {
	rows, err := m.cfg.DB.QueryContext(ctx, `SELECT name, spec, dir FROM lambda_functions`)
	if err != nil {
		return nil, fmt.Errorf("load functions: %w", err)
	}
	type row struct{ name, spec, dir string }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.name, &r.spec, &r.dir); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load functions: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load functions: %w", err)
	}
	var warnings []error
	for _, r := range all {
		var spec Spec
		if err := json.Unmarshal([]byte(r.spec), &spec); err != nil {
			warnings = append(warnings, fmt.Errorf("function %s: stored spec: %w", r.name, err))
			continue
		}
		dir := r.dir
		if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
			// The unpacked files are a cache of the artifact: fetch again.
			d, err := m.unpack(ctx, spec)
			if err != nil {
				warnings = append(warnings, fmt.Errorf("function %s: restore: %w", r.name, err))
				continue
			}
			dir = d
			if _, err := m.cfg.DB.ExecContext(ctx, `UPDATE lambda_functions SET dir = ? WHERE name = ?`, dir, r.name); err != nil {
				return warnings, fmt.Errorf("function %s: %w", r.name, err)
			}
		}
		m.fns[spec.Name] = newFunction(m, spec, dir)
	}
	m.removeStaleDirs()
	return warnings, nil
}

// removeStaleDirs deletes unpacked versions no function points at (left by a
// crash between unpack and commit, or before a drain finished).
func (m *Manager) removeStaleDirs() {
	live := map[string]bool{}
	for _, f := range m.fns {
		live[f.dir] = true
	}
	tops, _ := os.ReadDir(m.cfg.Dir)
	for _, t := range tops {
		subs, _ := os.ReadDir(filepath.Join(m.cfg.Dir, t.Name()))
		for _, s := range subs {
			if d := filepath.Join(m.cfg.Dir, t.Name(), s.Name()); !live[d] {
				os.RemoveAll(d)
			}
		}
	}
}

// Deploy fetches, validates and unpacks spec's artifact, records it (and
// whatever alsoInTx writes) in one transaction, then swaps it in as the
// function's current version and drains the previous one in the background.
// On any error nothing has changed and the previous version keeps serving.
func (m *Manager) Deploy(ctx context.Context, spec Spec, alsoInTx func(*sql.Tx) error) (*Function, error) {
	if err := spec.Normalize(); err != nil {
		return nil, err
	}
	dir, err := m.unpack(ctx, spec)
	if err != nil {
		return nil, err
	}
	js, _ := json.Marshal(spec)
	// Commit order and swap order must agree when two deploys race.
	m.deployMu.Lock()
	defer m.deployMu.Unlock()
	err = m.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lambda_functions (name, spec, dir) VALUES (?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, dir = excluded.dir`, spec.Name, string(js), dir); err != nil {
			return err
		}
		if alsoInTx != nil {
			return alsoInTx(tx)
		}
		return nil
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("deploy function %s: record: %w", spec.Name, err)
	}
	fn := newFunction(m, spec, dir)
	m.mu.Lock()
	old := m.fns[spec.Name]
	m.fns[spec.Name] = fn
	m.mu.Unlock()
	if old != nil {
		m.drainLater(old)
	}
	m.log.Info("function deployed", "function", spec.Name, "version", spec.Version, "artifact", spec.ArtifactKey)
	return fn, nil
}

// Remove deletes the function (and whatever alsoInTx deletes, atomically),
// then drains and stops its emulators before returning.
func (m *Manager) Remove(ctx context.Context, name string, alsoInTx func(*sql.Tx) error) error {
	m.mu.RLock()
	_, ok := m.fns[name]
	m.mu.RUnlock()
	if !ok {
		return fmt.Errorf("function %q: %w", name, ErrNotFound)
	}
	m.deployMu.Lock()
	defer m.deployMu.Unlock()
	err := m.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lambda_functions WHERE name = ?`, name); err != nil {
			return err
		}
		if alsoInTx != nil {
			return alsoInTx(tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove function %s: %w", name, err)
	}
	m.mu.Lock()
	fn := m.fns[name]
	delete(m.fns, name)
	m.mu.Unlock()
	if fn != nil {
		fn.drain(true)
		os.Remove(filepath.Dir(fn.dir))
	}
	return nil
}

// Get returns the current version of a function.
func (m *Manager) Get(name string) (*Function, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.fns[name]
	return f, ok
}

// List returns the current versions, sorted by name.
func (m *Manager) List() []*Function {
	m.mu.RLock()
	out := make([]*Function, 0, len(m.fns))
	for _, f := range m.fns {
		out = append(out, f)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out
}

// Invoke runs payload on the current version of name. A request that raced
// with a deploy is retried on the new version, so a swap fails no request.
func (m *Manager) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	for {
		f, ok := m.Get(name)
		if !ok {
			return nil, fmt.Errorf("function %q: %w", name, ErrNotFound)
		}
		out, err := f.Invoke(ctx, payload)
		if err == errDraining {
			continue
		}
		return out, err
	}
}

// Close stops every emulator (waiting for invocations under way, bounded by
// ctx) and the idle reaper. Deployed functions stay in the state.
func (m *Manager) Close(ctx context.Context) error {
	m.stopReaper()
	m.mu.Lock()
	fns := m.fns
	m.fns = map[string]*Function{}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, f := range fns {
			wg.Add(1)
			go func() { defer wg.Done(); f.drain(false) }()
		}
		wg.Wait()
		m.drains.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// Invocations still running: kill what is left rather than leak it.
		n, _ := m.ReapOrphans(context.Background())
		return fmt.Errorf("lambda: stopped %d emulators with invocations under way: %w", n, ctx.Err())
	}
}

func (m *Manager) drainLater(f *Function) {
	m.drains.Add(1)
	go func() {
		defer m.drains.Done()
		f.drain(true)
	}()
}

func (m *Manager) idleReaper(ctx context.Context) {
	t := time.NewTicker(max(m.cfg.IdleTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, f := range m.List() {
				f.reapIdle(m.cfg.IdleTimeout)
			}
		}
	}
}

// unpack fetches the artifact and unpacks it into a fresh directory; on
// error nothing is left behind.
func (m *Manager) unpack(ctx context.Context, spec Spec) (string, error) {
	data, err := m.cfg.Source.Fetch(ctx, spec.ArtifactBucket, spec.ArtifactKey)
	if err != nil {
		return "", fmt.Errorf("deploy function %s version %s: %w: %w", spec.Name, spec.Version, ErrArtifact, err)
	}
	parent := filepath.Join(m.cfg.Dir, spec.Name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("deploy function %s: %w", spec.Name, err)
	}
	dir, err := os.MkdirTemp(parent, spec.Version+"-")
	if err != nil {
		return "", fmt.Errorf("deploy function %s: %w", spec.Name, err)
	}
	if err := Unpack(data, dir, spec.ArtifactKey); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("deploy function %s version %s: %w: %w", spec.Name, spec.Version, ErrArtifact, err)
	}
	return dir, nil
}

func (m *Manager) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := m.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// launch starts an emulator for f and records it for the orphan reaper.
func (m *Manager) launch(ctx context.Context, f *Function) (Process, error) {
	start := time.Now()
	p, err := m.cfg.Launch(ctx, filepath.Join(f.dir, "bootstrap"), m.environ(f))
	if err != nil {
		return nil, fmt.Errorf("function %s: start emulator: %w", f.Spec.Name, err)
	}
	if err := m.record(ctx, f, p); err != nil {
		return nil, err
	}
	m.log.Debug("emulator started", "function", f.Spec.Name, "version", f.Spec.Version, "pid", p.Pid(), "took", time.Since(start))
	return p, nil
}

// environ is f's runtime environment: Lambda's own variables, the
// function's, then the platform's (SetRuntimeEnv), each name once; neither
// the function's nor the platform's variables replace Lambda's.
func (m *Manager) environ(f *Function) []string {
	region := f.Spec.Region
	if region == "" {
		region = DefaultRegion
	}
	env := []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + f.Spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + f.Spec.Version,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int((f.Spec.Timeout+time.Second-1)/time.Second)),
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"LAMBDA_TASK_ROOT=" + f.dir,
	}
	if f.Spec.Handler != "" {
		env = append(env, "_HANDLER="+f.Spec.Handler)
	}
	if f.Spec.MemoryMB > 0 {
		env = append(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.Spec.MemoryMB))
	}
	var platform map[string]string
	if fn := m.runtimeEnv.Load(); fn != nil {
		platform = (*fn)()
	}
	for _, k := range sortedKeys(f.Spec.Env) {
		if reservedEnv[k] {
			continue // Normalize refuses them; a spec stored before it did may hold one
		}
		if _, ok := platform[k]; ok {
			m.log.Warn("function variable replaced by the sandbox's", "function", f.Spec.Name, "variable", k)
			continue
		}
		env = append(env, k+"="+f.Spec.Env[k])
	}
	for _, k := range sortedKeys(platform) {
		if !lambdaSet[k] {
			env = append(env, k+"="+platform[k])
		}
	}
	return env
}

// lambdaSet are the names environ sets itself.
var lambdaSet = map[string]bool{"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_FUNCTION_TIMEOUT": true,
	"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "LAMBDA_TASK_ROOT": true, "_HANDLER": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// record registers a started emulator for the orphan reaper; an emulator
// it cannot record is stopped.
func (m *Manager) record(ctx context.Context, f *Function, p Process) error {
	ticks, err := startTicks(p.Pid())
	if err == nil {
		_, err = m.cfg.DB.ExecContext(context.WithoutCancel(ctx),
			`INSERT OR REPLACE INTO lambda_processes (pid, start_ticks, function) VALUES (?, ?, ?)`, p.Pid(), ticks, f.Spec.Name)
	}
	if err != nil {
		// Unrecorded, it could outlive a crash of ours: do not use it.
		p.Stop()
		return fmt.Errorf("function %s: record emulator: %w", f.Spec.Name, err)
	}
	return nil
}

func (m *Manager) stop(p Process) {
	p.Stop()
	m.forget(p)
}

func (m *Manager) forget(p Process) {
	if _, err := m.cfg.DB.Exec(`DELETE FROM lambda_processes WHERE pid = ?`, p.Pid()); err != nil {
		m.log.Warn("forget emulator", "pid", p.Pid(), "err", err)
	}
}

// ReapOrphans kills the process group of every recorded emulator that is
// still the same process (pid and start time match, so a recycled pid is
// left alone) and clears the records. It returns how many it killed.
func (m *Manager) ReapOrphans(ctx context.Context) (int, error) {
	rows, err := m.cfg.DB.QueryContext(ctx, `SELECT pid, start_ticks FROM lambda_processes`)
	if err != nil {
		return 0, fmt.Errorf("reap emulators: %w", err)
	}
	type rec struct{ pid, ticks int64 }
	var recs []rec
	for rows.Next() {
		var r rec
		if err := rows.Scan(&r.pid, &r.ticks); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reap emulators: %w", err)
		}
		recs = append(recs, r)
	}
	rows.Close()
	killed := 0
	for _, r := range recs {
		if t, err := startTicks(int(r.pid)); err == nil && t == r.ticks {
			// Emulators run in their own process group (pgid = pid): this
			// takes the bootstrap with it.
			if syscall.Kill(-int(r.pid), syscall.SIGKILL) == nil {
				killed++
			}
		}
		if _, err := m.cfg.DB.ExecContext(ctx, `DELETE FROM lambda_processes WHERE pid = ?`, r.pid); err != nil {
			return killed, fmt.Errorf("reap emulators: %w", err)
		}
	}
	if killed > 0 {
		m.log.Info("killed emulators left by a previous run", "count", killed)
	}
	return killed, nil
}

// startTicks reads a process's start time (clock ticks since boot, field 22
// of /proc/<pid>/stat); with the pid it identifies a process uniquely.
func startTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: skip past
	// its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseInt(fields[19], 10, 64)
}
