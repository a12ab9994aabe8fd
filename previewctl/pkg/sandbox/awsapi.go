package sandbox

// The sandbox's AWS control plane: the Lambda and API Gateway APIs that the
// sandbox's hashicorp/aws provider (previewctl/internal/sandbox/providers/aws)
// calls when the real OpenTofu engine applies infra/. Lambda functions are
// deployed into the same Lambda pool as the direct data-plane API's; API
// Gateway objects (REST APIs, resources, methods, integrations, deployments,
// stages, custom domain names, base path mappings) and Lambda permissions
// are kept in SQLite and compiled into the gateway's custom-domain table
// (gateway.Site), so a sandbox restart serves again from state.
//
//	<addr>/aws/lambda/2015-03-31/functions/...    AWS_ENDPOINT_URL_LAMBDA=http://<addr>/aws/lambda
//	<addr>/aws/apigateway/restapis/..., /domainnames/...  AWS_ENDPOINT_URL_API_GATEWAY=http://<addr>/aws/apigateway
//
// Paths and JSON field names follow the real REST APIs (Lambda's PascalCase,
// API Gateway's camelCase), with two deliberate differences:
//
//   - Creates are create-or-replace on the object's natural key (function
//     name, REST API name, parent + path part, stage name, domain name, base
//     path, statement ID) where AWS answers ConflictException. OpenTofu saves
//     state only after a create returns; if it is killed in between, the
//     next apply creates again, and the object must be adopted rather than
//     refused or duplicated, or it would outlive every later destroy.
//     Deployments are the exception, as in AWS: each create is a new
//     snapshot; one orphaned by such a kill is unreachable (no stage) and goes
//     with its REST API.
//   - Updates are PUTs of the whole object where AWS uses PATCH operations.
//
// Requests are not authenticated (like the S3 stand-in); the region comes
// from the request's SigV4 credential scope when it has one.
//
// Both paths coexist: the direct data-plane API (Deploy, Remove,
// /api/environments) names functions after environment IDs and serves
// <id>.<service>.localhost from its own table; the control plane's custom
// domain names are resolved first. A function belongs to one path only (a
// create through the other is refused), and Environments lists both.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"preview-environments/previewctl/pkg/sandbox/gateway"
	"preview-environments/previewctl/pkg/sandbox/state"
)

// Mount points of the control plane.
const (
	LambdaPrefix     = "/aws/lambda"
	APIGatewayPrefix = "/aws/apigateway"
)

// Account is the sandbox's AWS account ID in every ARN.
const Account = "000000000000"

var awsMigrations = []string{
	`CREATE TABLE aws_lambda_functions (
		name       TEXT PRIMARY KEY,
		config     TEXT NOT NULL,
		created_at TEXT NOT NULL)`,
	`CREATE TABLE aws_lambda_permissions (
		function  TEXT NOT NULL REFERENCES aws_lambda_functions(name) ON DELETE CASCADE,
		sid       TEXT NOT NULL,
		statement TEXT NOT NULL,
		PRIMARY KEY (function, sid))`,
	`CREATE TABLE apigw_rest_apis (
		id   TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		doc  TEXT NOT NULL)`,
	`CREATE TABLE apigw_resources (
		api_id    TEXT NOT NULL REFERENCES apigw_rest_apis(id) ON DELETE CASCADE,
		id        TEXT NOT NULL,
		parent_id TEXT,
		path_part TEXT NOT NULL,
		PRIMARY KEY (api_id, id),
		UNIQUE (api_id, parent_id, path_part),
		FOREIGN KEY (api_id, parent_id) REFERENCES apigw_resources(api_id, id) ON DELETE CASCADE)`,
	`CREATE TABLE apigw_methods (
		api_id      TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		http_method TEXT NOT NULL,
		doc         TEXT NOT NULL,
		PRIMARY KEY (api_id, resource_id, http_method),
		FOREIGN KEY (api_id, resource_id) REFERENCES apigw_resources(api_id, id) ON DELETE CASCADE)`,
	`CREATE TABLE apigw_integrations (
		api_id      TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		http_method TEXT NOT NULL,
		doc         TEXT NOT NULL,
		PRIMARY KEY (api_id, resource_id, http_method),
		FOREIGN KEY (api_id, resource_id, http_method) REFERENCES apigw_methods(api_id, resource_id, http_method) ON DELETE CASCADE)`,
	`CREATE TABLE apigw_deployments (
		api_id TEXT NOT NULL REFERENCES apigw_rest_apis(id) ON DELETE CASCADE,
		id     TEXT NOT NULL,
		doc    TEXT NOT NULL,
		PRIMARY KEY (api_id, id))`,
	`CREATE TABLE apigw_stages (
		api_id        TEXT NOT NULL REFERENCES apigw_rest_apis(id) ON DELETE CASCADE,
		name          TEXT NOT NULL,
		deployment_id TEXT NOT NULL,
		doc           TEXT NOT NULL,
		PRIMARY KEY (api_id, name),
		FOREIGN KEY (api_id, deployment_id) REFERENCES apigw_deployments(api_id, id))`,
	`CREATE TABLE apigw_domain_names (
		name TEXT PRIMARY KEY,
		doc  TEXT NOT NULL)`,
	`CREATE TABLE apigw_base_path_mappings (
		domain    TEXT NOT NULL REFERENCES apigw_domain_names(name) ON DELETE CASCADE,
		base_path TEXT NOT NULL,
		api_id    TEXT NOT NULL REFERENCES apigw_rest_apis(id) ON DELETE CASCADE,
		stage     TEXT,
		PRIMARY KEY (domain, base_path),
		FOREIGN KEY (api_id, stage) REFERENCES apigw_stages(api_id, name) ON DELETE CASCADE)`,
}

// awsPlane is the control plane's state that is not in SQLite: what the last
// compile derived for serving and listing.
type awsPlane struct {
	s *Sandbox
	// s3 is the S3 stand-in's handler without the versioning wrapper.
	s3 http.Handler
	mu sync.Mutex // serialises compiles
	// envs and owned are replaced whole by each compile.
	envs  atomic.Pointer[[]managedEnv]
	owned atomic.Pointer[map[string]bool]
}

// managedEnv is an environment served through a custom domain name.
type managedEnv struct {
	Environment
	function, domain string
}

// openAWS migrates the control plane's tables, compiles what they hold into
// the gateway (restoring serving after a restart) and mounts the APIs.
func (s *Sandbox) openAWS(ctx context.Context) (int, error) {
	if err := migrateAWS(ctx, s.db); err != nil {
		return 0, err
	}
	s.aws = &awsPlane{s: s, s3: s.s3.Handler()}
	// Every function, of either path, can call the S3 stand-in.
	s.lambdas.SetRuntimeEnv(s.FunctionEnv)
	if err := s.aws.compile(ctx); err != nil {
		return 0, err
	}
	s.mountLambdaAPI()
	s.mountAPIGatewayAPI()
	return len(*s.aws.envs.Load()), nil
}

func migrateAWS(ctx context.Context, db *sql.DB) error {
	return state.Migrate(ctx, db, "awsapi", awsMigrations)
}

// ownedFunctions are the functions the control plane deployed.
func (p *awsPlane) ownedFunctions() map[string]bool {
	if p == nil {
		return nil
	}
	if m := p.owned.Load(); m != nil {
		return *m
	}
	return nil
}

// environments lists the environments served through custom domains, with
// their functions' live figures.
func (p *awsPlane) environments() []Environment {
	if p == nil || p.envs.Load() == nil {
		return nil
	}
	var out []Environment
	for _, me := range *p.envs.Load() {
		e := me.Environment
		// The URL needs the bound port, which a compile during Open precedes.
		e.URL = p.s.domainURL(me.domain, e.ID, e.Service)
		if f, ok := p.s.lambdas.Get(me.function); ok {
			e.Env, e.Timeout, e.PoolSize, e.Warm = f.Spec.Env, f.Spec.Timeout.String(), f.Spec.PoolSize, f.Warm()
		}
		out = append(out, e)
	}
	return out
}

func (p *awsPlane) managedEnv(id string) bool {
	for _, e := range p.environments() {
		if e.ID == id {
			return true
		}
	}
	return false
}

