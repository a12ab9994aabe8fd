package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"preview-environments/previewctl/pkg/sandbox/lambda"
	"preview-environments/previewctl/pkg/sandbox/s3store"
)

// The Lambda API (the part of it the aws provider uses), at LambdaPrefix:
//
//	PUT    /2015-03-31/functions/{name}                 functionInput -> 200 functionConfig (create or replace)
//	GET    /2015-03-31/functions/{name}                 functionConfig | 404
//	GET    /2015-03-31/functions                        {"Functions": [...]}
//	DELETE /2015-03-31/functions/{name}                 204 | 404 (stops its emulators)
//	PUT    /2015-03-31/functions/{name}/policy/{sid}    permission -> 201 {"Statement": "..."} (create or replace)
//	GET    /2015-03-31/functions/{name}/policy/{sid}    permission | 404
//	GET    /2015-03-31/functions/{name}/policy          {"Policy": "..."}
//	DELETE /2015-03-31/functions/{name}/policy/{sid}    204 | 404

// functionInput is CreateFunction's request, minus FunctionName (the path's).
type functionInput struct {
	Role          string       `json:"Role"`
	Runtime       string       `json:"Runtime"`
	Handler       string       `json:"Handler"`
	Description   string       `json:"Description"`
	Timeout       *int         `json:"Timeout"`
	MemorySize    *int         `json:"MemorySize"`
	Environment   *environment `json:"Environment"`
	Architectures []string     `json:"Architectures"`
	PackageType   string       `json:"PackageType"`
	Code          codeLocation `json:"Code"`
	// ReservedConcurrentExecutions bounds the function's pool of emulators.
	ReservedConcurrentExecutions *int              `json:"ReservedConcurrentExecutions"`
	Tags                         map[string]string `json:"Tags"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

type codeLocation struct {
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ZipFile         []byte `json:"ZipFile,omitempty"`
	ImageURI        string `json:"ImageUri,omitempty"`
}

// functionConfig is GetFunction's configuration, plus the code's location
// (GetFunction answers a download URL there; the sandbox, where it came from).
type functionConfig struct {
	FunctionName                 string            `json:"FunctionName"`
	FunctionArn                  string            `json:"FunctionArn"`
	Runtime                      string            `json:"Runtime"`
	Role                         string            `json:"Role"`
	Handler                      string            `json:"Handler"`
	Description                  string            `json:"Description"`
	Timeout                      int               `json:"Timeout"`
	MemorySize                   int               `json:"MemorySize"`
	Environment                  *environment      `json:"Environment,omitempty"`
	Architectures                []string          `json:"Architectures"`
	PackageType                  string            `json:"PackageType"`
	CodeSha256                   string            `json:"CodeSha256"`
	CodeSize                     int64             `json:"CodeSize"`
	LastModified                 string            `json:"LastModified"`
	Version                      string            `json:"Version"`
	RevisionID                   string            `json:"RevisionId"`
	State                        string            `json:"State"`
	LastUpdateStatus             string            `json:"LastUpdateStatus"`
	ReservedConcurrentExecutions *int              `json:"ReservedConcurrentExecutions,omitempty"`
	Code                         codeLocation      `json:"Code"`
	Tags                         map[string]string `json:"Tags,omitempty"`
}

// permission is AddPermission's request (and what the sandbox keeps).
type permission struct {
	StatementID         string `json:"StatementId"`
	Action              string `json:"Action"`
	Principal           string `json:"Principal"`
	SourceArn           string `json:"SourceArn,omitempty"`
	SourceAccount       string `json:"SourceAccount,omitempty"`
	Qualifier           string `json:"Qualifier,omitempty"`
	EventSourceToken    string `json:"EventSourceToken,omitempty"`
	PrincipalOrgID      string `json:"PrincipalOrgID,omitempty"`
	FunctionURLAuthType string `json:"FunctionUrlAuthType,omitempty"`
}

// The runtimes whose code is a bootstrap executable: the only kind the
// Runtime Interface Emulator runs here.
var osOnlyRuntimes = map[string]bool{"provided.al2023": true, "provided.al2": true, "provided": true}

var (
	functionNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	statementIDRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,100}$`)
	roleARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
	actionRE       = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
)

func functionARN(region, name string) string {
	return "arn:aws:lambda:" + region + ":" + Account + ":function:" + name
}

