package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmd/root"
	"preview-environments/previewctl/pkg/cmd/sandbox"
	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// run executes previewctl in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	// Generous: a command with --wait includes building the service, which
	// on a cold build cache and a loaded 2-core machine took over a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code := root.Execute(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestPRInputRefused: bad input exits 2 with one line naming the flag (or
// argument), before anything is sent: the address points at a closed port,
// so input that slipped through would exit 1 with "no sandbox answering".
func TestPRInputRefused(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(binary, []byte{0xff, 0xfe, 0x00, 0x80}, 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "ok.txt")
	if err := os.WriteFile(text, []byte("fine"), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := "127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string // in the one stderr line
	}{
		{"open without branch", []string{"pr", "open", "--set", "a=1"}, "--branch is required"},
		{"open with a bad branch", []string{"pr", "open", "--branch", "a..b", "--set", "a=1"}, `--branch "a..b"`},
		{"open with a branch that is an option", []string{"pr", "open", "--branch", "-x", "--set", "a=1"}, `--branch`},
		{"open without changes", []string{"pr", "open", "--branch", "ok"}, "no change given: pass at least one --set, --file or --delete"},
		{"set without =", []string{"pr", "open", "--branch", "ok", "--set", "justapath"}, `--set "justapath": want PATH=CONTENT`},
		{"set absolute path", []string{"pr", "open", "--branch", "ok", "--set", "/etc/passwd=x"}, `--set "/etc/passwd"`},
		{"set dot-dot path", []string{"pr", "open", "--branch", "ok", "--set", "a/../../b=x"}, `--set "a/../../b"`},
		{"set .git path", []string{"pr", "open", "--branch", "ok", "--set", ".git/config=x"}, `--set ".git/config"`},
		{"file missing", []string{"pr", "open", "--branch", "ok", "--file", "a=" + filepath.Join(dir, "nope")}, `--file "a=`},
		{"file is a directory", []string{"pr", "open", "--branch", "ok", "--file", "a=" + dir}, "is not a regular file"},
		{"file not UTF-8", []string{"pr", "open", "--branch", "ok", "--file", "a=" + binary}, "is not UTF-8 text"},
		{"file without local path", []string{"pr", "open", "--branch", "ok", "--file", "a="}, "want PATH=LOCALFILE"},
		{"file with bad repo path", []string{"pr", "open", "--branch", "ok", "--file", "../a=" + text}, `--file "../a"`},
		{"same path twice", []string{"pr", "open", "--branch", "ok", "--set", "a=1", "--delete", "a"}, `--delete: path "a" is changed twice`},
		{"delete bad path", []string{"pr", "open", "--branch", "ok", "--delete", "a//b"}, `--delete "a//b"`},
		{"title with control characters", []string{"pr", "open", "--branch", "ok", "--title", "a\x1b[2Jb", "--set", "a=1"}, "--title"},
		{"push without number", []string{"pr", "push", "--set", "a=1"}, "want one argument, the PR number; got 0"},
		{"push with a word", []string{"pr", "push", "abc", "--set", "a=1"}, `PR number "abc"`},
		{"push to zero", []string{"pr", "push", "0", "--set", "a=1"}, `PR number "0"`},
		{"push without changes", []string{"pr", "push", "1"}, "no change given"},
		{"push negative wait", []string{"pr", "push", "1", "--set", "a=1", "--wait", "-1s"}, "--wait -1s"},
		{"push message with escape", []string{"pr", "push", "1", "--message", "x\x07", "--set", "a=1"}, "--message"},
		{"close two", []string{"pr", "close", "1", "2"}, "got 2"},
		{"close negative", []string{"pr", "close", "--addr", "127.0.0.1:1", "--", "-3"}, `PR number "-3"`},
		{"show a word", []string{"pr", "show", "one"}, `PR number "one"`},
		{"ls with argument", []string{"pr", "ls", "x"}, "takes no arguments"},
		{"unknown flag", []string{"pr", "open", "--nope"}, "unknown flag: --nope"},
		{"pr addr not loopback", []string{"pr", "ls", "--addr", "0.0.0.0:8080"}, `--addr "0.0.0.0:8080"`},
		{"status addr not loopback", []string{"status", "--addr", "192.0.2.1:80"}, `--addr "192.0.2.1:80"`},
		{"status negative runs", []string{"status", "--runs", "-1", "--addr", "127.0.0.1:1"}, "--runs -1"},
		{"up addr not loopback", []string{"up", "--addr", "0.0.0.0:8080"}, `--addr "0.0.0.0:8080"`},
		{"up bad wait timeout", []string{"up", "--wait-timeout", "0s"}, "--wait-timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sandbox"}, tc.args...)
			if tc.args[0] == "pr" && !strings.Contains(strings.Join(tc.args, " "), "--addr") {
				args = append(args, "--addr", closed)
			}
			code, out, errs := run(t, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stdout %q, stderr %q)", code, out, errs)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", errs, tc.want)
			}
			if out != "" {
				t.Fatalf("stdout %q, want nothing", out)
			}
		})
	}
}

