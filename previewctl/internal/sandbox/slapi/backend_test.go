package slapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// api is a Backend without authentication: what both a Memory and a Client
// (through the server) offer. Every semantic test runs against both, so the
// server and client preserve what the Backend says, errors included.
type api interface {
	CreateStack(context.Context, StackSpec) (Stack, error)
	GetStack(context.Context, string) (Stack, error)
	UpdateStack(context.Context, string, StackSpec) (Stack, error)
	DeleteStack(context.Context, string, bool) (Stack, error)
	PutEnvVar(context.Context, string, string, EnvVarSpec) (EnvVar, error)
	GetEnvVar(context.Context, string, string) (EnvVar, error)
	DeleteEnvVar(context.Context, string, string) error
	CreatePolicy(context.Context, PolicySpec) (Policy, error)
	GetPolicy(context.Context, string) (Policy, error)
	UpdatePolicy(context.Context, string, PolicySpec) (Policy, error)
	DeletePolicy(context.Context, string) error
	AttachPolicy(context.Context, string, string) (Attachment, error)
	GetPolicyAttachment(context.Context, string, string) (Attachment, error)
	DetachPolicy(context.Context, string, string) error
	CreateAWSIntegration(context.Context, AWSIntegrationSpec) (AWSIntegration, error)
	GetAWSIntegration(context.Context, string) (AWSIntegration, error)
	AttachAWSIntegration(context.Context, string, AWSAttachmentSpec) (AWSAttachment, error)
	GetAWSAttachment(context.Context, string, string) (AWSAttachment, error)
	UpdateAWSAttachment(context.Context, string, AWSAttachmentSpec) (AWSAttachment, error)
	Role(context.Context, string, string) (Role, error)
	CreateRoleAttachment(context.Context, RoleAttachmentSpec) (RoleAttachment, error)
	GetRoleAttachment(context.Context, string) (RoleAttachment, error)
	CreateStackDependency(context.Context, string, StackDependencySpec) (StackDependency, error)
	GetStackDependency(context.Context, string, string) (StackDependency, error)
	DeleteStackDependency(context.Context, string, string) error
	AddReference(context.Context, string, string, ReferenceSpec) (Reference, error)
	GetReference(context.Context, string, string, string) (Reference, error)
	UpdateReference(context.Context, string, string, string, ReferenceSpec) (Reference, error)
	DeleteReference(context.Context, string, string, string) error
}

var (
	_ api = (*Memory)(nil)
	_ api = (*Client)(nil)
)

