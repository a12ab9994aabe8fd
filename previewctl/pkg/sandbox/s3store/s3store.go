// Package s3store is the sandbox's S3 stand-in: gofakes3 (a real S3-protocol
// server) over a bbolt file, so artifacts survive a sandbox restart. The
// packager talks to it with the real aws-sdk-go-v2 client (path style, custom
// endpoint); the Lambda stand-in reads artifacts straight from the backend.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned (wrapped) by Get when the key is not in the bucket.
var ErrNotFound = errors.New("not found")

// Store is an S3-protocol server persisted in one file.
type Store struct {
	db      *bolt.DB
	backend *s3bolt.Backend
	handler http.Handler
}

// Open opens (or creates) the store at path and makes sure every bucket in
// buckets exists. A second sandbox on the same data directory fails here
// instead of hanging on the file lock.
func Open(path string, buckets ...string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open S3 store %s: locked by another process (is a sandbox already running on this data directory?)", path)
		}
		return nil, fmt.Errorf("open S3 store %s: %w", path, err)
	}
	backend := s3bolt.New(db)
	for _, b := range buckets {
		ok, err := backend.BucketExists(b)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("S3 store: check bucket %q: %w", b, err)
		}
		if !ok {
			if err := backend.CreateBucket(b); err != nil {
				db.Close()
				return nil, fmt.Errorf("S3 store: create bucket %q: %w", b, err)
			}
		}
	}
	fake := gofakes3.New(backend, gofakes3.WithoutVersioning())
	return &Store{db: db, backend: backend, handler: fake.Server()}, nil
}

// Handler serves the S3 protocol, path style (/<bucket>/<key>), at the root
// of whatever it is mounted on (mount it with http.StripPrefix).
func (s *Store) Handler() http.Handler { return s.handler }

// Get returns the object's contents, at most limit bytes; a larger object is
// an error rather than a silent truncation.
func (s *Store) Get(ctx context.Context, bucket, key string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) || gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	if obj.Size > limit {
		return nil, fmt.Errorf("s3://%s/%s is %d bytes, over the %d byte limit", bucket, key, obj.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(obj.Contents, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("s3://%s/%s is over the %d byte limit", bucket, key, limit)
	}
	return b, nil
}

// Put stores an object; tests and the control plane use it to seed artifacts
// without going through HTTP.
func (s *Store) Put(bucket, key string, body []byte) error {
	_, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }
