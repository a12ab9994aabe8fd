package githost_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/update-file-action/contentsapi"
	"preview-environments/update-file-action/updatefile"
)

// seedRepo creates owner/repo with one commit on main and a dev branch.
func seedRepo(t testing.TB, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	if err := f.host.CreateRepo(ctx, owner, repo); err != nil {
		t.Fatal(err)
	}
	sha, err := f.host.CommitFiles(ctx, owner, repo, "main", "", map[string][]byte{"README.md": []byte("hi\n")}, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.host.CommitFiles(ctx, owner, repo, "dev", "", map[string][]byte{"dev.txt": []byte("dev\n")}, "dev"); err != nil {
		t.Fatal(err)
	}
	f.events(t, 2)
	return sha
}

func TestContentsAPIThroughUpdateFile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	seedRepo(t, f)
	_, client := f.server(t)
	const envFile = "manager/hello-service/environments/acme-app-7-1234abcd.tf"
	bot := &updatefile.Signature{Name: "preview-bot", Email: "bot@localhost"}

	cases := []struct {
		name      string
		req       updatefile.Request
		wantOp    updatefile.Operation
		wantErr   error
		wantFile  string // "" with wantGone: the file must not exist
		wantGone  bool
		wantEvent bool
	}{
		{name: "create", req: updatefile.Request{Path: envFile, Content: []byte("module \"env_1\" {}\n")},
			wantOp: updatefile.Created, wantFile: "module \"env_1\" {}\n", wantEvent: true},
		{name: "update", req: updatefile.Request{Path: envFile, Content: []byte("module \"env_1\" { v = 2 }\n")},
			wantOp: updatefile.Updated, wantFile: "module \"env_1\" { v = 2 }\n", wantEvent: true},
		{name: "unchanged", req: updatefile.Request{Path: envFile, Content: []byte("module \"env_1\" { v = 2 }\n")},
			wantOp: updatefile.Unchanged, wantFile: "module \"env_1\" { v = 2 }\n"},
		{name: "empty file", req: updatefile.Request{Path: "empty.txt"},
			wantOp: updatefile.Created, wantFile: "", wantEvent: true},
		{name: "delete", req: updatefile.Request{Path: envFile, Delete: true},
			wantOp: updatefile.Deleted, wantGone: true, wantEvent: true},
		{name: "absent", req: updatefile.Request{Path: envFile, Delete: true},
			wantOp: updatefile.Absent, wantGone: true},
		{name: "other branch", req: updatefile.Request{Path: envFile, Branch: "dev", Content: []byte("dev\n")},
			wantOp: updatefile.Created, wantFile: "dev\n", wantEvent: true},
		{name: "missing branch", req: updatefile.Request{Path: envFile, Branch: "nope", Content: []byte("x")},
			wantErr: updatefile.ErrBranchNotFound},
		{name: "missing repository", req: updatefile.Request{Repo: "nope", Path: envFile, Content: []byte("x")},
			wantErr: updatefile.ErrRepoNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Owner = owner
			if req.Repo == "" {
				req.Repo = repo
			}
			req.Message = "sandbox: " + tc.name
			req.Committer = bot
			res, err := updatefile.Apply(ctx, client, req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				f.events(t, 0)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Operation != tc.wantOp {
				t.Errorf("operation = %s, want %s", res.Operation, tc.wantOp)
			}
			branch := req.Branch
			if branch == "" {
				branch = "main"
			}
			file, err := f.host.ReadFile(ctx, owner, repo, branch, req.Path)
			switch {
			case tc.wantGone && !errors.Is(err, githost.ErrNotFound):
				t.Errorf("after %s the file is still there: %q, %v", tc.name, file.Content, err)
			case !tc.wantGone && (err != nil || string(file.Content) != tc.wantFile):
				t.Errorf("file = %q, %v; want %q", file.Content, err, tc.wantFile)
			case !tc.wantGone && file.SHA != contentsapi.BlobSHA([]byte(tc.wantFile)):
				t.Errorf("file sha %s is not the git blob sha of its content", file.SHA)
			}
			if !tc.wantEvent {
				f.events(t, 0)
				if res.CommitSHA != "" {
					t.Errorf("commit %s made for %s", res.CommitSHA, tc.wantOp)
				}
				return
			}
			e := f.events(t, 1)[0]
			if e.Type != githost.EventPush || e.Push.Branch != branch || e.Push.After != res.CommitSHA ||
				e.Push.Pusher != bot.Name || !equal(e.Push.Files, []string{req.Path}) || e.Push.Message != req.Message {
				t.Errorf("event = %s (message %q), want a push of %s to %s at %s by %s",
					summary(e, nil), e.Push.Message, req.Path, branch, res.CommitSHA, bot.Name)
			}
		})
	}
}

func TestStoreCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	base := seedRepo(t, f)
	change := func(p string) contentsapi.Change {
		return contentsapi.Change{Path: p, Content: []byte(p), Message: "write " + p}
	}
	first, err := f.host.Commit(ctx, owner, repo, "main", base, change("a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Parent != base {
		t.Errorf("parent = %s, want %s", first.Parent, base)
	}
	_, err = f.host.Commit(ctx, owner, repo, "main", base, change("b.txt"))
	if !errors.Is(err, contentsapi.ErrStale) {
		t.Fatalf("second commit on the same parent: %v, want ErrStale", err)
	}
	if head, _ := f.host.Head(ctx, owner, repo, "main"); head != first.SHA {
		t.Errorf("head = %s, want the first commit %s", head, first.SHA)
	}
	if _, err := f.host.ReadFile(ctx, owner, repo, "main", "b.txt"); !errors.Is(err, contentsapi.ErrNotFound) {
		t.Errorf("the refused change landed: %v", err)
	}
	f.events(t, 1) // only the first commit
	for _, tc := range []struct {
		name, branch, parent string
		c                    contentsapi.Change
		want                 error
	}{
		{"missing branch", "nope", first.SHA, change("c"), contentsapi.ErrNotFound},
		{"delete missing file", "main", first.SHA, contentsapi.Change{Path: "zzz", Message: "rm"}, contentsapi.ErrNotFound},
		{"bad parent", "main", "HEAD", change("c"), githost.ErrInvalid},
		{"unknown parent", "main", "1111111111111111111111111111111111111111", change("c"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.host.Commit(ctx, owner, repo, tc.branch, tc.parent, tc.c)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			f.events(t, 0)
		})
	}
}

// TestContentsAPI409 makes two raw contents-API writes race inside the
// server's commit window: the loser gets GitHub's 409 from the git CAS.
func TestContentsAPI409(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	seedRepo(t, f)
	srv := newServer(t, f, contentsapi.WithCommitLatency(300*time.Millisecond))
	client := ghClient(t, srv)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, resp, _ := client.Repositories.CreateFile(ctx, owner, repo, fmt.Sprintf("f%d.txt", i),
				&github.RepositoryContentFileOptions{Message: github.String("race"), Content: []byte("x")})
			if resp != nil {
				statuses[i] = resp.StatusCode
			}
		}()
	}
	wg.Wait()
	created, conflict := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflict++
		}
	}
	if created != 1 || conflict != 1 {
		t.Fatalf("statuses %v, want one 201 and one 409", statuses)
	}
	f.events(t, 1)
}

