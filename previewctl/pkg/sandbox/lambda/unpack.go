package lambda

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Lambda's own limits: 50 MB zipped for a direct upload, 250 MB unzipped.
const (
	MaxZipBytes      = 50 << 20
	MaxUnzippedBytes = 250 << 20
	maxEntries       = 10000
)

// Unpack validates a function zip and writes it into dir, which must exist
// and be empty. It refuses, before writing anything, an archive that is not a
// zip, lacks a root-level regular file named bootstrap, has an entry that
// would land outside dir (absolute, "..", backslashes, symlinks), or is over
// the size caps. key names the artifact in errors.
func Unpack(data []byte, dir, key string) error {
	if len(data) > MaxZipBytes {
		return fmt.Errorf("artifact %s: %d bytes, over Lambda's %d byte zip limit", key, len(data), MaxZipBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("artifact %s is not a valid zip: %w", key, err)
	}
	if len(zr.File) > maxEntries {
		return fmt.Errorf("artifact %s: %d entries, over the %d limit", key, len(zr.File), maxEntries)
	}
	var total uint64
	hasBootstrap := false
	for _, f := range zr.File {
		name := f.Name
		if name == "" || strings.Contains(name, `\`) || strings.HasPrefix(name, "/") {
			return fmt.Errorf("artifact %s: entry %q has an unsafe path", key, name)
		}
		for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
			if part == ".." || part == "." || part == "" {
				return fmt.Errorf("artifact %s: entry %q has an unsafe path", key, name)
			}
		}
		mode := f.Mode()
		if mode&os.ModeSymlink != 0 || (!mode.IsRegular() && !mode.IsDir()) {
			return fmt.Errorf("artifact %s: entry %q is not a regular file or directory", key, name)
		}
		total += f.UncompressedSize64
		if total > MaxUnzippedBytes {
			return fmt.Errorf("artifact %s: over Lambda's %d byte unzipped limit", key, MaxUnzippedBytes)
		}
		if name == "bootstrap" && mode.IsRegular() {
			hasBootstrap = true
		}
	}
	if !hasBootstrap {
		return fmt.Errorf("artifact %s has no bootstrap file at its root (a provided.al2023 function needs one)", key)
	}
	var written int64
	for _, f := range zr.File {
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		if f.Mode().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("artifact %s: %w", key, err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("artifact %s: %w", key, err)
		}
		perm := os.FileMode(0o644)
		if f.Mode()&0o111 != 0 || f.Name == "bootstrap" {
			// Lambda runs bootstrap whatever its zip mode says.
			perm = 0o755
		}
		n, err := extract(f, target, perm, MaxUnzippedBytes-written)
		written += n
		if err != nil {
			return fmt.Errorf("artifact %s: entry %q: %w", key, f.Name, err)
		}
	}
	return nil
}

func extract(f *zip.File, target string, perm os.FileMode, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	// The header's size can lie; the budget holds whatever the stream says.
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > budget {
		err = fmt.Errorf("over the %d byte unzipped limit", MaxUnzippedBytes)
	}
	return n, err
}
