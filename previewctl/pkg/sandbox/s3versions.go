package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"preview-environments/previewctl/pkg/sandbox/s3store"
)

// The real artifact bucket has versioning enabled, and infra/ relies on it:
// data.aws_s3_object's version_id must not be empty (a precondition says
// so), and the function's s3_object_version is what makes a new latest.zip
// redeploy it. gofakes3's bbolt backend keeps no versions, so s3Versioned
// gives each object a version ID derived from its ETag (the MD5 of its
// contents): it changes exactly when different bytes are uploaded under the
// key. The store still holds only the latest bytes, so a request for any
// other version is answered NoSuchVersion, as S3 answers for a version that
// was deleted. Unlike S3, re-uploading identical bytes keeps the version
// (the packager skips such uploads anyway).

// s3Versioned wraps the S3 stand-in's handler (mounted below /s3).
func s3Versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		var q url.Values
		if r.URL.RawQuery != "" {
			q = r.URL.Query()
		}
		if key == "" {
			if _, ok := q["versioning"]; ok && r.Method == http.MethodGet && bucket != "" {
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+
					`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`)
				return
			}
			next.ServeHTTP(w, r)
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
		if want := q.Get("versionId"); want != "" && r.Method != http.MethodPut {
			cur, err := objectVersion(r.Context(), next, bucket, key)
			if err != nil || cur != want {
				writeS3Error(w, r, http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
				return
			}
			// The backend has no versions to look up: it is the current one.
			q.Del("versionId")
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = q.Encode()
			r = r2
		}
		vw := &versionWriter{ResponseWriter: w}
		next.ServeHTTP(vw, r)
		if !vw.wrote {
			// A HEAD answer may write nothing; net/http would send 200.
			vw.WriteHeader(http.StatusOK)
		}
	})
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
