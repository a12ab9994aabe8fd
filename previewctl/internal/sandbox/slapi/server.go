package slapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MaxBodyBytes bounds every request body: the largest legitimate one is a
// policy's Rego source, which is a few kilobytes.
const MaxBodyBytes = 1 << 20

type stackIDKey struct{}

// NewServer serves the routes documented in the package comment at the root
// of its URL space; mount it under /spacelift with http.StripPrefix. Every
// request is authenticated with b.StackForToken first, so an unknown token is
// 401 even on a route that does not exist.
func NewServer(b Backend) http.Handler {
	s := &server{b: b, mux: http.NewServeMux()}
	s.routes()
	return s
}

type server struct {
	b   Backend
	mux *http.ServeMux
}

// handler is a route's logic: the status and body of a success, or an error
// that writeError maps to a status.
type handler func(r *http.Request) (int, any, error)

func (s *server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, status, body)
	})
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, fmt.Errorf("%w: missing bearer token", ErrUnauthorized))
		return
	}
	stackID, err := s.b.StackForToken(token)
	if err != nil {
		// Never echo the token or the backend's reason: a 401 says only that.
		if !errors.Is(err, ErrUnauthorized) {
			writeError(w, err)
			return
		}
		writeError(w, fmt.Errorf("%w: unknown token", ErrUnauthorized))
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), stackIDKey{}, stackID))

	// The mux answers unmatched requests in plain text; the contract says
	// every error is JSON, so unmatched requests are answered here.
	if _, pattern := s.mux.Handler(r); pattern == "" {
		if allow := s.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, Error{Error: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
			return
		}
		writeJSON(w, http.StatusNotFound, Error{Error: "no route " + r.Method + " " + r.URL.Path})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowed lists the methods that have a route for r's path.
func (s *server) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (s *server) routes() {
	b := s.b
	s.handle("GET /current-stack", func(r *http.Request) (int, any, error) {
		id, _ := r.Context().Value(stackIDKey{}).(string)
		if id == "" {
			return 0, nil, fmt.Errorf("%w: the token belongs to no stack", ErrNotFound)
		}
		return http.StatusOK, CurrentStack{ID: id}, nil
	})

	s.handle("POST /stacks", func(r *http.Request) (int, any, error) {
		var spec StackSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		st, err := b.CreateStack(r.Context(), spec)
		return http.StatusCreated, st, err
	})
	s.handle("GET /stacks/{id}", func(r *http.Request) (int, any, error) {
		st, err := b.GetStack(r.Context(), r.PathValue("id"))
		return http.StatusOK, st, err
	})
	s.handle("PUT /stacks/{id}", func(r *http.Request) (int, any, error) {
		var spec StackSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		st, err := b.UpdateStack(r.Context(), r.PathValue("id"), spec)
		return http.StatusOK, st, err
	})
	s.handle("DELETE /stacks/{id}", func(r *http.Request) (int, any, error) {
		// Required rather than defaulted: a caller that forgot it would
		// silently orphan or silently destroy a stack's resources.
		raw := r.URL.Query().Get("destroy_resources")
		destroy, err := strconv.ParseBool(raw)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: destroy_resources must be true or false, got %q", ErrInvalid, raw)
		}
		st, err := b.DeleteStack(r.Context(), r.PathValue("id"), destroy)
		if !destroy {
			return http.StatusNoContent, nil, err
		}
		return http.StatusAccepted, st, err
	})

	s.handle("PUT /stacks/{id}/env/{name}", func(r *http.Request) (int, any, error) {
		var spec EnvVarSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := ValidateEnvVarName(r.PathValue("name")); err != nil {
			return 0, nil, err
		}
		v, err := b.PutEnvVar(r.Context(), r.PathValue("id"), r.PathValue("name"), spec)
		return http.StatusOK, v, err
	})
	s.handle("GET /stacks/{id}/env/{name}", func(r *http.Request) (int, any, error) {
		v, err := b.GetEnvVar(r.Context(), r.PathValue("id"), r.PathValue("name"))
		return http.StatusOK, v, err
	})
	s.handle("DELETE /stacks/{id}/env/{name}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeleteEnvVar(r.Context(), r.PathValue("id"), r.PathValue("name"))
	})

	s.handle("POST /stacks/{id}/dependencies", func(r *http.Request) (int, any, error) {
		var spec StackDependencySpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(r.PathValue("id")); err != nil {
			return 0, nil, err
		}
		d, err := b.CreateStackDependency(r.Context(), r.PathValue("id"), spec)
		return http.StatusCreated, d, err
	})
	s.handle("GET /stacks/{id}/dependencies/{dep}", func(r *http.Request) (int, any, error) {
		d, err := b.GetStackDependency(r.Context(), r.PathValue("id"), r.PathValue("dep"))
		return http.StatusOK, d, err
	})
	s.handle("DELETE /stacks/{id}/dependencies/{dep}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeleteStackDependency(r.Context(), r.PathValue("id"), r.PathValue("dep"))
	})
	s.handle("POST /stacks/{id}/dependencies/{dep}/references", func(r *http.Request) (int, any, error) {
		var spec ReferenceSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		ref, err := b.AddReference(r.Context(), r.PathValue("id"), r.PathValue("dep"), spec)
		return http.StatusCreated, ref, err
	})
	s.handle("GET /stacks/{id}/dependencies/{dep}/references/{ref}", func(r *http.Request) (int, any, error) {
		ref, err := b.GetReference(r.Context(), r.PathValue("id"), r.PathValue("dep"), r.PathValue("ref"))
		return http.StatusOK, ref, err
	})
	s.handle("PUT /stacks/{id}/dependencies/{dep}/references/{ref}", func(r *http.Request) (int, any, error) {
		var spec ReferenceSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		ref, err := b.UpdateReference(r.Context(), r.PathValue("id"), r.PathValue("dep"), r.PathValue("ref"), spec)
		return http.StatusOK, ref, err
	})
	s.handle("DELETE /stacks/{id}/dependencies/{dep}/references/{ref}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeleteReference(r.Context(), r.PathValue("id"), r.PathValue("dep"), r.PathValue("ref"))
	})

	s.handle("POST /policies", func(r *http.Request) (int, any, error) {
		var spec PolicySpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		p, err := b.CreatePolicy(r.Context(), spec)
		return http.StatusCreated, p, err
	})
	s.handle("GET /policies/{id}", func(r *http.Request) (int, any, error) {
		p, err := b.GetPolicy(r.Context(), r.PathValue("id"))
		return http.StatusOK, p, err
	})
	s.handle("PUT /policies/{id}", func(r *http.Request) (int, any, error) {
		var spec PolicySpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		p, err := b.UpdatePolicy(r.Context(), r.PathValue("id"), spec)
		return http.StatusOK, p, err
	})
	s.handle("DELETE /policies/{id}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeletePolicy(r.Context(), r.PathValue("id"))
	})
	s.handle("POST /policies/{id}/attachments", func(r *http.Request) (int, any, error) {
		var spec AttachmentSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		a, err := b.AttachPolicy(r.Context(), r.PathValue("id"), spec.StackID)
		return http.StatusCreated, a, err
	})
	s.handle("GET /policies/{id}/attachments/{stack}", func(r *http.Request) (int, any, error) {
		a, err := b.GetPolicyAttachment(r.Context(), r.PathValue("id"), r.PathValue("stack"))
		return http.StatusOK, a, err
	})
	s.handle("DELETE /policies/{id}/attachments/{stack}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DetachPolicy(r.Context(), r.PathValue("id"), r.PathValue("stack"))
	})

	s.handle("POST /aws-integrations", func(r *http.Request) (int, any, error) {
		var spec AWSIntegrationSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		i, err := b.CreateAWSIntegration(r.Context(), spec)
		return http.StatusCreated, i, err
	})
	s.handle("GET /aws-integrations/{id}", func(r *http.Request) (int, any, error) {
		i, err := b.GetAWSIntegration(r.Context(), r.PathValue("id"))
		return http.StatusOK, i, err
	})
	s.handle("PUT /aws-integrations/{id}", func(r *http.Request) (int, any, error) {
		var spec AWSIntegrationSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		i, err := b.UpdateAWSIntegration(r.Context(), r.PathValue("id"), spec)
		return http.StatusOK, i, err
	})
	s.handle("DELETE /aws-integrations/{id}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeleteAWSIntegration(r.Context(), r.PathValue("id"))
	})
	s.handle("POST /aws-integrations/{id}/attachments", func(r *http.Request) (int, any, error) {
		var spec AWSAttachmentSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		a, err := b.AttachAWSIntegration(r.Context(), r.PathValue("id"), spec)
		return http.StatusCreated, a, err
	})
	s.handle("GET /aws-integrations/{id}/attachments/{stack}", func(r *http.Request) (int, any, error) {
		a, err := b.GetAWSAttachment(r.Context(), r.PathValue("id"), r.PathValue("stack"))
		return http.StatusOK, a, err
	})
	s.handle("PUT /aws-integrations/{id}/attachments/{stack}", func(r *http.Request) (int, any, error) {
		var spec AWSAttachmentSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		// The path names the stack; a body that names another one is a
		// client bug, not a move.
		switch spec.StackID {
		case "":
			spec.StackID = r.PathValue("stack")
		case r.PathValue("stack"):
		default:
			return 0, nil, fmt.Errorf("%w: body stack_id %q differs from the path's %q", ErrInvalid, spec.StackID, r.PathValue("stack"))
		}
		a, err := b.UpdateAWSAttachment(r.Context(), r.PathValue("id"), spec)
		return http.StatusOK, a, err
	})
	s.handle("DELETE /aws-integrations/{id}/attachments/{stack}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DetachAWSIntegration(r.Context(), r.PathValue("id"), r.PathValue("stack"))
	})

	s.handle("GET /roles", func(r *http.Request) (int, any, error) {
		q := r.URL.Query()
		name, id := q.Get("name"), q.Get("id")
		if (name == "") == (id == "") {
			return 0, nil, fmt.Errorf("%w: exactly one of the query parameters name and id is required", ErrInvalid)
		}
		role, err := b.Role(r.Context(), name, id)
		return http.StatusOK, role, err
	})
	s.handle("POST /role-attachments", func(r *http.Request) (int, any, error) {
		var spec RoleAttachmentSpec
		if err := decode(r, &spec); err != nil {
			return 0, nil, err
		}
		if err := spec.Validate(); err != nil {
			return 0, nil, err
		}
		a, err := b.CreateRoleAttachment(r.Context(), spec)
		return http.StatusCreated, a, err
	})
	s.handle("GET /role-attachments/{id}", func(r *http.Request) (int, any, error) {
		a, err := b.GetRoleAttachment(r.Context(), r.PathValue("id"))
		return http.StatusOK, a, err
	})
	s.handle("DELETE /role-attachments/{id}", func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, b.DeleteRoleAttachment(r.Context(), r.PathValue("id"))
	})
}

// decode reads exactly one JSON value with no unknown fields: a field the
// stand-in does not know is a provider/contract mismatch that must surface
// instead of being dropped silently.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &statusError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)}
		}
		return fmt.Errorf("%w: request body: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: request body holds more than one JSON value", ErrInvalid)
	}
	return nil
}

// statusError is an error with a status of its own, for the few answers no
// sentinel maps to.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// StatusFor maps an error from a Backend to the HTTP status the contract
// gives it.
func StatusFor(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func writeError(w http.ResponseWriter, err error) {
	body := Error{Error: err.Error()}
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		existing := conflict.Existing
		body.Stack = &existing
	}
	writeJSON(w, StatusFor(err), body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(Error{Error: "encoding the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
