package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/s3store"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/service/rie"
)

func rieBin(t *testing.T) string {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p, _ := filepath.Abs("../../../../bin/aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		t.Fatal("aws-lambda-rie not found in PATH or bin/: run make tools")
	}
	return p
}

type entry struct {
	name string
	mode os.FileMode
	body string
}

func zipEntries(t *testing.T, es ...entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpack(t *testing.T) {
	boot := entry{"bootstrap", 0o755, "#!/bin/sh\n"}
	for _, tc := range []struct {
		name  string
		data  []byte
		err   string
		files []string
	}{
		{"bootstrap and a folder", zipEntries(t, boot, entry{"conf/", os.ModeDir | 0o755, ""}, entry{"conf/a.json", 0o644, "{}"}), "", []string{"bootstrap", "conf/a.json"}},
		{"bootstrap without exec bit", zipEntries(t, entry{"bootstrap", 0o644, "x"}), "", []string{"bootstrap"}},
		{"no bootstrap", zipEntries(t, entry{"main", 0o755, "x"}), "no bootstrap", nil},
		{"bootstrap is a folder", zipEntries(t, entry{"bootstrap/", os.ModeDir | 0o755, ""}), "no bootstrap", nil},
		{"bootstrap not at root", zipEntries(t, entry{"bin/bootstrap", 0o755, "x"}), "no bootstrap", nil},
		{"corrupt", []byte("PK\x03\x04garbage"), "not a valid zip", nil},
		{"empty", nil, "not a valid zip", nil},
		{"dot-dot", zipEntries(t, boot, entry{"../evil", 0o644, "x"}), "unsafe path", nil},
		{"nested dot-dot", zipEntries(t, boot, entry{"a/../../evil", 0o644, "x"}), "unsafe path", nil},
		{"absolute", zipEntries(t, boot, entry{"/etc/evil", 0o644, "x"}), "unsafe path", nil},
		{"backslash", zipEntries(t, boot, entry{`..\evil`, 0o644, "x"}), "unsafe path", nil},
		{"symlink", zipEntries(t, boot, entry{"link", os.ModeSymlink | 0o777, "/etc/passwd"}), "not a regular file", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Unpack(tc.data, dir, "k.zip")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "k.zip") {
					t.Fatalf("Unpack = %v; want an error naming k.zip containing %q", err, tc.err)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("refused zip left %d entries behind", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if fi, _ := os.Stat(filepath.Join(dir, "bootstrap")); fi.Mode()&0o111 == 0 {
				t.Errorf("bootstrap mode %v is not executable", fi.Mode())
			}
		})
	}
}

var (
	fnOnce sync.Once
	fnZip  []byte
	fnErr  error
)

// testFunction builds testdata/fn into a zip once.
func testFunction(t *testing.T) []byte {
	fnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fn")
		if err != nil {
			fnErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), "./testdata/fn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fnErr = errors.New(string(out))
			return
		}
		exe, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
		if err != nil {
			fnErr = err
			return
		}
		fnZip = zipEntries(t, entry{"bootstrap", 0o755, string(exe)})
	})
	if fnErr != nil {
		t.Fatalf("build testdata/fn: %v", fnErr)
	}
	return fnZip
}

type s3Source struct{ s *s3store.Store }

func (s s3Source) Fetch(ctx context.Context, bucket, key string) ([]byte, error) {
	if bucket == "" {
		bucket = "b"
	}
	return s.s.Get(ctx, bucket, key, MaxZipBytes)
}

