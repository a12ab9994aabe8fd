package waitfor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// versionServer answers like the hello service: 502 while the environment
// is not up, then the old version, then from attempt switchAt on the new one.
func versionServer(t *testing.T, downUntil, switchAt int64, oldV, newV string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch {
		case i <= downUntil:
			http.Error(w, `{"message":"Internal server error"}`, http.StatusBadGateway)
		case i < switchAt:
			fmt.Fprintf(w, "%s: Hello world", oldV)
		default:
			fmt.Fprintf(w, "%s: Hello world", newV)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestVersion(t *testing.T) {
	oldV := strings.Repeat("a", 40)
	newV := strings.Repeat("b", 40)
	for _, tc := range []struct {
		name              string
		down, switchAt    int64
		timeout           time.Duration
		wantErr           bool
		wantAttempts      int64
		wantLastSubstring string
	}{
		{"switches midway", 1, 4, 5 * time.Second, false, 4, newV},
		{"already serving", 0, 1, 5 * time.Second, false, 1, newV},
		{"never switches", 0, 1 << 40, 150 * time.Millisecond, true, 0, oldV},
		{"never up", 1 << 40, 1 << 40, 150 * time.Millisecond, true, 0, "Internal server error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := versionServer(t, tc.down, tc.switchAt, oldV, newV)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			var progress bytes.Buffer
			last, err := Version(ctx, Options{URL: srv.URL, Expect: newV, Interval: 10 * time.Millisecond, Progress: &progress})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr && !errors.Is(err, ErrTimeout) {
				t.Errorf("err = %v, want ErrTimeout", err)
			}
			if tc.wantAttempts > 0 && hits.Load() != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", hits.Load(), tc.wantAttempts)
			}
			if !strings.Contains(last.Body, tc.wantLastSubstring) {
				t.Errorf("last body %q lacks %q", last.Body, tc.wantLastSubstring)
			}
			// One line per answered attempt; the server may also have seen
			// an attempt that the deadline then cut short.
			lines := strings.Count(progress.String(), "\n")
			if n := hits.Load(); int64(lines) != n && !(tc.wantErr && int64(lines) == n-1) {
				t.Errorf("%d progress lines for %d attempts:\n%s", lines, hits.Load(), progress.String())
			}
		})
	}
}

func TestVersionTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	last, err := Version(ctx, Options{URL: url, Expect: "x", Interval: 10 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || last.Err == nil {
		t.Fatalf("err = %v, last = %+v", err, last)
	}
}
