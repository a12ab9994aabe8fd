package sandbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"preview-environments/previewctl/pkg/sandbox/s3store"
)

// Versioning is per bucket, as on S3. A bucket starts unversioned; PUT
// ?versioning enables (or suspends) it; the sandbox's artifact bucket is
// created versioned, because the real one must be and infra/ relies on it:
// data.aws_s3_object's version_id must not be empty (a precondition says
// so), and the function's s3_object_version is what makes a new latest.zip
// redeploy it. An unversioned bucket's objects have no version ID (the aws
// provider's version_id is ""), as on S3.
//
// gofakes3's bbolt backend keeps no versions, so in a versioned bucket
// s3Versioned gives each object a version ID derived from its ETag (the MD5
// of its contents): it changes exactly when different bytes are uploaded
// under the key. The store still holds only the latest bytes, so a request
// for any other version is answered NoSuchVersion, as S3 answers for a
// version that was deleted. Unlike S3, re-uploading identical bytes keeps
// the version (the packager skips such uploads anyway), and a suspended
// bucket's objects report no version ID rather than "null".

// Versioning statuses, as S3 names them; a bucket never versioned has none.
const (
	versioningEnabled   = "Enabled"
	versioningSuspended = "Suspended"
)

// bucketVersioning is each bucket's versioning status, kept in the
// sandbox's database so that it survives a restart, and cached: every
// object request reads it.
type bucketVersioning struct {
	db     *sql.DB
	mu     sync.RWMutex
	status map[string]string
}