// compile rebuilds the gateway's custom domains and the managed environment
// list from SQLite. The tables are small (a few dozen rows per environment),
// so every change recompiles everything: simpler than patching, and the
// result is swapped in atomically. Compiles are serialised and each reads
// the committed state when it starts, so the last one reflects every commit
// before it.
func (p *awsPlane) compile(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, err := loadModel(ctx, p.s.db)
	if err != nil {
		return fmt.Errorf("compile API Gateway model: %w", err)
	}
	var sites []gateway.Site
	var envs []managedEnv
	for _, d := range m.domainOrder {
		site, env, ok := m.site(d)
		if !ok {
			continue
		}
		if err := gateway.ValidateSite(site); err != nil {
			// One broken domain must not take the others down.
			p.s.log.Warn("custom domain not served", "domain", d, "err", err)
			continue
		}
		sites = append(sites, site)
		if env != nil {
			env.domain = d
			envs = append(envs, *env)
		}
	}
	if err := p.s.gw.SetSites(sites); err != nil {
		return fmt.Errorf("compile API Gateway model: %w", err)
	}
	owned := make(map[string]bool, len(m.functions))
	for name := range m.functions {
		owned[name] = true
	}
	p.envs.Store(&envs)
	p.owned.Store(&owned)
	return nil
}

// domainURL is a custom domain's URL on the sandbox's listener.
func (s *Sandbox) domainURL(domain, id, service string) string {
	if domain == id+"."+service+".localhost" {
		return EnvironmentURL(s.Addr(), id, service)
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	return "http://" + domain + ":" + port + "/"
}

// awsError is an AWS API error: status, error type (X-Amzn-ErrorType) and message.
type awsError struct {
	status int
	code   string
	msg    string
}

func (e *awsError) Error() string { return e.code + ": " + e.msg }

func apiErr(status int, code, format string, a ...any) *awsError {
	return &awsError{status: status, code: code, msg: fmt.Sprintf(format, a...)}
}

// writeAWSError answers err as the AWS APIs do: the error type in a header
// and the body's __type, the text in "message". Errors that are not an
// awsError are the sandbox's own (500).
func (s *Sandbox) writeAWSError(w http.ResponseWriter, r *http.Request, err error, internal string) {
	var ae *awsError
	if !errors.As(err, &ae) {
		if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
			// The caller went away mid-request (a tofu stopped with its
			// run, or the sandbox shutting down under it): nobody reads
			// this answer, and the control plane did nothing wrong.
			s.log.Info("aws control plane: request abandoned by its caller", "method", r.Method, "path", r.URL.Path, "err", err)
		} else {
			s.log.Error("aws control plane", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		ae = &awsError{status: http.StatusInternalServerError, code: internal, msg: err.Error()}
	}
	w.Header().Set("X-Amzn-Errortype", ae.code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.msg, "Type": "User"})
}

// decodeAWS reads a JSON body strictly: a field the sandbox does not know is
// a provider bug to hear about, not to ignore.
func decodeAWS(w http.ResponseWriter, r *http.Request, v any, badRequest string) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiErr(http.StatusBadRequest, badRequest, "request body: %v", err)
	}
	return nil
}

func writeAWSJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// requestRegion is the region of the request's SigV4 credential scope
// (Credential=<key>/<date>/<region>/<service>/aws4_request), else us-east-1.
func requestRegion(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if _, cred, ok := strings.Cut(auth, "Credential="); ok {
		cred, _, _ = strings.Cut(cred, ",")
		if parts := strings.Split(cred, "/"); len(parts) == 5 && parts[2] != "" {
			return parts[2]
		}
	}
	return "us-east-1"
}