func (s *Sandbox) mountLambdaAPI() {
	const fns = LambdaPrefix + "/2015-03-31/functions"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				s.writeAWSError(w, r, err, "ServiceException")
			}
		})
	}
	handle("PUT "+fns+"/{name}", s.putFunction)
	handle("GET "+fns+"/{name}", func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.function(r.Context(), s.db, r.PathValue("name"), requestRegion(r))
		if err != nil {
			return err
		}
		writeAWSJSON(w, http.StatusOK, c)
		return nil
	})
	handle("GET "+fns, func(w http.ResponseWriter, r *http.Request) error {
		m, err := loadModel(r.Context(), s.db)
		if err != nil {
			return err
		}
		out := []functionConfig{}
		for _, c := range m.functions {
			out = append(out, c)
		}
		writeAWSJSON(w, http.StatusOK, map[string]any{"Functions": out})
		return nil
	})
	handle("DELETE "+fns+"/{name}", s.deleteFunction)
	handle("PUT "+fns+"/{name}/policy/{sid}", s.putPermission)
	handle("GET "+fns+"/{name}/policy/{sid}", func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.permission(r.Context(), r.PathValue("name"), r.PathValue("sid"), requestRegion(r))
		if err != nil {
			return err
		}
		writeAWSJSON(w, http.StatusOK, p)
		return nil
	})
	handle("GET "+fns+"/{name}/policy", s.getPolicy)
	handle("DELETE "+fns+"/{name}/policy/{sid}", func(w http.ResponseWriter, r *http.Request) error {
		name, sid := r.PathValue("name"), r.PathValue("sid")
		if _, err := s.permission(r.Context(), name, sid, requestRegion(r)); err != nil {
			return err
		}
		if _, err := s.db.ExecContext(r.Context(), `DELETE FROM aws_lambda_permissions WHERE function = ? AND sid = ?`, name, sid); err != nil {
			return fmt.Errorf("remove permission %s of %s: %w", sid, name, err)
		}
		if err := s.changed(r.Context()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Sandbox) function(ctx context.Context, q queryer, name, region string) (functionConfig, error) {
	var js string
	err := q.QueryRowContext(ctx, `SELECT config FROM aws_lambda_functions WHERE name = ?`, name).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return functionConfig{}, apiErr(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", functionARN(region, name))
	}
	if err != nil {
		return functionConfig{}, fmt.Errorf("function %s: %w", name, err)
	}
	var c functionConfig
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return functionConfig{}, fmt.Errorf("function %s: stored config: %w", name, err)
	}
	return c, nil
}

// putFunction creates or replaces a function. A new code location or a
// changed runtime setting deploys a new version into the Lambda pool (the
// swap drains the old one); a change of metadata alone (description, role,
// tags) only records it, so a retried or no-op PUT restarts nothing.
func (s *Sandbox) putFunction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name, region := r.PathValue("name"), requestRegion(r)
	bad := func(format string, a ...any) error {
		return apiErr(http.StatusBadRequest, "InvalidParameterValueException", format, a...)
	}
	if !functionNameRE.MatchString(name) {
		return bad("function name %q: want 1-64 letters, digits, '-' or '_'", name)
	}
	var in functionInput
	if err := decodeAWS(w, r, &in, "InvalidParameterValueException"); err != nil {
		return err
	}
	switch {
	case in.PackageType != "" && in.PackageType != "Zip":
		return bad("package type %s: the sandbox runs Zip functions only", in.PackageType)
	case in.Code.ImageURI != "" || len(in.Code.ZipFile) > 0:
		return bad("function %s: the sandbox deploys code from S3 only (S3Bucket and S3Key)", name)
	case in.Code.S3Bucket == "" || in.Code.S3Key == "":
		return bad("function %s: Code.S3Bucket and Code.S3Key are required", name)
	case !osOnlyRuntimes[in.Runtime]:
		return bad("runtime %q: the sandbox runs OS-only runtimes (provided.al2023, provided.al2), whose code is a bootstrap executable", in.Runtime)
	case !roleARNRE.MatchString(in.Role):
		return bad("role %q: want an IAM role ARN (arn:aws:iam::<account>:role/<name>)", in.Role)
	}
	timeout, memory := 3, 128 // Lambda's defaults
	if in.Timeout != nil {
		timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		memory = *in.MemorySize
	}
	if timeout < 1 || timeout > 900 {
		return bad("timeout %d: want 1 to 900 seconds", timeout)
	}
	if memory < 128 || memory > 10240 {
		return bad("memory size %d: want 128 to 10240 MB", memory)
	}
	pool := 0
	if rc := in.ReservedConcurrentExecutions; rc != nil && *rc >= 0 {
		if *rc == 0 {
			return bad("reserved concurrent executions 0 would throttle every invocation; the sandbox does not emulate that")
		}
		// Each unit is an emulator process here: bounded by the pool's cap.
		pool = min(*rc, lambda.MaxPoolSize)
	}
	if len(in.Architectures) > 1 {
		return bad("architectures %v: want one", in.Architectures)
	}
	arch := []string{"x86_64"}
	if len(in.Architectures) == 1 {
		if a := in.Architectures[0]; a != "x86_64" && a != "arm64" {
			return bad("architecture %q: want x86_64 or arm64", a)
		}
		// Recorded only: the bootstrap runs on this machine's architecture.
		arch = in.Architectures
	}

	cur, err := objectVersion(ctx, s.aws.s3, in.Code.S3Bucket, in.Code.S3Key)
	if errors.Is(err, s3store.ErrNotFound) {
		return bad("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (s3://%s/%s)", in.Code.S3Bucket, in.Code.S3Key)
	}
	if err != nil {
		return fmt.Errorf("function %s: code: %w", name, err)
	}
	// cur identifies the code whatever the bucket (a new upload is a new
	// deploy); Lambda reports an object version only from a versioned one.
	reported := ""
	switch v := in.Code.S3ObjectVersion; {
	case s.vers.get(in.Code.S3Bucket) == versioningEnabled:
		if v != "" && v != cur {
			return bad("s3://%s/%s version %s is not the object's current version %s; the sandbox's S3 stand-in keeps only the latest version of a key",
				in.Code.S3Bucket, in.Code.S3Key, v, cur)
		}
		reported = cur
	case v != "" && v != "null":
		return bad("Error occurred while GetObject. S3 Error Code: InvalidArgument. S3 Error Message: Invalid version id specified (s3://%s/%s is not in a versioned bucket)",
			in.Code.S3Bucket, in.Code.S3Key)
	}
	zip, err := s.s3.Get(ctx, in.Code.S3Bucket, in.Code.S3Key, lambda.MaxZipBytes)
	if err != nil {
		return bad("function %s: code: %v", name, err)
	}
	sum := sha256.Sum256(zip)
	var vars map[string]string
	if in.Environment != nil && len(in.Environment.Variables) > 0 {
		vars = in.Environment.Variables
	}
	spec := lambda.Spec{
		Name: name, Version: cur, ArtifactKey: in.Code.S3Key, ArtifactBucket: in.Code.S3Bucket, Env: vars,
		Timeout: time.Duration(timeout) * time.Second, PoolSize: pool, Handler: in.Handler, MemoryMB: memory, Region: region,
	}
	if err := spec.Normalize(); err != nil {
		return bad("function %s: %v", name, err)
	}
	cfg := functionConfig{
		FunctionName: name, FunctionArn: functionARN(region, name), Runtime: in.Runtime, Role: in.Role, Handler: in.Handler,
		Description: in.Description, Timeout: timeout, MemorySize: memory, Architectures: arch, PackageType: "Zip",
		CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), CodeSize: int64(len(zip)),
		LastModified: now().Format("2006-01-02T15:04:05.000-0700"), Version: "$LATEST",
		RevisionID: uuidV4(), State: "Active", LastUpdateStatus: "Successful",
		ReservedConcurrentExecutions: in.ReservedConcurrentExecutions,
		Code:                         codeLocation{S3Bucket: in.Code.S3Bucket, S3Key: in.Code.S3Key, S3ObjectVersion: reported},
		Tags:                         in.Tags,
	}
	if vars != nil {
		cfg.Environment = &environment{Variables: vars}
	}
	js, _ := json.Marshal(cfg)
	record := func(tx *sql.Tx) error {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM environments WHERE id = ?`, name).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return apiErr(http.StatusConflict, "ResourceConflictException",
				"Function already exist: %s (an environment deployed through the sandbox's /api/environments)", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO aws_lambda_functions (name, config, created_at) VALUES (?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET config = excluded.config`, name, string(js), now().Format(time.RFC3339))
		return err
	}
	if f, ok := s.lambdas.Get(name); ok && reflect.DeepEqual(f.Spec, spec) && s.aws.ownedFunctions()[name] {
		err = s.inTx(ctx, record)
	} else {
		_, err = s.lambdas.Deploy(ctx, spec, record)
	}
	var ae *awsError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, lambda.ErrArtifact):
		return bad("%v", err)
	case err != nil:
		return err
	}
	if err := s.changed(ctx); err != nil {
		return err
	}
	s.log.Info("lambda function deployed", "function", name, "artifact", in.Code.S3Key, "object_version", cur)
	writeAWSJSON(w, http.StatusOK, cfg)
	return nil
}