func newManager(t *testing.T, dir string, idle ...time.Duration) *Manager {
	ctx := context.Background()
	db, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := s3store.Open(filepath.Join(dir, "s3.bolt"), "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Put("b", "fn.zip", testFunction(t)); err != nil {
		t.Fatal(err)
	}
	riePath := rieBin(t)
	cfg := Config{DB: db, Dir: filepath.Join(dir, "functions"), Source: s3Source{store},
		Launch: func(ctx context.Context, boot string, env []string) (Process, error) {
			return rie.Start(ctx, rie.Options{BootstrapPath: boot, Env: env, RIEPath: riePath})
		}}
	if len(idle) > 0 {
		cfg.IdleTimeout = idle[0]
	}
	m, warnings, err := New(ctx, cfg)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("New: %v %v", err, warnings)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func event(path string) []byte { return []byte(`{"path":"` + path + `","httpMethod":"GET"}`) }

// TestInvokeOutcomes: a function error, a timeout and a crash each come back
// as their own error, and the pool keeps serving afterwards.
func TestInvokeOutcomes(t *testing.T) {
	m := newManager(t, t.TempDir())
	ctx := context.Background()
	if _, err := m.Deploy(ctx, Spec{Name: "f1", Version: "v1", ArtifactKey: "fn.zip", Timeout: time.Second, PoolSize: 2, Env: map[string]string{"FN_MESSAGE": "hi"}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		body string
		is   func(error) bool
	}{
		{"/ok", `"body":"hi /ok"`, nil},
		{"/err", "", func(err error) bool { var fe *FunctionError; return errors.As(err, &fe) && fe.Message == "boom" }},
		{"/sleep", "", func(err error) bool { return errors.Is(err, ErrTimeout) }},
		{"/panic", "", func(err error) bool {
			var fe *FunctionError
			return err != nil && !errors.As(err, &fe) && !errors.Is(err, ErrTimeout)
		}},
		{"/after", `"body":"hi /after"`, nil},
	} {
		out, err := m.Invoke(ctx, "f1", event(tc.path))
		if tc.is == nil {
			if err != nil || !strings.Contains(string(out), tc.body) {
				t.Errorf("%s: %s %v; want %s", tc.path, out, err, tc.body)
			}
			continue
		}
		if !tc.is(err) {
			t.Errorf("%s: error %v is not the expected kind", tc.path, err)
		}
	}
	if _, err := m.Invoke(ctx, "nope", event("/")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown function: %v; want ErrNotFound", err)
	}
}

// TestPoolQueues: a pool of one serialises ten concurrent invokes; all
// succeed and only one emulator ever runs.
func TestPoolQueues(t *testing.T) {
	m := newManager(t, t.TempDir())
	ctx := context.Background()
	if _, err := m.Deploy(ctx, Spec{Name: "q", Version: "v1", ArtifactKey: "fn.zip", PoolSize: 1}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Invoke(ctx, "q", event("/x")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	m.cfg.DB.QueryRow(`SELECT COUNT(*) FROM lambda_processes`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d emulators recorded for a pool of 1", n)
	}
}

// TestReapOrphans: a recorded emulator whose pid and start time match is
// killed with its group on the next start; one whose start time differs
// (a recycled pid) is left alone.
func TestReapOrphans(t *testing.T) {
	dir := t.TempDir()
	m := newManager(t, dir)
	ctx := context.Background()
	start := func() *rie.Process {
		p, err := rie.Start(ctx, rie.Options{BootstrapPath: "/bin/true", RIEPath: rieBin(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		return p
	}
	orphan, stranger := start(), start()
	ticks, err := startTicks(orphan.Pid())
	if err != nil {
		t.Fatal(err)
	}
	m.cfg.DB.Exec(`INSERT INTO lambda_processes (pid, start_ticks, function) VALUES (?, ?, 'x'), (?, ?, 'y')`,
		orphan.Pid(), ticks, stranger.Pid(), ticks-1)
	n, err := m.ReapOrphans(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ReapOrphans = %d, %v; want 1", n, err)
	}
	select {
	case <-orphan.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("recorded emulator still running after the reap")
	}
	select {
	case <-stranger.Done():
		t.Fatal("a process whose start time differs was killed")
	case <-time.After(100 * time.Millisecond):
	}
	var left int
	m.cfg.DB.QueryRow(`SELECT COUNT(*) FROM lambda_processes`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d records left after the reap", left)
	}
}

// TestIdleStop: an emulator idle past IdleTimeout is stopped and forgotten;
// the next request starts a fresh one.
func TestIdleStop(t *testing.T) {
	m := newManager(t, t.TempDir(), 150*time.Millisecond)
	ctx := context.Background()
	fn, err := m.Deploy(ctx, Spec{Name: "idle", Version: "v1", ArtifactKey: "fn.zip", PoolSize: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Invoke(ctx, "idle", event("/a")); err != nil {
		t.Fatal(err)
	}
	if fn.Warm() != 1 {
		t.Fatalf("warm = %d after a request, want 1", fn.Warm())
	}
	// The reaper stops the process, then forgets its record: wait for both.
	var n int
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.cfg.DB.QueryRow(`SELECT COUNT(*) FROM lambda_processes`).Scan(&n)
		if fn.Warm() == 0 && n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fn.Warm() != 0 || n != 0 {
		t.Fatalf("after idling: warm = %d, recorded = %d; want 0, 0", fn.Warm(), n)
	}
	if out, err := m.Invoke(ctx, "idle", event("/b")); err != nil || !strings.Contains(string(out), "/b") {
		t.Fatalf("after idle stop: %s %v", out, err)
	}
}