func (s *Sandbox) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// changed recompiles after a committed change; a failure here leaves the
// change recorded but not yet served, which the next change or restart
// repairs, so the caller hears about it as a server error.
func (s *Sandbox) changed(ctx context.Context) error {
	if err := s.aws.compile(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("change recorded, serving not updated: %w", err)
	}
	return nil
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomID is n characters of [a-z0-9], like API Gateway's IDs.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func now() time.Time { return time.Now().UTC() }

// model is every control-plane table, read in one go for compile.
type model struct {
	functions   map[string]functionConfig
	permissions map[string][]permission // by function
	apis        map[string]restAPI
	paths       map[string]map[string]string // api -> resource id -> path
	deployments map[[2]string]apiDeployment  // (api, id)
	stages      map[[2]string]string         // (api, stage) -> deployment
	domains     map[string]domainName
	domainOrder []string
	mappings    map[string][]basePathMapping // by domain
}

func loadModel(ctx context.Context, db *sql.DB) (*model, error) {
	m := &model{
		functions: map[string]functionConfig{}, permissions: map[string][]permission{}, apis: map[string]restAPI{},
		paths: map[string]map[string]string{}, deployments: map[[2]string]apiDeployment{}, stages: map[[2]string]string{},
		domains: map[string]domainName{}, mappings: map[string][]basePathMapping{},
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	scan := func(query string, each func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = errors.Join(
		scan(`SELECT name, config FROM aws_lambda_functions`, func(r *sql.Rows) error {
			var name, js string
			var c functionConfig
			if err := r.Scan(&name, &js); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(js), &c); err != nil {
				return fmt.Errorf("function %s: %w", name, err)
			}
			m.functions[name] = c
			return nil
		}),
		scan(`SELECT function, statement FROM aws_lambda_permissions ORDER BY function, sid`, func(r *sql.Rows) error {
			var fn, js string
			var p permission
			if err := r.Scan(&fn, &js); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(js), &p); err != nil {
				return fmt.Errorf("permission of %s: %w", fn, err)
			}
			m.permissions[fn] = append(m.permissions[fn], p)
			return nil
		}),
		scan(`SELECT id, doc FROM apigw_rest_apis`, func(r *sql.Rows) error {
			var id, js string
			var a restAPI
			if err := r.Scan(&id, &js); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(js), &a); err != nil {
				return fmt.Errorf("REST API %s: %w", id, err)
			}
			m.apis[id] = a
			return nil
		}),
		scan(`SELECT api_id, doc FROM apigw_deployments`, func(r *sql.Rows) error {
			var api, js string
			var d apiDeployment
			if err := r.Scan(&api, &js); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(js), &d); err != nil {
				return fmt.Errorf("deployment of %s: %w", api, err)
			}
			m.deployments[[2]string{api, d.ID}] = d
			return nil
		}),
		scan(`SELECT api_id, name, deployment_id FROM apigw_stages`, func(r *sql.Rows) error {
			var api, name, dep string
			if err := r.Scan(&api, &name, &dep); err != nil {
				return err
			}
			m.stages[[2]string{api, name}] = dep
			return nil
		}),
		scan(`SELECT name, doc FROM apigw_domain_names ORDER BY name`, func(r *sql.Rows) error {
			var name, js string
			var d domainName
			if err := r.Scan(&name, &js); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(js), &d); err != nil {
				return fmt.Errorf("domain name %s: %w", name, err)
			}
			m.domains[name] = d
			m.domainOrder = append(m.domainOrder, name)
			return nil
		}),
		scan(`SELECT domain, base_path, api_id, COALESCE(stage, '') FROM apigw_base_path_mappings ORDER BY domain, base_path`, func(r *sql.Rows) error {
			var b basePathMapping
			var domain string
			if err := r.Scan(&domain, &b.BasePath, &b.RestAPIID, &b.Stage); err != nil {
				return err
			}
			m.mappings[domain] = append(m.mappings[domain], b)
			return nil
		}),
	)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// site compiles one domain name; env is the environment it serves, if its
// "(none)" (or else first) mapping reaches a deployment.
func (m *model) site(domain string) (gateway.Site, *managedEnv, bool) {
	site := gateway.Site{Domain: domain}
	site.Env, site.Service = gateway.DomainLabels(domain)
	var env *managedEnv
	for _, bp := range m.mappings[domain] {
		if bp.Stage == "" {
			// Without a stage the mapping serves nothing here.
			continue
		}
		depID, ok := m.stages[[2]string{bp.RestAPIID, bp.Stage}]
		if !ok {
			continue
		}
		dep, ok := m.deployments[[2]string{bp.RestAPIID, depID}]
		if !ok {
			continue
		}
		mp := gateway.Mapping{BasePath: bp.BasePath, APIID: bp.RestAPIID, Stage: bp.Stage}
		keys := make([]string, 0, len(dep.Routes))
		firstFn := ""
		for _, rt := range dep.Routes {
			in, fn := m.integration(bp.RestAPIID, bp.Stage, rt)
			route, err := gateway.ParseRoute(rt.HTTPMethod + " " + rt.Path)
			if err != nil {
				// Checked when the resource was created; keep the rest.
				continue
			}
			mp.Routes = append(mp.Routes, gateway.SiteRoute{Route: route, Integration: in})
			keys = append(keys, route.String())
			if firstFn == "" || rt.Path == "/" {
				firstFn = fn
			}
		}
		site.Mappings = append(site.Mappings, mp)
		if env == nil || bp.BasePath == "" {
			sort.Strings(keys)
			e := &managedEnv{function: firstFn}
			e.ID, e.Service, e.Routes, e.Function = site.Env, site.Service, keys, firstFn
			if f, ok := m.functions[firstFn]; ok {
				e.ArtifactKey = f.Code.S3Key
				e.Version = strings.TrimSuffix(e.ArtifactKey[strings.LastIndexByte(e.ArtifactKey, '/')+1:], ".zip")
				e.ObjectVersion = f.Code.S3ObjectVersion
			}
			env = e
		}
	}
	if len(site.Mappings) == 0 {
		return site, nil, false
	}
	return site, env, true
}