func (s *Sandbox) deleteFunction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name := r.PathValue("name")
	if _, err := s.function(ctx, s.db, name, requestRegion(r)); err != nil {
		return err
	}
	forget := func(tx *sql.Tx) error {
		// Its permissions go with it (ON DELETE CASCADE).
		_, err := tx.ExecContext(ctx, `DELETE FROM aws_lambda_functions WHERE name = ?`, name)
		return err
	}
	err := s.lambdas.Remove(ctx, name, forget)
	if errors.Is(err, lambda.ErrNotFound) {
		// Recorded but not loaded (its code failed to restore): only the record is left.
		err = s.inTx(ctx, forget)
	}
	if err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	if err := s.changed(ctx); err != nil {
		return err
	}
	s.log.Info("lambda function deleted", "function", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Sandbox) permission(ctx context.Context, function, sid, region string) (permission, error) {
	if _, err := s.function(ctx, s.db, function, region); err != nil {
		return permission{}, err
	}
	var js string
	err := s.db.QueryRowContext(ctx, `SELECT statement FROM aws_lambda_permissions WHERE function = ? AND sid = ?`, function, sid).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return permission{}, apiErr(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist. (statement %s of function %s)", sid, function)
	}
	if err != nil {
		return permission{}, fmt.Errorf("permission %s of %s: %w", sid, function, err)
	}
	var p permission
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		return permission{}, fmt.Errorf("permission %s of %s: %w", sid, function, err)
	}
	return p, nil
}

