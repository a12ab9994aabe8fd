package githost_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

// TestPullsAPIWithGoGithub drives the pulls endpoints with go-github, as
// `previewctl gc` (PullRequests.Get) and the sandbox CLI do.
func TestPullsAPIWithGoGithub(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	seedRepo(t, f)
	head, err := f.host.CommitFiles(ctx, owner, repo, "feature", "", map[string][]byte{"service/x.go": []byte("x")}, "feature")
	must(t, err)
	f.events(t, 1)
	srv, client := f.server(t)

	created, resp, err := client.PullRequests.Create(ctx, owner, repo, &github.NewPullRequest{
		Title: github.String("Add x"), Head: github.String("feature"), Base: github.String("main"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v", err)
	}
	if created.GetNumber() != 1 || created.GetHead().GetSHA() != head || created.GetState() != "open" {
		t.Errorf("created = %+v", created)
	}
	if e := f.events(t, 1)[0]; e.PullRequest == nil || e.PullRequest.Action != githost.ActionOpened {
		t.Errorf("event = %s", summary(e, nil))
	}
	_, resp, err = client.PullRequests.Create(ctx, owner, repo, &github.NewPullRequest{
		Title: github.String("again"), Head: github.String("feature"), Base: github.String("main"),
	})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("duplicate create: %v, want 422", err)
	}

	for _, tc := range []struct {
		name       string
		closeFirst bool
		wantState  string
	}{
		{"open", false, "open"},
		{"closed", true, "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.closeFirst {
				edited, _, err := client.PullRequests.Edit(ctx, owner, repo, 1, &github.PullRequest{State: github.String("closed")})
				if err != nil || edited.GetState() != "closed" {
					t.Fatalf("close: %+v, %v", edited, err)
				}
				f.events(t, 1)
			}
			pr, _, err := client.PullRequests.Get(ctx, "acme", repo, 1) // owner is case-insensitive
			if err != nil {
				t.Fatal(err)
			}
			if pr.GetState() != tc.wantState || pr.GetNumber() != 1 || pr.GetTitle() != "Add x" ||
				pr.GetHead().GetRef() != "feature" || pr.GetHead().GetSHA() != head || pr.GetBase().GetRef() != "main" ||
				pr.GetMerged() || pr.GetHTMLURL() != srv.URL+"/"+owner+"/"+repo+"/pull/1" {
				t.Errorf("pr = %s", github.Stringify(pr))
			}
			if (pr.ClosedAt != nil) != tc.closeFirst || pr.CreatedAt == nil {
				t.Errorf("closed_at = %v, created_at = %v", pr.ClosedAt, pr.CreatedAt)
			}
			list, _, err := client.PullRequests.List(ctx, owner, repo, &github.PullRequestListOptions{State: tc.wantState})
			if err != nil || len(list) != 1 || list[0].GetNumber() != 1 {
				t.Errorf("list %s = %v, %v", tc.wantState, list, err)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		repo   string
		number int
		want   int
	}{
		{"missing PR", repo, 7, http.StatusNotFound},
		{"missing repo", "nope", 1, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := client.PullRequests.Get(ctx, owner, tc.repo, tc.number)
			var ge *github.ErrorResponse
			if !errors.As(err, &ge) || resp.StatusCode != tc.want {
				t.Errorf("err = %v, want %d", err, tc.want)
			}
		})
	}
	if _, resp, _ := client.PullRequests.List(ctx, owner, repo, &github.PullRequestListOptions{State: "bogus"}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("list state=bogus: %d, want 422", resp.StatusCode)
	}
}

// TestSmartHTTPPush clones over git smart HTTP, pushes a new branch and then
// a commit to a PR's branch: each push emits its events.
func TestSmartHTTPPush(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	seedRepo(t, f)
	srv, _ := f.server(t)
	work := filepath.Join(t.TempDir(), "clone")
	url := srv.URL + githost.GitPrefix + "acme/" + repo + ".git"
	git(t, filepath.Dir(work), "clone", "-q", url, work)
	if b, err := os.ReadFile(filepath.Join(work, "README.md")); err != nil || string(b) != "hi\n" {
		t.Fatalf("clone: README.md = %q, %v", b, err)
	}

	git(t, work, "checkout", "-q", "-b", "topic")
	writeFiles(t, work, map[string]string{"infra/routes.tf": "# routes\n"})
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", "add routes")
	git(t, work, "push", "-q", "origin", "topic")
	first := git(t, work, "rev-parse", "HEAD")
	e := f.events(t, 1)[0]
	if e.Push == nil || e.Push.Branch != "topic" || e.Push.Before != githost.ZeroSHA || e.Push.After != first ||
		!equal(e.Push.Files, []string{"infra/routes.tf"}) || e.Push.Pusher != "git-http" || e.Push.Message != "add routes" {
		t.Fatalf("event = %s", summary(e, nil))
	}

	pr, err := f.host.OpenPR(ctx, owner, repo, "topic", "main", "Routes")
	must(t, err)
	f.events(t, 1)
	writeFiles(t, work, map[string]string{"infra/routes.tf": "# routes v2\n", "service/a.go": "package a\n"})
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", "more")
	git(t, work, "push", "-q", "origin", "topic")
	second := git(t, work, "rev-parse", "HEAD")
	evs := f.events(t, 2)
	names := map[string]string{first: "first", second: "second"}
	want := []string{
		"push topic first..second by git-http [infra/routes.tf service/a.go]",
		"pull_request synchronize #1 topic->main at second open [infra/routes.tf service/a.go]",
	}
	for i := range want {
		if got := summary(evs[i], names); got != want[i] {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	if got, _ := f.host.GetPR(ctx, owner, repo, pr.Number); got.HeadSHA != second {
		t.Errorf("PR head = %s, want %s", got.HeadSHA, second)
	}

	// git accepts this name; the host's consumers must never see it (it
	// would reach HCL as an infra branch), so the push lands but is not
	// announced.
	git(t, work, "push", "-q", "origin", "HEAD:refs/heads/x${var.y}")
	f.events(t, 0)
	if heads, err := f.host.Branches(ctx, owner, repo); err != nil || len(heads) != 3 || heads["topic"] != second {
		t.Errorf("Branches = %v, %v; want main, dev and topic only", heads, err)
	}

	git(t, work, "push", "-q", "origin", "--delete", "topic")
	if e := f.events(t, 1)[0]; e.Push == nil || e.Push.After != githost.ZeroSHA || e.Push.Branch != "topic" {
		t.Errorf("delete event = %s", summary(e, nil))
	}

	for _, bad := range []string{"/git/acme/nope.git/info/refs", "/git/acme/" + repo + ".git/objects/info/packs", "/git/../etc/passwd"} {
		resp, err := http.Get(srv.URL + bad + "?service=git-upload-pack")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, resp.StatusCode)
		}
	}
}

// TestCreateBranchAPI: go-github's Git.CreateRef makes a branch (and a push
// event), then the contents API writes to it and a PR opens from it: the
// whole PR flow over HTTP.
func TestCreateBranchAPI(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	head := seedRepo(t, f)
	_, client := f.server(t)
	newRef := func(ref, sha string) *github.Reference {
		return &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: github.String(sha)}}
	}
	for _, tc := range []struct {
		name, ref, sha string
		want           int
		events         int
	}{
		{"new branch", "refs/heads/topic", head, http.StatusCreated, 1},
		{"exists", "refs/heads/topic", head, http.StatusUnprocessableEntity, 0},
		{"not a branch ref", "refs/tags/v1", head, http.StatusUnprocessableEntity, 0},
		{"bad name", "refs/heads/a..b", head, http.StatusUnprocessableEntity, 0},
		{"unknown commit", "refs/heads/other", "1111111111111111111111111111111111111111", http.StatusNotFound, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, _ := client.Git.CreateRef(ctx, owner, repo, newRef(tc.ref, tc.sha))
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("status %v, want %d", resp, tc.want)
			}
			evs := f.events(t, tc.events)
			if tc.events == 1 && (evs[0].Push.Branch != "topic" || evs[0].Push.Before != githost.ZeroSHA ||
				evs[0].Push.After != head || len(evs[0].Push.Files) != 0) {
				t.Errorf("event = %s", summary(evs[0], nil))
			}
		})
	}
	if _, _, err := client.Repositories.CreateFile(ctx, owner, repo, "service/msg.txt", &github.RepositoryContentFileOptions{
		Message: github.String("msg"), Content: []byte("hello"), Branch: github.String("topic"),
	}); err != nil {
		t.Fatal(err)
	}
	f.events(t, 1)
	pr, _, err := client.PullRequests.Create(ctx, owner, repo, &github.NewPullRequest{
		Title: github.String("msg"), Head: github.String(owner + ":topic"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := f.events(t, 1)[0]; e.PullRequest.PR.Number != pr.GetNumber() || !equal(e.PullRequest.Files, []string{"service/msg.txt"}) {
		t.Errorf("event = %s", summary(e, nil))
	}
}
