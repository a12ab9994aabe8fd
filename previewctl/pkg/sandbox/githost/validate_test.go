package githost_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		what, input string
		check       func(string) error
		ok          bool
	}{
		{"path", "manager/hello-service/environments/a-b-1-0123abcd.tf", githost.ValidatePath, true},
		{"path", "../etc/passwd", githost.ValidatePath, false},
		{"path", "a/../b", githost.ValidatePath, false},
		{"path", "/abs", githost.ValidatePath, false},
		{"path", "a//b", githost.ValidatePath, false},
		{"path", "a/.git/config", githost.ValidatePath, false},
		{"path", "a/.GIT/hooks/x", githost.ValidatePath, false},
		{"path", "new\nline", githost.ValidatePath, false},
		{"path", `back\slash`, githost.ValidatePath, false},
		{"path", "", githost.ValidatePath, false},
		{"branch", "feature/x-1", githost.ValidateBranch, true},
		{"branch", "-rf", githost.ValidateBranch, false},
		{"branch", "a..b", githost.ValidateBranch, false},
		{"branch", "x${var.y}", githost.ValidateBranch, false},
		{"branch", `a"b`, githost.ValidateBranch, false},
		{"branch", "a.lock", githost.ValidateBranch, false},
		{"branch", "a b", githost.ValidateBranch, false},
	} {
		t.Run(fmt.Sprintf("%s %q", tc.what, tc.input), func(t *testing.T) {
			err := tc.check(tc.input)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, githost.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if tc.input != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.input)) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}

// TestSlowSubscriber: a subscriber that does not read holds up neither
// commits nor other subscribers, and later gets every event in order.
func TestSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	seedRepo(t, f)
	release := make(chan struct{})
	slow := make(chan githost.Event, 100)
	unsub := f.host.Subscribe(func(e githost.Event) {
		<-release
		slow <- e
	})
	defer unsub()
	const n = 20
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := f.host.CommitFiles(ctx, owner, repo, "main", "", map[string][]byte{"f": fmt.Appendf(nil, "%d", i)}, "c"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("commits blocked behind a slow subscriber")
	}
	fast := f.events(t, n) // the fixture's own subscriber kept up
	close(release)
	for i := range n {
		select {
		case e := <-slow:
			if e.Seq != fast[i].Seq || e.Push.After != fast[i].Push.After {
				t.Fatalf("slow event %d = seq %d, want seq %d", i, e.Seq, fast[i].Seq)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("slow subscriber got %d of %d events", i, n)
		}
	}
}
