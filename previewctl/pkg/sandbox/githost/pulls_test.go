package githost_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

// summary renders an event for comparison, with shas resolved to names the
// test gave them.
func summary(e githost.Event, names map[string]string) string {
	name := func(sha string) string {
		if n, ok := names[sha]; ok {
			return n
		}
		return sha
	}
	switch e.Type {
	case githost.EventPush:
		return fmt.Sprintf("push %s %s..%s by %s [%s]", e.Push.Branch, name(e.Push.Before), name(e.Push.After),
			e.Push.Pusher, strings.Join(e.Push.Files, " "))
	case githost.EventPullRequest:
		p := e.PullRequest
		return fmt.Sprintf("pull_request %s #%d %s->%s at %s %s [%s]", p.Action, p.PR.Number, p.PR.HeadRef,
			p.PR.BaseRef, name(p.PR.HeadSHA), p.PR.State, strings.Join(p.Files, " "))
	}
	return "?"
}

func TestPullRequestLifecycleEvents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h := f.host
	if err := h.CreateRepo(ctx, owner, repo); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{githost.ZeroSHA: "0"} // sha -> name
	shas := map[string]string{}                      // name -> sha
	commit := func(branch, base, name string, changes map[string][]byte) func() error {
		return func() error {
			if base != "" {
				base = shas[base]
			}
			sha, err := h.CommitFiles(ctx, owner, repo, branch, base, changes, "commit "+name)
			if err == nil {
				names[sha], shas[name] = name, sha
			}
			return err
		}
	}
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		want    []string
	}{
		{
			name: "root commit on main",
			do: commit("main", "", "c0", map[string][]byte{
				"README.md": []byte("readme"), "service/main.go": []byte("v1"), "infra/main.tf": []byte("i1"),
			}),
			want: []string{"push main 0..c0 by sandbox [README.md infra/main.tf service/main.go]"},
		},
		{
			name: "new branch from main",
			do:   commit("feature", "", "c1", map[string][]byte{"service/main.go": []byte("v2")}),
			want: []string{"push feature 0..c1 by sandbox [service/main.go]"},
		},
		{
			name: "open PR",
			do: func() error {
				pr, err := h.OpenPR(ctx, owner, repo, "feature", "main", "Change the message")
				if err == nil && pr.Number != 1 {
					return fmt.Errorf("number %d, want 1", pr.Number)
				}
				return err
			},
			want: []string{"pull_request opened #1 feature->main at c1 open [service/main.go]"},
		},
		{
			name:    "duplicate PR is refused",
			do:      func() error { _, err := h.OpenPR(ctx, owner, repo, "feature", "main", "again"); return err },
			wantErr: githost.ErrExists,
		},
		{
			name:    "PR from a missing branch",
			do:      func() error { _, err := h.OpenPR(ctx, owner, repo, "nope", "main", "x"); return err },
			wantErr: githost.ErrNotFound,
		},
		{
			name:    "PR with head == base",
			do:      func() error { _, err := h.OpenPR(ctx, owner, repo, "main", "main", "x"); return err },
			wantErr: githost.ErrInvalid,
		},
		{
			name: "push to the PR branch synchronizes",
			do: commit("feature", "c1", "c2", map[string][]byte{
				"infra/main.tf": []byte("i2"), "README.md": nil,
			}),
			want: []string{
				"push feature c1..c2 by sandbox [README.md infra/main.tf]",
				"pull_request synchronize #1 feature->main at c2 open [README.md infra/main.tf service/main.go]",
			},
		},
		{
			name:    "stale base sha is refused",
			do:      commit("feature", "c1", "stale", map[string][]byte{"x": []byte("x")}),
			wantErr: githost.ErrStale,
		},
		{
			name:    "deleting a missing file",
			do:      commit("feature", "", "nofile", map[string][]byte{"missing.txt": nil}),
			wantErr: githost.ErrNotFound,
		},
		{
			name:    "path traversal is refused",
			do:      commit("feature", "", "bad", map[string][]byte{"../x": []byte("x")}),
			wantErr: githost.ErrInvalid,
		},
		{
			name:    "bad branch name is refused",
			do:      commit("feat..ure", "", "bad", map[string][]byte{"x": []byte("x")}),
			wantErr: githost.ErrInvalid,
		},
		{
			name: "push to main does not touch the PR's files",
			do:   commit("main", "", "c3", map[string][]byte{"other.txt": []byte("o")}),
			want: []string{"push main c0..c3 by sandbox [other.txt]"},
		},
		{
			name: "close PR",
			do:   func() error { _, err := h.ClosePR(ctx, owner, repo, 1); return err },
			want: []string{"pull_request closed #1 feature->main at c2 closed [README.md infra/main.tf service/main.go]"},
		},
		{
			name: "closing again is a no-op",
			do:   func() error { _, err := h.ClosePR(ctx, owner, repo, 1); return err },
		},
		{
			name: "push after close does not synchronize",
			do:   commit("feature", "", "c4", map[string][]byte{"service/main.go": []byte("v3")}),
			want: []string{"push feature c2..c4 by sandbox [service/main.go]"},
		},
		{
			name: "reopen as a new PR takes the next number",
			do: func() error {
				pr, err := h.OpenPR(ctx, owner, repo, "feature", "main", "Second try")
				if err == nil && pr.Number != 2 {
					return fmt.Errorf("number %d, want 2", pr.Number)
				}
				return err
			},
			want: []string{"pull_request opened #2 feature->main at c4 open [README.md infra/main.tf service/main.go]"},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.do()
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("err = %v, want %v", err, st.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			evs := f.events(t, len(st.want))
			for i, e := range evs {
				if got := summary(e, names); got != st.want[i] {
					t.Errorf("event %d:\n got %s\nwant %s", i, got, st.want[i])
				}
				if i > 0 && e.Seq != evs[i-1].Seq+1 {
					t.Errorf("event %d seq %d after %d", i, e.Seq, evs[i-1].Seq)
				}
			}
		})
	}

	// What a consumer reconciles from after a crash.
	f.open(t)
	for _, tc := range []struct {
		state string
		want  []int
	}{{"open", []int{2}}, {"", []int{2}}, {"closed", []int{1}}, {"all", []int{2, 1}}} {
		prs, err := f.host.ListPRs(ctx, owner, repo, tc.state)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, p := range prs {
			got = append(got, p.Number)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ListPRs(%q) = %v, want %v", tc.state, got, tc.want)
		}
	}
	if _, err := f.host.ListPRs(ctx, owner, repo, "merged"); !errors.Is(err, githost.ErrInvalid) {
		t.Errorf("ListPRs(merged): %v, want ErrInvalid", err)
	}
	pr1, err := f.host.GetPR(ctx, owner, repo, 1)
	if err != nil || pr1.State != "closed" || pr1.ClosedAt.IsZero() || pr1.HeadSHA != shas["c2"] || pr1.Merged {
		t.Errorf("GetPR(1) = %+v, %v", pr1, err)
	}
	if _, err := f.host.GetPR(ctx, owner, repo, 9); !errors.Is(err, githost.ErrNotFound) {
		t.Errorf("GetPR(9): %v, want ErrNotFound", err)
	}
	heads, err := f.host.Branches(ctx, owner, repo)
	if err != nil || heads["main"] != shas["c3"] || heads["feature"] != shas["c4"] || len(heads) != 2 {
		t.Errorf("Branches = %v, %v", heads, err)
	}
}