// integration resolves a deployed route's integration: its function and
// whether API Gateway may invoke it (a Lambda permission for
// apigateway.amazonaws.com whose source ARN matches this method).
func (m *model) integration(apiID, stage string, rt snapRoute) (gateway.Integration, string) {
	in := gateway.Integration{Type: rt.Integration.Type, Authorization: rt.AuthorizationType}
	if in.Type != "AWS_PROXY" {
		return in, ""
	}
	region, fn, qualifier, ok := parseInvocationURI(rt.Integration.URI)
	if !ok {
		return in, ""
	}
	in.Function = fn
	if !strings.EqualFold(rt.Integration.HTTPMethod, "POST") {
		in.Denied = fmt.Sprintf("the integration's HTTP method is %q; Lambda is invoked with POST", rt.Integration.HTTPMethod)
		return in, fn
	}
	method := rt.HTTPMethod
	if method == "ANY" {
		method = "*"
	}
	source := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s/%s", region, Account, apiID, stage, method, strings.TrimPrefix(rt.Path, "/"))
	if _, ok := m.functions[fn]; !ok {
		in.Denied = fmt.Sprintf("function %s is not one of the control plane's (no permissions to check)", fn)
		return in, fn
	}
	if !permitted(m.permissions[fn], source, qualifier) {
		in.Denied = fmt.Sprintf("no Lambda permission lets apigateway.amazonaws.com invoke it with source ARN %s", source)
	}
	return in, fn
}

// parseInvocationURI splits
// arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations.
func parseInvocationURI(uri string) (region, function, qualifier string, ok bool) {
	parts := strings.SplitN(uri, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "apigateway" || parts[4] != "lambda" {
		return "", "", "", false
	}
	region = parts[3]
	rest, found := strings.CutPrefix(parts[5], "path/2015-03-31/functions/")
	if !found {
		return "", "", "", false
	}
	fnARN, found := strings.CutSuffix(rest, "/invocations")
	if !found {
		return "", "", "", false
	}
	function, qualifier, ok = parseFunctionRef(fnARN)
	return region, function, qualifier, ok
}

// parseFunctionRef accepts a function name, a partial ARN
// (<account>:function:<name>) or a full ARN, each with an optional qualifier.
func parseFunctionRef(ref string) (name, qualifier string, ok bool) {
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		parts = parts[6:]
	case len(parts) >= 3 && parts[1] == "function":
		parts = parts[2:]
	}
	switch len(parts) {
	case 1:
		return parts[0], "", parts[0] != ""
	case 2:
		return parts[0], parts[1], parts[0] != ""
	}
	return "", "", false
}

// permitted reports whether one of perms lets API Gateway invoke the
// function (qualifier "" for unqualified) for a request with source ARN.
func permitted(perms []permission, source, qualifier string) bool {
	for _, p := range perms {
		if p.Principal != "apigateway.amazonaws.com" && p.Principal != "*" {
			continue
		}
		if p.Action != "lambda:InvokeFunction" && p.Action != "lambda:*" && p.Action != "*" {
			continue
		}
		if p.Qualifier != qualifier {
			continue
		}
		if p.SourceAccount != "" && p.SourceAccount != Account {
			continue
		}
		if p.SourceArn != "" && !arnLike(p.SourceArn, source) {
			continue
		}
		return true
	}
	return false
}

// arnLike is IAM's ArnLike: each of the six colon-separated parts matched on
// its own, with * (any run of characters) and ? (one character).
func arnLike(pattern, arn string) bool {
	pp, ap := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !wildcard(pp[i], ap[i]) {
			return false
		}
	}
	return true
}

func wildcard(p, s string) bool {
	// Iterative glob with backtracking to the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
