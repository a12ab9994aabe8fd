package slapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxAnswerBytes bounds what the client reads of an answer, so a confused
// server cannot make the provider buffer without limit.
const maxAnswerBytes = 8 << 20

// Client calls the stand-in. It has every Backend method but StackForToken
// (the server authenticates), plus CurrentStack. Errors wrap ErrNotFound,
// ErrConflict, ErrInvalid or ErrUnauthorized by status code, so callers
// test them with errors.Is; a 409 from CreateStack also unwraps to a
// *ConflictError carrying the existing stack.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the stand-in at baseURL (e.g.
// http://127.0.0.1:8080/spacelift) that authenticates with token. A nil hc
// uses a client with a 30 s timeout per request.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("spacelift endpoint %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("spacelift endpoint %q: want an http(s) URL with a host", baseURL)
	}
	if token == "" {
		return nil, errors.New("spacelift API token is empty")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), token: token, http: hc}, nil
}

// APIError is a non-2xx answer.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Message    string
	// Existing is the stack of a 409 from POST /stacks.
	Existing *Stack
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("spacelift %s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Unwrap gives the sentinel of the status and, for a stack conflict, the
// *ConflictError.
func (e *APIError) Unwrap() []error {
	var errs []error
	switch {
	case e.StatusCode == http.StatusNotFound:
		errs = append(errs, ErrNotFound)
	case e.StatusCode == http.StatusConflict:
		errs = append(errs, ErrConflict)
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		errs = append(errs, ErrUnauthorized)
	case e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusRequestEntityTooLarge || e.StatusCode == http.StatusUnprocessableEntity:
		errs = append(errs, ErrInvalid)
	}
	if e.Existing != nil {
		errs = append(errs, &ConflictError{Existing: *e.Existing})
	}
	return errs
}

// do sends in (if not nil) as JSON and decodes a 2xx answer into out (if
// not nil and the answer has a body).
func (c *Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("spacelift %s %s: encoding the request: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, fmt.Errorf("spacelift %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("spacelift %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("spacelift %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Method: method, Path: path, StatusCode: resp.StatusCode}
		var e Error
		if json.Unmarshal(data, &e) == nil {
			apiErr.Message = e.Error
			if resp.StatusCode == http.StatusConflict {
				apiErr.Existing = e.Stack
			}
		} else {
			apiErr.Message = strings.TrimSpace(string(data))
		}
		return resp.StatusCode, apiErr
	}
	if out != nil && resp.StatusCode != http.StatusNoContent && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("spacelift %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func seg(s string) string { return url.PathEscape(s) }

// CurrentStack is the stack whose run holds the token.
func (c *Client) CurrentStack(ctx context.Context) (CurrentStack, error) {
	var out CurrentStack
	_, err := c.do(ctx, http.MethodGet, "/current-stack", nil, &out)
	return out, err
}

func (c *Client) CreateStack(ctx context.Context, spec StackSpec) (Stack, error) {
	var out Stack
	_, err := c.do(ctx, http.MethodPost, "/stacks", spec, &out)
	return out, err
}

func (c *Client) GetStack(ctx context.Context, id string) (Stack, error) {
	var out Stack
	_, err := c.do(ctx, http.MethodGet, "/stacks/"+seg(id), nil, &out)
	return out, err
}

func (c *Client) UpdateStack(ctx context.Context, id string, spec StackSpec) (Stack, error) {
	var out Stack
	_, err := c.do(ctx, http.MethodPut, "/stacks/"+seg(id), spec, &out)
	return out, err
}

// DeleteStack returns the zero Stack when the stack was deleted at once
// (204) and the stack in DELETING when a destroy was queued (202).
func (c *Client) DeleteStack(ctx context.Context, id string, destroy bool) (Stack, error) {
	var out Stack
	_, err := c.do(ctx, http.MethodDelete, "/stacks/"+seg(id)+"?destroy_resources="+strconv.FormatBool(destroy), nil, &out)
	return out, err
}

func (c *Client) PutEnvVar(ctx context.Context, stackID, name string, spec EnvVarSpec) (EnvVar, error) {
	var out EnvVar
	_, err := c.do(ctx, http.MethodPut, "/stacks/"+seg(stackID)+"/env/"+seg(name), spec, &out)
	return out, err
}

func (c *Client) GetEnvVar(ctx context.Context, stackID, name string) (EnvVar, error) {
	var out EnvVar
	_, err := c.do(ctx, http.MethodGet, "/stacks/"+seg(stackID)+"/env/"+seg(name), nil, &out)
	return out, err
}

func (c *Client) DeleteEnvVar(ctx context.Context, stackID, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/stacks/"+seg(stackID)+"/env/"+seg(name), nil, nil)
	return err
}

func (c *Client) CreatePolicy(ctx context.Context, spec PolicySpec) (Policy, error) {
	var out Policy
	_, err := c.do(ctx, http.MethodPost, "/policies", spec, &out)
	return out, err
}

func (c *Client) GetPolicy(ctx context.Context, id string) (Policy, error) {
	var out Policy
	_, err := c.do(ctx, http.MethodGet, "/policies/"+seg(id), nil, &out)
	return out, err
}

func (c *Client) UpdatePolicy(ctx context.Context, id string, spec PolicySpec) (Policy, error) {
	var out Policy
	_, err := c.do(ctx, http.MethodPut, "/policies/"+seg(id), spec, &out)
	return out, err
}

func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/policies/"+seg(id), nil, nil)
	return err
}

func (c *Client) AttachPolicy(ctx context.Context, policyID, stackID string) (Attachment, error) {
	var out Attachment
	_, err := c.do(ctx, http.MethodPost, "/policies/"+seg(policyID)+"/attachments", AttachmentSpec{StackID: stackID}, &out)
	return out, err
}

func (c *Client) GetPolicyAttachment(ctx context.Context, policyID, stackID string) (Attachment, error) {
	var out Attachment
	_, err := c.do(ctx, http.MethodGet, "/policies/"+seg(policyID)+"/attachments/"+seg(stackID), nil, &out)
	return out, err
}

func (c *Client) DetachPolicy(ctx context.Context, policyID, stackID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/policies/"+seg(policyID)+"/attachments/"+seg(stackID), nil, nil)
	return err
}

func (c *Client) CreateAWSIntegration(ctx context.Context, spec AWSIntegrationSpec) (AWSIntegration, error) {
	var out AWSIntegration
	_, err := c.do(ctx, http.MethodPost, "/aws-integrations", spec, &out)
	return out, err
}

func (c *Client) GetAWSIntegration(ctx context.Context, id string) (AWSIntegration, error) {
	var out AWSIntegration
	_, err := c.do(ctx, http.MethodGet, "/aws-integrations/"+seg(id), nil, &out)
	return out, err
}

func (c *Client) UpdateAWSIntegration(ctx context.Context, id string, spec AWSIntegrationSpec) (AWSIntegration, error) {
	var out AWSIntegration
	_, err := c.do(ctx, http.MethodPut, "/aws-integrations/"+seg(id), spec, &out)
	return out, err
}

func (c *Client) DeleteAWSIntegration(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/aws-integrations/"+seg(id), nil, nil)
	return err
}

func (c *Client) AttachAWSIntegration(ctx context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error) {
	var out AWSAttachment
	_, err := c.do(ctx, http.MethodPost, "/aws-integrations/"+seg(integrationID)+"/attachments", spec, &out)
	return out, err
}

func (c *Client) GetAWSAttachment(ctx context.Context, integrationID, stackID string) (AWSAttachment, error) {
	var out AWSAttachment
	_, err := c.do(ctx, http.MethodGet, "/aws-integrations/"+seg(integrationID)+"/attachments/"+seg(stackID), nil, &out)
	return out, err
}

func (c *Client) UpdateAWSAttachment(ctx context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error) {
	var out AWSAttachment
	_, err := c.do(ctx, http.MethodPut, "/aws-integrations/"+seg(integrationID)+"/attachments/"+seg(spec.StackID), spec, &out)
	return out, err
}

func (c *Client) DetachAWSIntegration(ctx context.Context, integrationID, stackID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/aws-integrations/"+seg(integrationID)+"/attachments/"+seg(stackID), nil, nil)
	return err
}

// Role finds a role by name or by ID; exactly one must be set.
func (c *Client) Role(ctx context.Context, name, id string) (Role, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if id != "" {
		q.Set("id", id)
	}
	var out Role
	_, err := c.do(ctx, http.MethodGet, "/roles?"+q.Encode(), nil, &out)
	return out, err
}

func (c *Client) CreateRoleAttachment(ctx context.Context, spec RoleAttachmentSpec) (RoleAttachment, error) {
	var out RoleAttachment
	_, err := c.do(ctx, http.MethodPost, "/role-attachments", spec, &out)
	return out, err
}

func (c *Client) GetRoleAttachment(ctx context.Context, id string) (RoleAttachment, error) {
	var out RoleAttachment
	_, err := c.do(ctx, http.MethodGet, "/role-attachments/"+seg(id), nil, &out)
	return out, err
}

func (c *Client) DeleteRoleAttachment(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/role-attachments/"+seg(id), nil, nil)
	return err
}

func depPath(stackID, id string) string {
	return "/stacks/" + seg(stackID) + "/dependencies/" + seg(id)
}

func (c *Client) CreateStackDependency(ctx context.Context, stackID string, spec StackDependencySpec) (StackDependency, error) {
	var out StackDependency
	_, err := c.do(ctx, http.MethodPost, "/stacks/"+seg(stackID)+"/dependencies", spec, &out)
	return out, err
}

func (c *Client) GetStackDependency(ctx context.Context, stackID, id string) (StackDependency, error) {
	var out StackDependency
	_, err := c.do(ctx, http.MethodGet, depPath(stackID, id), nil, &out)
	return out, err
}

func (c *Client) DeleteStackDependency(ctx context.Context, stackID, id string) error {
	_, err := c.do(ctx, http.MethodDelete, depPath(stackID, id), nil, nil)
	return err
}

func (c *Client) AddReference(ctx context.Context, stackID, dependencyID string, spec ReferenceSpec) (Reference, error) {
	var out Reference
	_, err := c.do(ctx, http.MethodPost, depPath(stackID, dependencyID)+"/references", spec, &out)
	return out, err
}

func (c *Client) GetReference(ctx context.Context, stackID, dependencyID, id string) (Reference, error) {
	var out Reference
	_, err := c.do(ctx, http.MethodGet, depPath(stackID, dependencyID)+"/references/"+seg(id), nil, &out)
	return out, err
}

func (c *Client) UpdateReference(ctx context.Context, stackID, dependencyID, id string, spec ReferenceSpec) (Reference, error) {
	var out Reference
	_, err := c.do(ctx, http.MethodPut, depPath(stackID, dependencyID)+"/references/"+seg(id), spec, &out)
	return out, err
}

func (c *Client) DeleteReference(ctx context.Context, stackID, dependencyID, id string) error {
	_, err := c.do(ctx, http.MethodDelete, depPath(stackID, dependencyID)+"/references/"+seg(id), nil, nil)
	return err
}