func forEachTarget(t *testing.T, test func(t *testing.T, a api, m *Memory)) {
	t.Run("memory", func(t *testing.T) {
		test(t, NewMemory(), nil)
	})
	t.Run("client", func(t *testing.T) {
		m := NewMemory()
		m.SetToken(testToken, managerStack)
		srv := httptest.NewServer(NewServer(m))
		t.Cleanup(srv.Close)
		c, err := NewClient(srv.URL+"/", testToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		test(t, c, m)
	})
}

func mustStack(t *testing.T, a api, spec StackSpec) Stack {
	t.Helper()
	st, err := a.CreateStack(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateStack(%q): %v", spec.Name, err)
	}
	return st
}

func TestStacks(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, _ *Memory) {
		ctx := context.Background()
		st := mustStack(t, a, StackSpec{Name: "Hello Service 1a2b3c4d", Repository: "r", Branch: "main", Labels: []string{"b", "a"}})
		if st.ID != "hello-service-1a2b3c4d" || st.Slug != st.ID || st.SpaceID != "root" || st.State != StateNone {
			t.Errorf("created %+v: want ID and slug hello-service-1a2b3c4d, space root, state NONE", st)
		}

		_, err := a.CreateStack(ctx, StackSpec{Name: "hello service 1A2B3C4D", Repository: "other", Branch: "b"})
		var conflict *ConflictError
		if !errors.Is(err, ErrConflict) || !errors.As(err, &conflict) {
			t.Fatalf("duplicate slug: err %v, want a *ConflictError", err)
		}
		if conflict.Existing.ID != st.ID || conflict.Existing.Repository != "r" {
			t.Errorf("conflict carries %+v, want the existing stack", conflict.Existing)
		}

		explicit := mustStack(t, a, StackSpec{Name: "Hello Service 1a2b3c4d", Slug: "custom", Repository: "r", Branch: "main"})
		if explicit.ID != "custom" {
			t.Errorf("explicit slug: ID %q, want custom", explicit.ID)
		}
		if _, err := a.CreateStack(ctx, StackSpec{Name: "x", Slug: "Not A Slug", Repository: "r", Branch: "main"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("invalid slug: err %v, want ErrInvalid", err)
		}

		up, err := a.UpdateStack(ctx, st.ID, StackSpec{Name: "Renamed", Repository: "r", Branch: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		if up.ID != st.ID || up.Name != "Renamed" || up.Branch != "dev" {
			t.Errorf("update: %+v, want the same ID with the new name and branch", up)
		}
		if _, err := a.GetStack(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetStack(nope): %v, want ErrNotFound", err)
		}
	})
}

func TestEnvVars(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, _ *Memory) {
		ctx := context.Background()
		st := mustStack(t, a, StackSpec{Name: "env", Repository: "r", Branch: "main"})
		tests := []struct {
			name, value string
			writeOnly   bool
			wantValue   string
		}{
			{"TF_VAR_code_version", "latest", false, "latest"},
			{"SECRET", "s3cret", true, ""},
			{"EMPTY", "", false, ""},
		}
		for _, tt := range tests {
			put, err := a.PutEnvVar(ctx, st.ID, tt.name, EnvVarSpec{Value: tt.value, WriteOnly: tt.writeOnly})
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.GetEnvVar(ctx, st.ID, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []EnvVar{put, got} {
				if v.Value != tt.wantValue || v.Checksum != Checksum(tt.value) || v.WriteOnly != tt.writeOnly || v.StackID != st.ID || v.Name != tt.name {
					t.Errorf("%s: %+v, want value %q and the checksum of %q", tt.name, v, tt.wantValue, tt.value)
				}
			}
		}
		// printf latest | sha256sum
		if got := Checksum("latest"); got != "5e1e2bcac305958b27077ca136f35f0abae7cf38c9af678f7d220ed0cb51d4f8" {
			t.Errorf("Checksum(latest) = %s, want the hex SHA-256", got)
		}
		// Overwriting is a PUT, not a conflict.
		if _, err := a.PutEnvVar(ctx, st.ID, "TF_VAR_code_version", EnvVarSpec{Value: "abc"}); err != nil {
			t.Errorf("overwrite: %v", err)
		}
		if err := a.DeleteEnvVar(ctx, st.ID, "EMPTY"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.GetEnvVar(ctx, st.ID, "EMPTY"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted variable: %v, want ErrNotFound", err)
		}
		if _, err := a.PutEnvVar(ctx, "nope", "X", EnvVarSpec{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("variable of a missing stack: %v, want ErrNotFound", err)
		}
	})
}

func TestPolicies(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, _ *Memory) {
		ctx := context.Background()
		st := mustStack(t, a, StackSpec{Name: "s", Repository: "r", Branch: "main"})
		p, err := a.CreatePolicy(ctx, PolicySpec{Name: "Hello Service: push", Type: "GIT_PUSH", Body: "package spacelift"})
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != "hello-service-push" || p.EngineType != "REGO_V0" || p.SpaceID != "root" {
			t.Errorf("created %+v: want ID hello-service-push, REGO_V0, root", p)
		}
		if _, err := a.CreatePolicy(ctx, PolicySpec{Name: "hello service push", Type: "GIT_PUSH", Body: "b"}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate policy: %v, want ErrConflict", err)
		}
		if _, err := a.UpdatePolicy(ctx, p.ID, PolicySpec{Name: p.Name, Type: "TRIGGER", Body: "b"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("type change: %v, want ErrInvalid", err)
		}
		if up, err := a.UpdatePolicy(ctx, p.ID, PolicySpec{Name: "renamed", Type: "GIT_PUSH", Body: "b2", EngineType: "REGO_V1"}); err != nil || up.ID != p.ID || up.Body != "b2" || up.EngineType != "REGO_V1" {
			t.Errorf("update: %+v, %v", up, err)
		}
		att, err := a.AttachPolicy(ctx, p.ID, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if att.ID != p.ID+"/"+st.ID {
			t.Errorf("attachment ID %q, want %s/%s", att.ID, p.ID, st.ID)
		}
		if _, err := a.AttachPolicy(ctx, p.ID, st.ID); !errors.Is(err, ErrConflict) {
			t.Errorf("second attachment: %v, want ErrConflict", err)
		}
		if _, err := a.AttachPolicy(ctx, "nope", st.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("attach a missing policy: %v, want ErrNotFound", err)
		}
		login, err := a.CreatePolicy(ctx, PolicySpec{Name: "login", Type: "LOGIN", Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.AttachPolicy(ctx, login.ID, st.ID); !errors.Is(err, ErrInvalid) {
			t.Errorf("attach a LOGIN policy: %v, want ErrInvalid", err)
		}
		if err := a.DeletePolicy(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.GetPolicyAttachment(ctx, p.ID, st.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("attachment of a deleted policy: %v, want ErrNotFound", err)
		}
	})
}

func TestDeleteStackTakesItsChildren(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, _ *Memory) {
		ctx := context.Background()
		st := mustStack(t, a, StackSpec{Name: "s", Repository: "r", Branch: "main"})
		if _, err := a.PutEnvVar(ctx, st.ID, "A", EnvVarSpec{Value: "1"}); err != nil {
			t.Fatal(err)
		}
		p, _ := a.CreatePolicy(ctx, PolicySpec{Name: "p", Type: "TRIGGER", Body: "b"})
		if _, err := a.AttachPolicy(ctx, p.ID, st.ID); err != nil {
			t.Fatal(err)
		}
		i, err := a.CreateAWSIntegration(ctx, AWSIntegrationSpec{Name: "aws", RoleARN: "arn:aws:iam::1:role/r"})
		if err != nil {
			t.Fatal(err)
		}
		if len(i.ID) != 26 {
			t.Errorf("integration ID %q is not ULID-shaped", i.ID)
		}
		aa, err := a.AttachAWSIntegration(ctx, i.ID, AWSAttachmentSpec{StackID: st.ID, Read: true})
		if err != nil {
			t.Fatal(err)
		}
		if aa.ID != i.ID+"/"+st.ID || aa.AttachmentID == "" || !aa.Read || aa.Write {
			t.Errorf("aws attachment %+v", aa)
		}
		if _, err := a.AttachAWSIntegration(ctx, i.ID, AWSAttachmentSpec{StackID: st.ID}); !errors.Is(err, ErrConflict) {
			t.Errorf("second aws attachment: %v, want ErrConflict", err)
		}
		if up, err := a.UpdateAWSAttachment(ctx, i.ID, AWSAttachmentSpec{StackID: st.ID, Read: true, Write: true}); err != nil || !up.Write {
			t.Errorf("update aws attachment: %+v, %v", up, err)
		}
		role, err := a.Role(ctx, "Space admin", "")
		if err != nil {
			t.Fatal(err)
		}
		ra, err := a.CreateRoleAttachment(ctx, RoleAttachmentSpec{RoleID: role.ID, SpaceID: "root", StackID: st.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateRoleAttachment(ctx, RoleAttachmentSpec{RoleID: "nope", SpaceID: "root", StackID: st.ID}); !errors.Is(err, ErrNotFound) {
			t.Errorf("attach a missing role: %v, want ErrNotFound", err)
		}

		if _, err := a.DeleteStack(ctx, st.ID, false); err != nil {
			t.Fatal(err)
		}
		checks := map[string]error{}
		_, checks["stack"] = a.GetStack(ctx, st.ID)
		_, checks["env var"] = a.GetEnvVar(ctx, st.ID, "A")
		_, checks["policy attachment"] = a.GetPolicyAttachment(ctx, p.ID, st.ID)
		_, checks["aws attachment"] = a.GetAWSAttachment(ctx, i.ID, st.ID)
		_, checks["role attachment"] = a.GetRoleAttachment(ctx, ra.ID)
		for what, err := range checks {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s after the stack's deletion: %v, want ErrNotFound", what, err)
			}
		}
		// The policy and the integration are not the stack's: they stay.
		if _, err := a.GetPolicy(ctx, p.ID); err != nil {
			t.Errorf("policy after the stack's deletion: %v", err)
		}
		if _, err := a.GetAWSIntegration(ctx, i.ID); err != nil {
			t.Errorf("integration after the stack's deletion: %v", err)
		}
		if _, err := a.DeleteStack(ctx, st.ID, false); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
	})
}

func TestDestroy(t *testing.T) {
	forEachTarget(t, func(t *testing.T, a api, m *Memory) {
		if m == nil {
			m = a.(*Memory)
		}
		ctx := context.Background()
		for _, ok := range []bool{false, true} {
			st := mustStack(t, a, StackSpec{Name: "destroy me", Repository: "r", Branch: "main"})
			if _, err := a.PutEnvVar(ctx, st.ID, "A", EnvVarSpec{}); err != nil {
				t.Fatal(err)
			}
			del, err := a.DeleteStack(ctx, st.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if del.State != StateDeleting || del.ID != st.ID {
				t.Fatalf("destroy answered %+v, want the stack in DELETING", del)
			}
			again, err := a.DeleteStack(ctx, st.ID, true)
			if err != nil || again.State != StateDeleting {
				t.Errorf("second destroy: %+v, %v; want DELETING again", again, err)
			}
			if _, err := a.DeleteStack(ctx, st.ID, false); !errors.Is(err, ErrConflict) {
				t.Errorf("plain delete while destroying: %v, want ErrConflict", err)
			}
			// What the destroy run needs is still there while it runs.
			if _, err := a.GetEnvVar(ctx, st.ID, "A"); err != nil {
				t.Errorf("env var while destroying: %v", err)
			}
			if err := m.FinishDestroy(st.ID, ok); err != nil {
				t.Fatal(err)
			}
			got, err := a.GetStack(ctx, st.ID)
			switch {
			case ok && !errors.Is(err, ErrNotFound):
				t.Errorf("after a finished destroy: %+v, %v; want ErrNotFound", got, err)
			case !ok && (err != nil || got.State != StateNone):
				t.Errorf("after a failed destroy: %+v, %v; want the stack back in NONE", got, err)
			}
			if !ok {
				if _, err := a.DeleteStack(ctx, st.ID, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		protected := mustStack(t, a, StackSpec{Name: "keep", Repository: "r", Branch: "main", ProtectFromDeletion: true})
		if _, err := a.DeleteStack(ctx, protected.ID, true); !errors.Is(err, ErrInvalid) {
			t.Errorf("destroy a protected stack: %v, want ErrInvalid", err)
		}
	})
}

func TestMemoryDestroyDelay(t *testing.T) {
	m := NewMemory()
	m.DestroyDelay = 20 * time.Millisecond
	ctx := context.Background()
	st, err := m.CreateStack(ctx, StackSpec{Name: "s", Repository: "r", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DeleteStack(ctx, st.ID, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := m.GetStack(ctx, st.ID); errors.Is(err, ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the destroy never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	log := strings.Join(m.Log(), "\n")
	if !strings.Contains(log, "destroy stack s queued with 0 env vars") || !strings.Contains(log, "destroy stack s finished") {
		t.Errorf("log:\n%s", log)
	}
}

func TestClientErrors(t *testing.T) {
	_, srv := newTestServer(t)
	ctx := context.Background()
	bad, err := NewClient(srv.URL, "wrong", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.CurrentStack(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}
	c, _ := NewClient(srv.URL, testToken, nil)
	cur, err := c.CurrentStack(ctx)
	if err != nil || cur.ID != managerStack {
		t.Errorf("CurrentStack: %+v, %v", cur, err)
	}
	_, err = c.GetStack(ctx, "nope")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Path != "/stacks/nope" || !strings.Contains(err.Error(), "GET /stacks/nope: 404") {
		t.Errorf("GetStack(nope): %v, want an *APIError naming the call and 404", err)
	}
	if _, err := c.CreateStack(ctx, StackSpec{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty spec: %v, want ErrInvalid", err)
	}
	// A path segment that needs escaping stays one segment.
	if _, err := c.GetEnvVar(ctx, "a/b", "c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("escaped ID: %v, want ErrNotFound", err)
	}

	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.GetStack(ctxDone, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := NewClient(u, "t", nil); err == nil {
			t.Errorf("NewClient(%q) accepted", u)
		}
	}
	if _, err := NewClient(srv.URL, "", nil); err == nil {
		t.Error("NewClient accepted an empty token")
	}
}