func openBucketVersioning(ctx context.Context, db *sql.DB, versioned ...string) (*bucketVersioning, error) {
	v := &bucketVersioning{db: db, status: map[string]string{}}
	for _, b := range versioned {
		if _, err := db.ExecContext(ctx, `INSERT INTO s3_bucket_versioning (bucket, status) VALUES (?, ?) ON CONFLICT (bucket) DO NOTHING`, b, versioningEnabled); err != nil {
			return nil, fmt.Errorf("S3 versioning of %s: %w", b, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT bucket, status FROM s3_bucket_versioning`)
	if err != nil {
		return nil, fmt.Errorf("S3 versioning: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, st string
		if err := rows.Scan(&b, &st); err != nil {
			return nil, fmt.Errorf("S3 versioning: %w", err)
		}
		v.status[b] = st
	}
	return v, rows.Err()
}

func (v *bucketVersioning) get(bucket string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status[bucket]
}

func (v *bucketVersioning) set(ctx context.Context, bucket, status string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.db.ExecContext(ctx, `INSERT INTO s3_bucket_versioning (bucket, status) VALUES (?, ?)
		ON CONFLICT (bucket) DO UPDATE SET status = excluded.status`, bucket, status); err != nil {
		return fmt.Errorf("S3 versioning of %s: %w", bucket, err)
	}
	v.status[bucket] = status
	return nil
}

// drop forgets a deleted bucket's status: a new bucket of the same name
// starts unversioned.
func (v *bucketVersioning) drop(ctx context.Context, bucket string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.db.ExecContext(ctx, `DELETE FROM s3_bucket_versioning WHERE bucket = ?`, bucket); err != nil {
		return fmt.Errorf("S3 versioning of %s: %w", bucket, err)
	}
	delete(v.status, bucket)
	return nil
}

// s3Versioned wraps the S3 stand-in's handler (mounted below /s3).
func s3Versioned(next http.Handler, vers *bucketVersioning, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		var q url.Values
		if r.URL.RawQuery != "" {
			q = r.URL.Query()
		}
		if key == "" {
			serveBucket(w, r, q, bucket, next, vers, log)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut:
			if _, part := q["uploadId"]; part {
				// A part's ETag is not the object's.
				next.ServeHTTP(w, r)
				return
			}
		default:
			next.ServeHTTP(w, r)
			return
		}
		versioned := vers.get(bucket) == versioningEnabled
		if want := q.Get("versionId"); want != "" && r.Method != http.MethodPut {
			if !versioned && want != "null" {
				// S3's answer for a version ID an unversioned bucket cannot have.
				writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
				return
			}
			if versioned {
				cur, err := objectVersion(r.Context(), next, bucket, key)
				if err != nil || cur != want {
					writeS3Error(w, r, http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
					return
				}
			}
			// The backend has no versions to look up: it is the current one.
			q.Del("versionId")
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = q.Encode()
			r = r2
		}
		if !versioned {
			next.ServeHTTP(w, r)
			return
		}
		vw := &versionWriter{ResponseWriter: w}
		next.ServeHTTP(vw, r)
		if !vw.wrote {
			// A HEAD answer may write nothing; net/http would send 200.
			vw.WriteHeader(http.StatusOK)
		}
	})
}

// serveBucket answers the bucket-level requests: GET and PUT ?versioning
// here, a deleted bucket's status forgotten, the rest by the backend.
func serveBucket(w http.ResponseWriter, r *http.Request, q url.Values, bucket string, next http.Handler, vers *bucketVersioning, log *slog.Logger) {
	if _, ok := q["versioning"]; !ok || bucket == "" {
		if r.Method != http.MethodDelete || bucket == "" {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == http.StatusNoContent || sw.code == http.StatusOK {
			if err := vers.drop(r.Context(), bucket); err != nil {
				// The bucket is gone; a stale status only matters if
				// the name is created again.
				log.Warn("S3 stand-in: forget versioning of a deleted bucket", "bucket", bucket, "err", err)
			}
		}
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPut:
	default:
		writeS3Error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	if !bucketExists(r.Context(), next, bucket) {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/xml")
		status := ""
		if st := vers.get(bucket); st != "" {
			status = "<Status>" + st + "</Status>"
		}
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+
			`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+status+`</VersioningConfiguration>`)
		return
	}
	var cfg struct {
		Status    string `xml:"Status"`
		MfaDelete string `xml:"MfaDelete"`
	}
	if err := xml.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&cfg); err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		return
	}
	switch {
	case cfg.Status != versioningEnabled && cfg.Status != versioningSuspended:
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		return
	case cfg.MfaDelete == "Enabled":
		writeS3Error(w, r, http.StatusBadRequest, "InvalidRequest", "MFA delete is not supported by the sandbox's S3 stand-in")
		return
	}
	if err := vers.set(r.Context(), bucket, cfg.Status); err != nil {
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// bucketExists asks the S3 handler, in process, for the bucket.
func bucketExists(ctx context.Context, s3 http.Handler, bucket string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "/", nil)
	if err != nil {
		return false
	}
	req.URL.Path = "/" + bucket
	rec := &headRecorder{header: http.Header{}}
	s3.ServeHTTP(rec, req)
	return rec.code == 0 || rec.code == http.StatusOK
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// versionFromETag is the object version ID for an ETag: 32 hex characters,
// the length of S3's own IDs.
func versionFromETag(etag string) string {
	sum := sha256.Sum256([]byte("s3-version:" + strings.Trim(etag, `"`)))
	return hex.EncodeToString(sum[:16])
}

// versionWriter adds x-amz-version-id to answers that carry an object's ETag.
type versionWriter struct {
	http.ResponseWriter
	wrote bool
}

func (v *versionWriter) WriteHeader(code int) {
	if !v.wrote {
		v.wrote = true
		h := v.Header()
		if etag := h.Get("ETag"); etag != "" && (code < 300 || code == http.StatusNotModified) {
			h.Set("x-amz-version-id", versionFromETag(etag))
		}
	}
	v.ResponseWriter.WriteHeader(code)
}

func (v *versionWriter) Write(b []byte) (int, error) {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
	return v.ResponseWriter.Write(b)
}

// objectVersion asks the S3 handler (in process, without the versioning
// wrapper) for the current version of bucket/key.
func objectVersion(ctx context.Context, s3 http.Handler, bucket, key string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "/", nil)
	if err != nil {
		return "", err
	}
	req.URL.Path = "/" + bucket + "/" + key
	rec := &headRecorder{header: http.Header{}}
	s3.ServeHTTP(rec, req)
	switch {
	case rec.code == http.StatusNotFound:
		return "", fmt.Errorf("s3://%s/%s: %w", bucket, key, s3store.ErrNotFound)
	case rec.code != 0 && rec.code != http.StatusOK:
		return "", fmt.Errorf("head s3://%s/%s: status %d", bucket, key, rec.code)
	}
	etag := rec.header.Get("ETag")
	if etag == "" {
		return "", fmt.Errorf("head s3://%s/%s: no ETag", bucket, key)
	}
	return versionFromETag(etag), nil
}

type headRecorder struct {
	header http.Header
	code   int
}

func (h *headRecorder) Header() http.Header { return h.header }
func (h *headRecorder) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}
func (h *headRecorder) Write(b []byte) (int, error) {
	if h.code == 0 {
		h.code = http.StatusOK
	}
	return len(b), nil
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}
