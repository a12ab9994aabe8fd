package githost_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

// newCheckout makes a git checkout with tracked, ignored, untracked and
// deleted-but-still-tracked files.
func newCheckout(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	git(t, src, "init", "-q", "-b", "main")
	writeFiles(t, src, map[string]string{
		".gitignore":      "*.log\n.sandbox/\n",
		"README.md":       "# project\n",
		"service/main.go": "package main\n",
		"infra/main.tf":   "# infra\n",
		"old.txt":         "to be deleted\n",
		"bin/run.sh":      "#!/bin/sh\necho run\n",
	})
	if err := os.Chmod(filepath.Join(src, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, src, "add", "-A")
	git(t, src, "commit", "-q", "-m", "initial")
	writeFiles(t, src, map[string]string{
		"debug.log":         "ignored\n",
		".sandbox/state.db": "ignored\n",
		"notes.txt":         "untracked, not ignored\n",
	})
	if err := os.Remove(filepath.Join(src, "old.txt")); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestImportWorkingTree(t *testing.T) {
	ctx := context.Background()
	src := newCheckout(t)
	var f *fixture
	allFiles := []string{".gitignore", "README.md", "bin/run.sh", "infra/main.tf", "notes.txt", "service/main.go"}

	steps := []struct {
		name        string
		mutate      func(t *testing.T)
		restart     bool
		wantChanged bool
		wantPushed  []string // files of the push event; nil: no event
		wantTree    []string
	}{
		{name: "first import", wantChanged: true, wantPushed: allFiles, wantTree: allFiles},
		{name: "unchanged tree makes no commit", wantTree: allFiles},
		{
			name:        "changed file makes a commit on top",
			mutate:      func(t *testing.T) { writeFiles(t, src, map[string]string{"README.md": "# project v2\n"}) },
			wantChanged: true, wantPushed: []string{"README.md"}, wantTree: allFiles,
		},
		{name: "restart keeps history, unchanged tree", restart: true, wantTree: allFiles},
		{
			name:        "new untracked file is imported",
			mutate:      func(t *testing.T) { writeFiles(t, src, map[string]string{"infra/extra.tf": "# x\n"}) },
			wantChanged: true, wantPushed: []string{"infra/extra.tf"},
			wantTree: []string{".gitignore", "README.md", "bin/run.sh", "infra/extra.tf", "infra/main.tf", "notes.txt", "service/main.go"},
		},
		{
			name:        "deleted file leaves the tree",
			mutate:      func(t *testing.T) { os.Remove(filepath.Join(src, "notes.txt")) },
			wantChanged: true, wantPushed: []string{"notes.txt"},
			wantTree: []string{".gitignore", "README.md", "bin/run.sh", "infra/extra.tf", "infra/main.tf", "service/main.go"},
		},
	}
	// Data kept inside the checkout but not ignored is still never imported.
	f = newFixtureAt(t, filepath.Join(src, "sandbox-data"))
	prev := ""
	outer := t
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.mutate != nil {
				st.mutate(t)
			}
			if st.restart {
				f.open(outer) // the host outlives this subtest
			}
			res, err := f.host.ImportWorkingTree(ctx, src, owner, repo)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != st.wantChanged {
				t.Errorf("changed = %v, want %v", res.Changed, st.wantChanged)
			}
			gitDir, err := f.host.GitDir(ctx, owner, repo)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case !st.wantChanged && res.SHA != prev:
				t.Errorf("sha moved %s -> %s without changes", prev, res.SHA)
			case st.wantChanged && prev != "":
				if parent := git(t, gitDir, "rev-parse", res.SHA+"^"); parent != prev {
					t.Errorf("parent of %s is %s, want previous main %s", res.SHA, parent, prev)
				}
			}
			if st.wantPushed == nil {
				f.events(t, 0)
			} else {
				ev := f.events(t, 1)[0]
				if ev.Type != githost.EventPush || ev.Push.Branch != "main" || ev.Push.After != res.SHA {
					t.Fatalf("event %+v push %+v, want push to main at %s", ev, ev.Push, res.SHA)
				}
				wantBefore := prev
				if prev == "" {
					wantBefore = githost.ZeroSHA
				}
				if ev.Push.Before != wantBefore {
					t.Errorf("push before = %s, want %s", ev.Push.Before, wantBefore)
				}
				if !equal(ev.Push.Files, st.wantPushed) {
					t.Errorf("push files = %q, want %q", ev.Push.Files, st.wantPushed)
				}
			}
			tree, err := f.host.ReadTree(ctx, owner, repo, "main", "")
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(tree); !equal(got, st.wantTree) {
				t.Errorf("tree = %q, want %q", got, st.wantTree)
			}
			if m := tree["bin/run.sh"].Mode; m != 0o755 {
				t.Errorf("bin/run.sh mode = %v, want 0755", m)
			}
			prev = res.SHA
		})
	}
}

func TestImportPlainDirectory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"a.txt": "a", "d/b.txt": "b", ".git/config": "not a repo, skipped"})
	if err := os.Symlink("d/b.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	// .git exists as a plain directory here, so ls-files fails: the import
	// must say so rather than import half a tree.
	if _, err := f.host.ImportWorkingTree(ctx, src, owner, repo); err == nil {
		t.Fatal("import of a directory with a broken .git succeeded")
	}
	if err := os.RemoveAll(filepath.Join(src, ".git")); err != nil {
		t.Fatal(err)
	}
	// The host's own data directory inside the tree is never imported.
	inner := newFixtureAt(t, filepath.Join(src, ".sandbox"))
	res, err := inner.host.ImportWorkingTree(ctx, src, owner, repo)
	if err != nil || !res.Changed || res.Files != 3 {
		t.Fatalf("import = %+v, %v; want 3 files changed", res, err)
	}
	f = inner
	tree, err := f.host.ReadTree(ctx, owner, repo, res.SHA, "")
	if err != nil {
		t.Fatal(err)
	}
	if l := tree["link"]; l.Mode&os.ModeSymlink == 0 || string(l.Content) != "d/b.txt" {
		t.Errorf("link = %+v, want a symlink to d/b.txt", l)
	}
	if string(tree["d/b.txt"].Content) != "b" {
		t.Errorf("d/b.txt = %q", tree["d/b.txt"].Content)
	}

	for _, bad := range []struct{ src, owner, repo string }{
		{filepath.Join(src, "missing"), owner, repo},
		{src, "-bad", repo},
		{src, owner, "../escape"},
	} {
		if _, err := f.host.ImportWorkingTree(ctx, bad.src, bad.owner, bad.repo); !errors.Is(err, githost.ErrInvalid) {
			t.Errorf("import %+v: err = %v, want ErrInvalid", bad, err)
		}
	}
}