// putPermission adds (or replaces: see the package's note on creates) a
// statement to the function's resource policy.
func (s *Sandbox) putPermission(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name, sid, region := r.PathValue("name"), r.PathValue("sid"), requestRegion(r)
	bad := func(format string, a ...any) error {
		return apiErr(http.StatusBadRequest, "InvalidParameterValueException", format, a...)
	}
	var p permission
	if err := decodeAWS(w, r, &p, "InvalidParameterValueException"); err != nil {
		return err
	}
	if p.StatementID != "" && p.StatementID != sid {
		return bad("statement ID %s differs from the path's %s", p.StatementID, sid)
	}
	p.StatementID = sid
	switch {
	case !statementIDRE.MatchString(sid):
		return bad("statement ID %q: want 1-100 letters, digits, '-' or '_'", sid)
	case !actionRE.MatchString(p.Action):
		return bad("action %q: want lambda:<Action> or lambda:*", p.Action)
	case p.Principal == "":
		return bad("principal: required")
	case p.SourceArn != "" && len(strings.SplitN(p.SourceArn, ":", 6)) != 6:
		return bad("source ARN %q: not an ARN", p.SourceArn)
	}
	js, _ := json.Marshal(p)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.function(ctx, tx, name, region); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO aws_lambda_permissions (function, sid, statement) VALUES (?, ?, ?)
			ON CONFLICT(function, sid) DO UPDATE SET statement = excluded.statement`, name, sid, string(js))
		return err
	})
	if err != nil {
		return err
	}
	if err := s.changed(ctx); err != nil {
		return err
	}
	st, _ := json.Marshal(statement(p, functionARN(region, name)))
	writeAWSJSON(w, http.StatusCreated, map[string]string{"Statement": string(st)})
	return nil
}

// statement is p as an IAM policy statement, the way GetPolicy shows it.
func statement(p permission, resource string) map[string]any {
	st := map[string]any{"Sid": p.StatementID, "Effect": "Allow", "Action": p.Action, "Resource": resource}
	if strings.HasSuffix(p.Principal, ".amazonaws.com") {
		st["Principal"] = map[string]string{"Service": p.Principal}
	} else {
		st["Principal"] = map[string]string{"AWS": p.Principal}
	}
	cond := map[string]map[string]string{}
	if p.SourceArn != "" {
		cond["ArnLike"] = map[string]string{"AWS:SourceArn": p.SourceArn}
	}
	if p.SourceAccount != "" {
		cond["StringEquals"] = map[string]string{"AWS:SourceAccount": p.SourceAccount}
	}
	if len(cond) > 0 {
		st["Condition"] = cond
	}
	return st
}

func (s *Sandbox) getPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name, region := r.PathValue("name"), requestRegion(r)
	if _, err := s.function(ctx, s.db, name, region); err != nil {
		return err
	}
	m, err := loadModel(ctx, s.db)
	if err != nil {
		return err
	}
	perms := m.permissions[name]
	if len(perms) == 0 {
		return apiErr(http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
	}
	var sts []map[string]any
	for _, p := range perms {
		res := functionARN(region, name)
		if p.Qualifier != "" {
			res += ":" + p.Qualifier
		}
		sts = append(sts, statement(p, res))
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": sts})
	writeAWSJSON(w, http.StatusOK, map[string]string{"Policy": string(doc)})
	return nil
}

// uuidV4 is a random RFC 4122 UUID (revision IDs, certificate IDs).
func uuidV4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// functionIsManaged reports whether the control plane owns the function
// name, for the direct API's refusal (see Deploy).
func (s *Sandbox) functionIsManaged(ctx context.Context, q queryer, name string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM aws_lambda_functions WHERE name = ?`, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}
