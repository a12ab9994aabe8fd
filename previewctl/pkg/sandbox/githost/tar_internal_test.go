package githost

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

type entry struct {
	name, link string
	typ        byte
}

func tarOf(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link}
		if e.typ == tar.TypeReg {
			hdr.Size = 1
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte("x"))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// git archive never emits these (it refuses such trees), but a hostile
// repository pushed over smart HTTP is not git's to vouch for.
func TestExtractRefusesEscapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prefix  string
		entries []entry
	}{
		{"dot-dot", "", []entry{{name: "../evil", typ: tar.TypeReg}}},
		{"nested dot-dot", "", []entry{{name: "a/../../evil", typ: tar.TypeReg}}},
		{"absolute", "", []entry{{name: "/tmp/evil", typ: tar.TypeReg}}},
		{"outside the prefix", "infra", []entry{{name: "service/x", typ: tar.TypeReg}}},
		{"absolute symlink", "", []entry{{name: "l", link: "/etc", typ: tar.TypeSymlink}}},
		{"symlink up", "", []entry{{name: "a/l", link: "../../x", typ: tar.TypeSymlink}}},
		{"file through a symlink", "", []entry{
			{name: "d", link: "sub", typ: tar.TypeSymlink},
			{name: "d/x", typ: tar.TypeReg},
		}},
		{"same file twice", "", []entry{{name: "f", typ: tar.TypeReg}, {name: "f", typ: tar.TypeReg}}},
		{"hard link", "", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dest := filepath.Join(root, "x")
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			err := readTar(bytes.NewReader(tarOf(t, tc.entries)), tc.prefix, func(rel string, hdr *tar.Header, body io.Reader) error {
				return extractEntry(dest, rel, hdr, body)
			})
			if err == nil {
				t.Fatal("extraction succeeded")
			}
			if _, err := os.Lstat(filepath.Join(root, "evil")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file escaped: %v", err)
			}
		})
	}
}

// FuzzExtract: whatever names and link targets an archive holds, extraction
// either fails or writes only inside its root.
func FuzzExtract(f *testing.F) {
	for _, s := range [][3]string{
		{"a/b", "", "f"}, {"../x", "", "f"}, {"l", "../../x", "l"}, {"d", "sub", "l"},
		{"a/l", "../b", "l"}, {"/abs", "", "f"}, {"a//b", "", "f"}, {".git/config", "", "f"},
	} {
		f.Add(s[0], s[1], s[2] == "l", "d/x")
	}
	f.Fuzz(func(t *testing.T, name, link string, symlink bool, second string) {
		root := t.TempDir()
		dest := filepath.Join(root, "x")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		typ := byte(tar.TypeReg)
		if symlink {
			typ = tar.TypeSymlink
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range []entry{{name: name, link: link, typ: typ}, {name: second, typ: tar.TypeReg}} {
			hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link}
			if e.typ == tar.TypeReg {
				hdr.Size = 1
			}
			if tw.WriteHeader(hdr) != nil {
				return
			}
			if e.typ == tar.TypeReg {
				tw.Write([]byte("x"))
			}
		}
		tw.Close()
		_ = readTar(bytes.NewReader(buf.Bytes()), "", func(rel string, hdr *tar.Header, body io.Reader) error {
			return extractEntry(dest, rel, hdr, body)
		})
		entries, _ := os.ReadDir(root)
		if len(entries) != 1 {
			t.Fatalf("something was written next to the export root: %v", entries)
		}
		filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.Type()&os.ModeSymlink == 0 {
				return err
			}
			target, _ := os.Readlink(p)
			resolved := filepath.Join(filepath.Dir(p), target)
			if rel, err := filepath.Rel(dest, resolved); err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
				t.Fatalf("symlink %s -> %s points outside the export", p, target)
			}
			return nil
		})
	})
}
