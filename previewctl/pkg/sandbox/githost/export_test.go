package githost_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

func TestExport(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	src := t.TempDir()
	bin := make([]byte, 64<<10)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(bin)
	bin = append(bin, []byte("\r\n\x00 trailing\r\n")...)
	writeFiles(t, src, map[string]string{
		"infra/main.tf":       "resource \"x\" \"y\" {}\r\n",
		"infra/lambda/app.js": "exports.handler = 1\n",
		"infra/blob.bin":      string(bin),
		"infra/run.sh":        "#!/bin/sh\n",
		"evil/readme":         "x",
	})
	must(t, os.Chmod(filepath.Join(src, "infra/run.sh"), 0o755))
	must(t, os.Symlink("lambda/app.js", filepath.Join(src, "infra/link")))
	must(t, os.Symlink("../../outside", filepath.Join(src, "evil/escape")))
	res, err := f.host.ImportWorkingTree(ctx, src, owner, repo)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reproduces files byte for byte", func(t *testing.T) {
		dest := t.TempDir() // exists and is empty, as the Spacelift stand-in passes it
		if err := f.host.Export(ctx, owner, repo, res.SHA, "infra", dest); err != nil {
			t.Fatal(err)
		}
		var got []string
		err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dest, p)
			got = append(got, filepath.ToSlash(rel))
			if d.Type()&fs.ModeSymlink != 0 {
				return nil
			}
			want, _ := os.ReadFile(filepath.Join(src, rel))
			have, _ := os.ReadFile(p)
			if !bytes.Equal(want, have) {
				t.Errorf("%s differs (%d vs %d bytes)", rel, len(have), len(want))
			}
			return nil
		})
		must(t, err)
		want := []string{"infra/blob.bin", "infra/lambda/app.js", "infra/link", "infra/main.tf", "infra/run.sh"}
		if !equal(got, want) {
			t.Errorf("exported %q, want %q", got, want)
		}
		if fi, err := os.Stat(filepath.Join(dest, "infra/run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("run.sh lost its executable bit: %v %v", fi.Mode(), err)
		}
		if l, err := os.Readlink(filepath.Join(dest, "infra/link")); err != nil || l != "lambda/app.js" {
			t.Errorf("link = %q, %v", l, err)
		}
	})

	for _, tc := range []struct {
		name, ref, subdir string
		existing          bool
		want              error
	}{
		{name: "symlink pointing outside", ref: "main", subdir: "", want: githost.ErrInvalid},
		{name: "subdir traversal", ref: "main", subdir: "../infra", want: githost.ErrInvalid},
		{name: "absolute subdir", ref: "main", subdir: "/etc", want: githost.ErrInvalid},
		{name: "missing subdir", ref: "main", subdir: "nope", want: githost.ErrNotFound},
		{name: "missing ref", ref: "nope", subdir: "infra", want: githost.ErrNotFound},
		{name: "option-looking ref", ref: "--output=/tmp/x", subdir: "infra", want: githost.ErrNotFound},
		{name: "destination is not empty", ref: "main", subdir: "infra", existing: true, want: githost.ErrExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			if tc.existing {
				writeFiles(t, dest, map[string]string{"keep": "x"})
			}
			err := f.host.Export(ctx, owner, repo, tc.ref, tc.subdir, dest)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			// Nothing half-written: only what the test made is left.
			entries, _ := os.ReadDir(parent)
			if want := map[bool]int{true: 1, false: 0}[tc.existing]; len(entries) != want {
				t.Errorf("left behind %v", entries)
			}
		})
	}

	t.Run("ReadTree of a subdir at a commit", func(t *testing.T) {
		tree, err := f.host.ReadTree(ctx, owner, repo, res.SHA, "infra/lambda")
		if err != nil {
			t.Fatal(err)
		}
		if len(tree) != 1 || string(tree["infra/lambda/app.js"].Content) != "exports.handler = 1\n" {
			t.Errorf("ReadTree = %v", keys(tree))
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSource checks the owner/repo-keyed view the Spacelift stand-in uses.
func TestSource(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	head := seedRepo(t, f)
	src := f.host.Source()
	for _, tc := range []struct {
		name, full, branch string
		want               string
		err                error
	}{
		{"head of main", owner + "/" + repo, "main", head, nil},
		{"case-insensitive", "acme/PREVIEW-environments", "main", head, nil},
		{"missing branch", owner + "/" + repo, "nope", "", githost.ErrNotFound},
		{"no slash", repo, "main", "", githost.ErrInvalid},
		{"traversal", "../" + repo, "main", "", githost.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.Head(ctx, tc.full, tc.branch)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("Head = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	dest := t.TempDir()
	must(t, src.Export(ctx, owner+"/"+repo, head, "", dest))
	if b, err := os.ReadFile(filepath.Join(dest, "README.md")); err != nil || string(b) != "hi\n" {
		t.Errorf("exported README.md = %q, %v", b, err)
	}
}
