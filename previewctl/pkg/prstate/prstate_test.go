package prstate_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/prstate"
	"preview-environments/previewctl/pkg/prstate/prstatetest"
)

func TestGitHubState(t *testing.T) {
	srv := prstatetest.New("/api/v3", "tok")
	srv.Set("acme", "shop", 1, "open")
	srv.Set("Acme", "Shop", 2, "closed")
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, tc := range []struct {
		name, token string
		n           int
		want        prstate.State
		err         error
		errText     string
	}{
		{"open", "tok", 1, prstate.Open, nil, ""},
		{"closed, names case-insensitive", "tok", 2, prstate.Closed, nil, ""},
		{"unknown PR", "tok", 3, "", prstate.ErrNotFound, ""},
		{"bad token", "nope", 1, "", nil, "401 Bad credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := prstate.NewClient(hs.URL, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			got, err := prstate.GitHub{Client: c}.State(context.Background(), "acme", "shop", tc.n)
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
			case tc.errText != "":
				if err == nil || errors.Is(err, prstate.ErrNotFound) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want %q", err, tc.errText)
				}
			default:
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
			}
		})
	}
}
