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
