package githost

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"preview-environments/update-file-action/contentsapi"
)

// resolve turns a validated ref (branch name or 40-hex sha) into the commit
// sha it names, or ErrNotFound. A branch wins over a sha-looking name, as in
// git.
func (h *Host) resolve(ctx context.Context, r *repoRef, ref string) (string, error) {
	if err := validateRef(ref); err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if sha, err := h.head(ctx, r, ref); err == nil || !errors.Is(err, ErrNotFound) {
		return sha, err
	}
	if !shaRE.MatchString(ref) {
		return "", fmt.Errorf("ref %q of %s: %w", ref, r.key, ErrNotFound)
	}
	sha, err := h.out(ctx, gitOpts{gitDir: r.gitDir}, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if exitCode(err) == 1 || err == nil && sha == "" {
		return "", fmt.Errorf("commit %s of %s: %w", ref, r.key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("commit %s of %s: %w", ref, r.key, err)
	}
	return sha, nil
}

// ResolveRef returns the commit sha a branch name or commit sha names.
func (h *Host) ResolveRef(ctx context.Context, owner, repo, ref string) (string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return "", err
	}
	return h.resolve(ctx, r, ref)
}

// ReadFile implements contentsapi.Store: the file at ref (branch or commit
// sha), or ErrNotFound for a missing ref or file (a directory is not a file).
func (h *Host) ReadFile(ctx context.Context, owner, repo, ref, p string) (contentsapi.File, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return contentsapi.File{}, err
	}
	if err := ValidatePath(p); err != nil {
		return contentsapi.File{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	sha, err := h.resolve(ctx, r, ref)
	if err != nil {
		return contentsapi.File{}, err
	}
	var out bytes.Buffer
	if _, err := h.run(ctx, gitOpts{gitDir: r.gitDir, stdin: strings.NewReader(sha + ":" + p + "\n"), stdout: &out},
		"cat-file", "--batch"); err != nil {
		return contentsapi.File{}, fmt.Errorf("read %q at %s of %s: %w", p, ref, r.key, err)
	}
	header, rest, _ := bytes.Cut(out.Bytes(), []byte("\n"))
	fields := strings.Fields(string(header))
	if len(fields) != 3 || fields[1] != "blob" {
		return contentsapi.File{}, fmt.Errorf("file %q at %s of %s: %w", p, ref, r.key, ErrNotFound)
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil || size > len(rest) {
		return contentsapi.File{}, fmt.Errorf("read %q at %s of %s: malformed cat-file output %q", p, ref, r.key, header)
	}
	return contentsapi.File{Path: p, Content: rest[:size:size], SHA: fields[0]}, nil
}

// ChangedFiles lists the files a pull request from headSHA into baseRef
// changes: the diff from their merge base to headSHA, as GitHub's pull
// request "files" (the whole tree if the histories are unrelated).
func (h *Host) ChangedFiles(ctx context.Context, owner, repo, baseRef, headSHA string) ([]string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	return h.changedFiles(ctx, r, baseRef, headSHA)
}

func (h *Host) changedFiles(ctx context.Context, r *repoRef, baseRef, headRef string) ([]string, error) {
	base, err := h.resolve(ctx, r, baseRef)
	if err != nil {
		return nil, err
	}
	head, err := h.resolve(ctx, r, headRef)
	if err != nil {
		return nil, err
	}
	mb, err := h.mergeBase(ctx, r, base, head)
	if err != nil {
		return nil, fmt.Errorf("merge base of %s and %s: %w", base, head, err)
	}
	return h.diffNames(ctx, r, mb, head)
}

// TreeFile is one entry of ReadTree.
type TreeFile struct {
	Content []byte
	Mode    os.FileMode // 0o644 or 0o755; os.ModeSymlink with Content the target
}

// ReadTree returns the files under subdir ("" for the whole tree) at ref,
// keyed by their slash-separated path from the repository root (as
// `git archive <ref> -- <subdir>` lays them out). It is how the Spacelift
// stand-in can read manager/ and infra/ at a stack's commit.
func (h *Host) ReadTree(ctx context.Context, owner, repo, ref, subdir string) (map[string]TreeFile, error) {
	files := map[string]TreeFile{}
	err := h.walkArchive(ctx, owner, repo, ref, subdir, func(name string, hdr *tar.Header, body io.Reader) error {
		switch hdr.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(body)
			if err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if hdr.Mode&0o111 != 0 {
				mode = 0o755 // git keeps only the executable bit; the archive applies a umask
			}
			files[name] = TreeFile{Content: b, Mode: mode}
		case tar.TypeSymlink:
			files[name] = TreeFile{Content: []byte(hdr.Linkname), Mode: os.ModeSymlink | 0o777}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// Export writes the files under subdir ("" for all) at ref into destDir,
// keeping their paths from the repository root (destDir/<subdir>/...), the
// way Spacelift checks out a repository and runs in its project root.
// destDir must not exist or be an empty directory: the tree is written next
// to it under a temporary name and renamed into place, so a failure leaves
// nothing half-written. Entries that would land outside destDir (.., absolute
// paths, symlinks pointing out) are refused.
func (h *Host) Export(ctx context.Context, owner, repo, ref, subdir, destDir string) error {
	dest, err := filepath.Abs(destDir)
	if err != nil {
		return fmt.Errorf("export to %q: %w", destDir, err)
	}
	if fi, err := os.Lstat(dest); err == nil {
		entries, rerr := os.ReadDir(dest)
		if !fi.IsDir() || rerr != nil || len(entries) > 0 {
			return fmt.Errorf("export to %s: %w: destination exists and is not an empty directory", dest, ErrExists)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("export to %s: %w", dest, err)
	}
	stage, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".export-")
	if err != nil {
		return fmt.Errorf("export to %s: %w", dest, err)
	}
	defer os.RemoveAll(stage)
	err = h.walkArchive(ctx, owner, repo, ref, subdir, func(name string, hdr *tar.Header, body io.Reader) error {
		return extractEntry(stage, name, hdr, body)
	})
	if err != nil {
		return fmt.Errorf("export %s/%s %s:%s: %w", owner, repo, ref, subdir, err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return fmt.Errorf("export to %s: %w", dest, err)
	}
	// os.Rename refuses to replace a directory, even an empty one; removing
	// it first only ever removes an empty directory (os.Remove fails on any
	// other), and the export still appears in one rename.
	if err := os.Remove(dest); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export to %s: %w", dest, err)
	}
	if err := os.Rename(stage, dest); err != nil {
		return fmt.Errorf("export to %s: %w", dest, err)
	}
	return nil
}

// walkArchive streams `git archive` of subdir at ref through a tar reader
// and calls fn for each file and symlink with its path, after checking the
// path is a clean relative one under subdir.
func (h *Host) walkArchive(ctx context.Context, owner, repo, ref, subdir string, fn func(rel string, hdr *tar.Header, body io.Reader) error) error {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return err
	}
	sub, err := validateSubdir(subdir)
	if err != nil {
		return err
	}
	sha, err := h.resolve(ctx, r, ref)
	if err != nil {
		return err
	}
	args := []string{"archive", "--format=tar", sha}
	if sub != "" {
		// A pathspec that matches nothing makes git archive fail; an
		// absent subdirectory is a not-found, checked first.
		if _, err := h.out(ctx, gitOpts{gitDir: r.gitDir}, "rev-parse", "--verify", "--quiet", sha+":"+sub); err != nil {
			if exitCode(err) == 1 {
				return fmt.Errorf("%q at %s of %s: %w", sub, ref, r.key, ErrNotFound)
			}
			return err
		}
		args = append(args, "--", sub)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		_, err := h.run(ctx, gitOpts{gitDir: r.gitDir, stdout: pw}, args...)
		pw.CloseWithError(err)
		errc <- err
	}()
	werr := readTar(bufio.NewReader(pr), sub, fn)
	if werr != nil {
		cancel()
		pr.CloseWithError(werr)
	} else {
		// git writes trailing padding after the end-of-archive marker.
		_, _ = io.Copy(io.Discard, pr)
	}
	gerr := <-errc
	if werr != nil {
		return werr
	}
	if gerr != nil {
		return fmt.Errorf("archive %s of %s: %w", ref, r.key, gerr)
	}
	return nil
}

// readTar calls fn for every file and symlink in the tar stream; it
// refuses any entry whose name is not a clean relative path under prefix.
func readTar(r io.Reader, prefix string, fn func(name string, hdr *tar.Header, body io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeDir:
			continue
		case tar.TypeReg, tar.TypeSymlink:
		default:
			return fmt.Errorf("archive entry %q: unsupported type %q", hdr.Name, hdr.Typeflag)
		}
		if err := ValidatePath(hdr.Name); err != nil {
			return fmt.Errorf("archive entry refused: %w", err)
		}
		if prefix != "" && !strings.HasPrefix(hdr.Name, prefix+"/") {
			return fmt.Errorf("archive entry %q is outside %q", hdr.Name, prefix)
		}
		if err := fn(hdr.Name, hdr, tr); err != nil {
			return err
		}
	}
}

// extractEntry writes one validated entry under root. Symlinks must point
// inside root (resolved lexically from their own directory), and no entry is
// written through a symlink: parents are created fresh and files with
// O_EXCL, so an earlier symlink entry cannot redirect a later file.
func extractEntry(root, rel string, hdr *tar.Header, body io.Reader) error {
	target := filepath.Join(root, filepath.FromSlash(rel))
	dir := filepath.Dir(target)
	if err := mkdirNoSymlink(root, dir); err != nil {
		return fmt.Errorf("entry %q: %w", rel, err)
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		link := hdr.Linkname
		if link == "" || path.IsAbs(link) || strings.Contains(link, "\\") {
			return fmt.Errorf("symlink %q -> %q: %w: target must be relative", rel, link, ErrInvalid)
		}
		resolved := path.Join(path.Dir(rel), link)
		if resolved == ".." || strings.HasPrefix(resolved, "../") {
			return fmt.Errorf("symlink %q -> %q: %w: target is outside the export", rel, link, ErrInvalid)
		}
		return os.Symlink(link, target)
	default:
		mode := os.FileMode(0o644)
		if hdr.Mode&0o111 != 0 {
			mode = 0o755
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return fmt.Errorf("entry %q: %w", rel, err)
		}
		if _, err := io.Copy(f, body); err != nil {
			f.Close()
			return fmt.Errorf("entry %q: %w", rel, err)
		}
		return f.Close()
	}
}

// mkdirNoSymlink creates dir (under root) and refuses if any existing
// component below root is not a real directory.
func mkdirNoSymlink(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%w: %q is outside the export", ErrInvalid, dir)
	}
	if rel == "." {
		return nil
	}
	cur := root
	for _, seg := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, seg)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case !fi.IsDir():
			return fmt.Errorf("%w: %q is not a directory (a symlink cannot hold files)", ErrInvalid, cur)
		}
	}
	return nil
}