// TestContention50Writers: 50 writers of different files through the real
// updatefile.Apply all land, one commit each, and the push events form one
// unbroken chain in order.
func TestContention50Writers(t *testing.T) {
	const n = 50
	ctx := context.Background()
	f := newFixture(t)
	base := seedRepo(t, f)
	_, client := f.server(t)
	results := runWriters(t, client, n, "w")
	attempts := 0
	for i, r := range results {
		if r.err != nil {
			t.Errorf("writer %d: %v", i, r.err)
			continue
		}
		if r.res.Operation != updatefile.Created {
			t.Errorf("writer %d: %s", i, r.res.Operation)
		}
		attempts += r.res.Attempts
	}
	gitDir, _ := f.host.GitDir(ctx, owner, repo)
	if c := git(t, gitDir, "rev-list", "--count", base+"..main"); c != strconv.Itoa(n) {
		t.Errorf("%s commits on main, want %d", c, n)
	}
	tree, err := f.host.ReadTree(ctx, owner, repo, "main", "env")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got := string(tree[writerFile("w", i)].Content); got != writerContent(i) {
			t.Errorf("file %d = %q", i, got)
		}
	}
	evs := f.events(t, n)
	prev := base
	for i, e := range evs {
		if e.Push == nil || e.Push.Before != prev || len(e.Push.Files) != 1 {
			t.Fatalf("event %d = %s, want a one-file push from %s", i, summary(e, nil), prev)
		}
		prev = e.Push.After
	}
	t.Logf("%d writers landed with %d attempts in total (%d retries)", n, attempts, attempts-n)
}

type writerResult struct {
	res updatefile.Result
	err error
}

func writerFile(prefix string, i int) string { return fmt.Sprintf("env/%s-%03d.tf", prefix, i) }
func writerContent(i int) string             { return fmt.Sprintf("writer = %d\n", i) }

// fastBackoff is the action's schedule scaled down ~12x, with room for
// many attempts: the test asserts that everything lands, not how fast.
var fastBackoff = updatefile.Backoff{Base: 20 * time.Millisecond, Max: 500 * time.Millisecond}

// runWriters starts n updatefile.Apply writers at once, each on its own file.
func runWriters(t testing.TB, client *github.Client, n int, prefix string) []writerResult {
	return runWritersWith(client, n, prefix, fastBackoff, 60)
}

// runWritersWith is runWriters with a given backoff and attempt limit.
func runWritersWith(client *github.Client, n int, prefix string, b updatefile.Backoff, maxAttempts int) []writerResult {
	out := make([]writerResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i].res, out[i].err = updatefile.Apply(context.Background(), client, updatefile.Request{
				Owner: owner, Repo: repo, Path: writerFile(prefix, i), Content: []byte(writerContent(i)),
				Message: fmt.Sprintf("writer %d", i), MaxAttempts: maxAttempts, Backoff: b,
			})
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestPackedRefs: after git packs the refs (gc does), heads are still read
// right, and a commit on top of a packed ref lands.
func TestPackedRefs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	head := seedRepo(t, f)
	gitDir, err := f.host.GitDir(ctx, owner, repo)
	must(t, err)
	git(t, gitDir, "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(gitDir, "refs/heads/main")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("main is still a loose ref: %v", err)
	}
	for _, tc := range []struct {
		branch string
		want   string
		err    error
	}{
		{"main", head, nil},
		{"dev", git(t, gitDir, "rev-parse", "dev"), nil},
		{"mai", "", githost.ErrNotFound},
		{"main/x", "", githost.ErrNotFound},
	} {
		got, err := f.host.Head(ctx, owner, repo, tc.branch)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Head(%s) = %q, %v; want %q, %v", tc.branch, got, err, tc.want, tc.err)
		}
	}
	res, err := f.host.Commit(ctx, owner, repo, "main", head, contentsapi.Change{Path: "p", Content: []byte("p"), Message: "p"})
	must(t, err)
	if got, _ := f.host.Head(ctx, owner, repo, "main"); got != res.SHA {
		t.Errorf("head after commit = %s, want %s", got, res.SHA)
	}
	if _, err := f.host.Commit(ctx, owner, repo, "dev", head, contentsapi.Change{Path: "p", Content: []byte("p"), Message: "p"}); !errors.Is(err, githost.ErrStale) {
		t.Errorf("stale commit on packed dev: %v", err)
	}
	f.events(t, 1)
}
