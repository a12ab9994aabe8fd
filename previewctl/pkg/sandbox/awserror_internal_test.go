package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAWSErrorLogLevel: an internal error is logged as an error, unless the
// request's caller went away (its context ended and the error is that
// ending): then it is an info line, since a tofu stopped mid-run or a
// shutdown under a run is not the control plane failing (and `sandbox up`'s
// test treats any error line as a failure).
func TestAWSErrorLogLevel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cancel bool
		err    error
		level  string
	}{
		{"a store failure", false, errors.New("disk I/O error"), "level=ERROR"},
		{"the caller went away", true, fmt.Errorf("delete method: %w", context.Canceled), "level=INFO"},
		{"cancelled, but another error", true, errors.New("disk I/O error"), "level=ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &Sandbox{log: slog.New(slog.NewTextHandler(&log, nil))}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			r := httptest.NewRequest(http.MethodDelete, "/aws/apigateway/restapis/x", nil).WithContext(ctx)
			w := httptest.NewRecorder()
			s.writeAWSError(w, r, tc.err, "ServiceException")
			if !strings.Contains(log.String(), tc.level) || w.Code != http.StatusInternalServerError {
				t.Fatalf("logged %q, answered %d; want %s and 500", log.String(), w.Code, tc.level)
			}
		})
	}
}
