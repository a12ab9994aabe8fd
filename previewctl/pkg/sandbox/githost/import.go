package githost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ImportResult is what ImportWorkingTree did.
type ImportResult struct {
	SHA     string // the head of main after the import
	Changed bool   // false: the tree was already main's, no commit made
	Files   int    // files in the snapshot
}

// ImportWorkingTree snapshots the working tree at srcDir as a commit on
// main of owner/repo (created if needed), on top of the existing main so a
// restart keeps history; when the tree equals main's, no commit is made.
// In a git checkout it takes tracked and untracked-but-not-ignored files
// (`git ls-files -co --exclude-standard`), skipping listed files that no
// longer exist; elsewhere every regular file and symlink outside .git.
func (h *Host) ImportWorkingTree(ctx context.Context, srcDir, owner, repo string) (ImportResult, error) {
	src, err := filepath.Abs(srcDir)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %q: %w", srcDir, err)
	}
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		return ImportResult{}, fmt.Errorf("import %q: %w: not a directory", srcDir, ErrInvalid)
	}
	if err := h.CreateRepo(ctx, owner, repo); err != nil {
		return ImportResult{}, err
	}
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return ImportResult{}, err
	}
	paths, err := h.listWorkingTree(ctx, src)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", src, err)
	}
	entries, err := h.hashFiles(ctx, r, src, paths)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", src, err)
	}
	var tree, commit string
	err = h.withIndex(func(env []string) error {
		o := gitOpts{gitDir: r.gitDir, env: env}
		if _, err := h.run(ctx, gitOpts{gitDir: r.gitDir, env: env, stdin: bytes.NewReader(entries)},
			"update-index", "--add", "-z", "--index-info"); err != nil {
			return fmt.Errorf("build index: %w", err)
		}
		tree, err = h.out(ctx, o, "write-tree")
		return err
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", src, err)
	}
	old, err := h.head(ctx, r, r.def)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ImportResult{}, err
	}
	if old != "" {
		oldTree, err := h.out(ctx, gitOpts{gitDir: r.gitDir}, "rev-parse", old+"^{tree}")
		if err != nil {
			return ImportResult{}, fmt.Errorf("import %s: tree of %s: %w", src, old, err)
		}
		if oldTree == tree {
			return ImportResult{SHA: old, Files: len(paths)}, nil
		}
	}
	commit, err = h.commitTree(ctx, r, tree, commitSpec{parent: old, message: "Import working tree from " + src + "\n"})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", src, err)
	}
	if err := h.updateRef(ctx, r, r.def, commit, old, pushInfo{pusher: h.sig.Name}); err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", src, err)
	}
	return ImportResult{SHA: commit, Changed: true, Files: len(paths)}, nil
}

// listWorkingTree returns slash-separated relative paths of the files to
// snapshot, sorted.
func (h *Host) listWorkingTree(ctx context.Context, src string) ([]string, error) {
	var paths []string
	if _, err := os.Stat(filepath.Join(src, ".git")); err == nil {
		// safe.directory: the checkout may belong to another user; reading
		// its file list is all we do with it.
		// The ceiling stops git from using a repository above src when
		// src/.git is not a repository itself.
		out, err := h.run(ctx, gitOpts{dir: src, env: []string{"GIT_CEILING_DIRECTORIES=" + filepath.Dir(src)}},
			"-c", "safe.directory=*", "ls-files", "-co", "--exclude-standard", "-z")
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		paths = splitZ(out)
	} else {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Never snapshot git metadata or the host's own data (the
			// sandbox's data directory may live inside the tree).
			if d.IsDir() && (d.Name() == ".git" || p == filepath.Dir(h.root)) {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
				rel, err := filepath.Rel(src, p)
				if err != nil {
					return err
				}
				paths = append(paths, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk: %w", err)
		}
	}
	// The data directory may sit inside the tree without being ignored.
	if rel, err := filepath.Rel(src, filepath.Dir(h.root)); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		prefix := filepath.ToSlash(rel) + "/"
		kept := paths[:0]
		for _, p := range paths {
			if !strings.HasPrefix(p, prefix) {
				kept = append(kept, p)
			}
		}
		paths = kept
	}
	sort.Strings(paths)
	return paths, nil
}

// hashFiles writes a blob per file (symlinks as their target, like git) and
// returns `update-index --index-info -z` input. Files that vanished since
// they were listed, directories (submodules) and invalid names are skipped.
func (h *Host) hashFiles(ctx context.Context, r *repoRef, src string, paths []string) ([]byte, error) {
	type entry struct{ path, mode string }
	var regular []entry
	var info bytes.Buffer
	for _, p := range paths {
		if ValidatePath(p) != nil {
			continue
		}
		full := filepath.Join(src, filepath.FromSlash(p))
		fi, err := os.Lstat(full)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(full)
			if err != nil {
				return nil, err
			}
			sha, err := h.out(ctx, gitOpts{gitDir: r.gitDir, stdin: strings.NewReader(target)},
				"hash-object", "-w", "--no-filters", "--stdin")
			if err != nil {
				return nil, fmt.Errorf("hash symlink %q: %w", p, err)
			}
			fmt.Fprintf(&info, "120000 %s\t%s\x00", sha, p)
		case fi.Mode().IsRegular():
			mode := "100644"
			if fi.Mode()&0o111 != 0 {
				mode = "100755"
			}
			regular = append(regular, entry{p, mode})
		}
	}
	if len(regular) == 0 {
		return info.Bytes(), nil
	}
	// One process hashes every regular file: paths go one per line, so a
	// path with a newline (refused by ValidatePath) never gets here.
	var in strings.Builder
	for _, e := range regular {
		in.WriteString(filepath.Join(src, filepath.FromSlash(e.path)))
		in.WriteByte('\n')
	}
	out, err := h.run(ctx, gitOpts{gitDir: r.gitDir, stdin: strings.NewReader(in.String())},
		"hash-object", "-w", "--no-filters", "--stdin-paths")
	if err != nil {
		return nil, fmt.Errorf("hash files: %w", err)
	}
	shas := strings.Fields(string(out))
	if len(shas) != len(regular) {
		return nil, fmt.Errorf("hash files: %d shas for %d files", len(shas), len(regular))
	}
	for i, e := range regular {
		fmt.Fprintf(&info, "%s %s\t%s\x00", e.mode, shas[i], e.path)
	}
	return info.Bytes(), nil
}
