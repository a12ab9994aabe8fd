package spacelift

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

func TestDestroyStack(t *testing.T) {
	const interval = 10 * time.Millisecond
	tests := []struct {
		name string
		// finish ends the destroy from the side of the destroy run; nil
		// leaves the stack DELETING.
		finish  func(m *slapi.Memory, id string) error
		noStack bool
		timeout time.Duration
		cancel  bool
		wantErr string
	}{
		{name: "destroy finishes", finish: func(m *slapi.Memory, id string) error { return m.FinishDestroy(id, true) }},
		{name: "stack gone already", noStack: true},
		{name: "destroy fails", finish: func(m *slapi.Memory, id string) error { return m.FinishDestroy(id, false) },
			wantErr: "destroy of stack doomed failed: its state is now NONE"},
		{name: "timeout", timeout: 100 * time.Millisecond, wantErr: "timeouts.delete (100ms) expired"},
		{name: "cancelled", cancel: true, wantErr: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := slapi.NewMemory()
			m.SetToken("t", "")
			srv := httptest.NewServer(slapi.NewServer(m))
			defer srv.Close()
			c, err := slapi.NewClient(srv.URL, "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !tt.noStack {
				if _, err := m.CreateStack(ctx, slapi.StackSpec{Name: "doomed", Repository: "r", Branch: "main"}); err != nil {
					t.Fatal(err)
				}
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			// The destroy run ends (or the caller gives up) after the
			// provider has polled a few times.
			go func() {
				time.Sleep(5 * interval)
				if tt.cancel {
					cancel()
				}
				if tt.finish != nil {
					if err := tt.finish(m, "doomed"); err != nil {
						t.Error(err)
					}
				}
			}()
			start := time.Now()
			err = destroyStack(ctx, c, "doomed", timeout, interval)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("destroyStack: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("destroyStack: %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.name == "destroy finishes" {
				if time.Since(start) < 5*interval {
					t.Error("destroyStack returned before the destroy run finished")
				}
				if _, err := m.GetStack(context.Background(), "doomed"); !errors.Is(err, slapi.ErrNotFound) {
					t.Errorf("stack after destroy: %v", err)
				}
			}
			if tt.name == "timeout" && time.Since(start) > 5*time.Second {
				t.Error("the timeout did not stop the wait")
			}
		})
	}
}

func TestDeleteTimeout(t *testing.T) {
	if got := (destructorModel{}).deleteTimeout(); got != 2*time.Hour {
		t.Errorf("default timeouts.delete %s, want 2h (the real provider's)", got)
	}
}
