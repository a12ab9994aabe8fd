package s3store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestStorePersistsAndRefuses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s3.bolt")
	s, err := Open(path, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("b", "k.zip", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// A second opener of the same file (another sandbox) fails, not hangs.
	if _, err := Open(path, "b"); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open = %v; want a lock error", err)
	}
	s.Close()

	s, err = Open(path, "b")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		bucket, key string
		limit       int64
		want        string
		err         string
		notFound    bool
	}{
		{"b", "k.zip", 100, "hello", "", false},
		{"b", "missing.zip", 100, "", "not found", true},
		{"nobucket", "k.zip", 100, "", "not found", true},
		{"b", "k.zip", 3, "", "over the 3 byte limit", false},
	} {
		got, err := s.Get(ctx, tc.bucket, tc.key, tc.limit)
		if tc.err == "" {
			if err != nil || string(got) != tc.want {
				t.Errorf("Get(%s/%s) = %q, %v; want %q", tc.bucket, tc.key, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || errors.Is(err, ErrNotFound) != tc.notFound || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("Get(%s/%s) = %v; want an error naming the key containing %q (not found: %v)", tc.bucket, tc.key, err, tc.err, tc.notFound)
		}
	}
}