// TestUpAndPRCommands runs the built `previewctl sandbox up` (the whole
// platform) as a subprocess and drives a PR through its whole life with
// the CLI: open, show until live, push, status, close; then SIGTERM stops
// it cleanly with no emulator left.
func TestUpAndPRCommands(t *testing.T) {
	repo := repoRoot(t)
	rie, err := cmdutil.FindRIE(repo)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "previewctl")
	build := exec.Command("go", "build", "-o", bin, "preview-environments/previewctl/cmd/previewctl")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build previewctl: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	addr := freeAddr(t)
	var upLog bytes.Buffer
	up := exec.Command(bin, "sandbox", "up", "--addr", addr, "--data", data, "--wait-timeout", "4m")
	up.Dir = repo
	up.Env = append(os.Environ(), "PATH="+filepath.Dir(rie)+":"+os.Getenv("PATH"))
	up.Stderr = &upLog
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	defer func() {
		up.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sandbox up log:\n%s", upLog.String())
		}
	}()
	waitReady(t, addr)

	handler, err := os.ReadFile(filepath.Join(repo, "service/handler/handler.go"))
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(tmp, "handler.go")
	if err := os.WriteFile(edited, bytes.ReplaceAll(handler, []byte(`DefaultGreeting = "Hello world"`), []byte(`DefaultGreeting = "Hello, CLI"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, append(args, "--addr", addr)...)
		if code != 0 {
			t.Fatalf("previewctl %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	show := func(n string) (d struct {
		platform.PRView
		CILog []platform.CILine `json:"ci_log"`
	}) {
		t.Helper()
		if err := json.Unmarshal([]byte(must("sandbox", "pr", "show", n, "--json")), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	waitState := func(n, state, head string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Minute)
		for {
			d := show(n)
			if d.Preview != nil && d.Preview.State == state && (head == "" || d.HeadSHA == head) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("PR #%s preview %+v, want %s at %s; CI log %+v", n, d.Preview, state, head, d.CILog)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	out := must("sandbox", "pr", "open", "--branch", "cli/greeting", "--title", "Greet from the CLI",
		"--file", "service/handler/handler.go="+edited, "--set", "docs/cli-note.md=commas, stay, whole")
	if !strings.HasPrefix(out, "PR #1 opened from cli/greeting at ") {
		t.Fatalf("pr open said %q", out)
	}
	d := show("1")
	if d.Title != "Greet from the CLI" || d.HeadRef != "cli/greeting" {
		t.Fatalf("PR #1 is %+v", d.PRView)
	}
	waitState("1", platform.PreviewLive, d.HeadSHA)
	d = show("1")
	client := platform.LocalhostClient(addr)
	body := get(t, client, d.Preview.URL+"hello")
	// The PR head's code (its sha), answering with the greeting it reads
	// from the environment's data bucket (the code's own greeting is the
	// fallback of one-stack environments).
	greeting, err := os.ReadFile(filepath.Join(repo, "infra", "data", "greeting.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := d.HeadSHA + ": " + strings.TrimSpace(string(greeting)); body != want {
		t.Fatalf("GET %shello = %q, want %q", d.Preview.URL, body, want)
	}
	// --set kept its commas: the file on the branch is exactly the value.
	note := get(t, client, "http://"+addr+"/github/api/v3/repos/sandbox/preview-environments/contents/docs/cli-note.md?ref=cli/greeting")
	if !strings.Contains(note, `"content"`) {
		t.Fatalf("contents API for the --set file: %s", note)
	}
	var file struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal([]byte(note), &file); err != nil {
		t.Fatal(err)
	}
	if dec := decodeB64(t, file.Content); dec != "commas, stay, whole" {
		t.Fatalf("docs/cli-note.md on the branch is %q", dec)
	}

	text := must("sandbox", "pr", "show", "1")
	for _, want := range []string{"preview live, environment " + d.Preview.EnvironmentID, "URL     " + d.Preview.URL, "CI log:", "package: "} {
		if !strings.Contains(text, want) {
			t.Errorf("pr show lacks %q:\n%s", want, text)
		}
	}
	if ls := must("sandbox", "pr", "ls"); !strings.Contains(ls, "#1") || !strings.Contains(ls, "preview live") || !strings.Contains(ls, d.Preview.URL) {
		t.Errorf("pr ls:\n%s", ls)
	}

	var st sandbox.StatusView
	if err := json.Unmarshal([]byte(must("sandbox", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	stacks := map[string]sandbox.StackView{}
	for _, s := range st.Stacks {
		stacks[s.ID] = s
	}
	envStack := "hello-service-" + d.Preview.EnvironmentID
	if m, ok := stacks[platform.ManagerStackID]; !ok || m.LastRun == nil || m.LastRun.State != "FINISHED" {
		t.Errorf("status: manager stack %+v", m)
	}
	if e, ok := stacks[envStack]; !ok || e.LastRun == nil || e.EnvironmentID != d.Preview.EnvironmentID ||
		e.Role != "service" || !slices.Equal(e.DependsOn, []string{envStack + "-data"}) {
		t.Errorf("status: environment stack %s is %+v", envStack, e)
	}
	if e, ok := stacks[envStack+"-data"]; !ok || e.LastRun == nil || e.LastRun.State != "FINISHED" || e.Role != "data" || e.ProjectRoot != "infra/data" {
		t.Errorf("status: data stack %s-data is %+v", envStack, e)
	}
	if len(st.Runs) == 0 || len(st.Runs) > 10 || st.Runs[0].StackID == "" {
		t.Errorf("status: latest runs %+v, want 1 to 10", st.Runs)
	}
	if len(st.Sandbox.Environments) != 1 || st.Sandbox.Environments[0].URL != d.Preview.URL {
		t.Errorf("status: environments %+v, want the PR's at %s", st.Sandbox.Environments, d.Preview.URL)
	}
	if len(st.PRs) != 1 || st.PRs[0].Preview == nil || st.PRs[0].Preview.State != platform.PreviewLive {
		t.Errorf("status: PRs %+v", st.PRs)
	}
	text = must("sandbox", "status")
	for _, want := range []string{"stacks: 3", platform.ManagerStackID, envStack, "(depends on " + envStack + "-data)", "latest runs:", "environments: 1", d.Preview.URL, "pull requests: 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}

	// The push changes no service/ file: the PR's files still do, so the
	// environment redeploys at the new head; --wait returns once it is live.
	out = must("sandbox", "pr", "push", "1", "--message", "Drop the note", "--delete", "docs/cli-note.md", "--wait", "4m")
	pushed := show("1")
	if pushed.HeadSHA == d.HeadSHA {
		t.Fatal("pr push did not move the head")
	}
	if want := "PR #1: pushed " + pushed.HeadSHA; !strings.HasPrefix(out, want) || !strings.Contains(out, "PR #1: preview live at "+d.Preview.URL) {
		t.Fatalf("pr push --wait said %q, want %q... and the preview live", out, want)
	}
	if pushed.Preview == nil || pushed.Preview.State != platform.PreviewLive || pushed.Preview.HeadSHA != pushed.HeadSHA {
		t.Fatalf("after pr push --wait the preview is %+v", pushed.Preview)
	}

	// A PR whose service does not compile: --wait exits 1 with the CI log.
	code, _, errs := run(t, "sandbox", "pr", "open", "--branch", "cli/broken", "--set", "service/handler/broken.go=package handler\n\nfunc broken( {\n",
		"--wait", "4m", "--addr", addr)
	if code != 1 || !strings.Contains(errs, "PR #2: preview failed") || !strings.Contains(errs, "CI log:") || !strings.Contains(errs, "package failed") {
		t.Errorf("pr open --wait of a broken build: exit %d, stderr:\n%s\nwant 1, the failure and the CI log", code, errs)
	}

	// Opening a second PR from the same branch is refused before anything
	// is committed: PR #1's head does not move.
	if code, _, errs := run(t, "sandbox", "pr", "open", "--branch", "cli/greeting", "--set", "x=1", "--addr", addr); code != 1 || !strings.Contains(errs, "already has open PR #1") {
		t.Errorf("second pr open from cli/greeting: exit %d %q, want 1 naming PR #1", code, errs)
	}
	if again := show("1"); again.HeadSHA != pushed.HeadSHA {
		t.Errorf("a refused pr open moved PR #1's head from %s to %s", pushed.HeadSHA, again.HeadSHA)
	}
	if code, _, errs := run(t, "sandbox", "pr", "show", "7", "--addr", addr); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("pr show 7: exit %d %q, want 1 and not found", code, errs)
	}
	must("sandbox", "pr", "close", "1")
	waitState("1", platform.PreviewDestroyed, "")
	if code, _, errs := run(t, "sandbox", "pr", "push", "1", "--set", "a=1", "--addr", addr); code != 1 || !strings.Contains(errs, "closed") {
		t.Errorf("push to a closed PR: exit %d %q, want 1 naming it closed", code, errs)
	}

	up.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("SIGTERM: sandbox up exited with %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sandbox up did not stop within 30s of SIGTERM")
	}
	if pids := emulators(t, data); len(pids) != 0 {
		t.Fatalf("emulators still running after SIGTERM: %v", pids)
	}
	if strings.Contains(upLog.String(), "level=ERROR") {
		t.Errorf("sandbox up logged errors:\n%s", upLog.String())
	}
	if !strings.Contains(upLog.String(), "sandbox: stopped") {
		t.Errorf("up log does not say it stopped:\n%s", upLog.String())
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q %v", url, resp.StatusCode, b, err)
	}
	return string(b)
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s, "\n", ""))
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}
