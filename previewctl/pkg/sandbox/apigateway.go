package sandbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"preview-environments/previewctl/pkg/sandbox/gateway"
)

// The API Gateway (REST, v1) API, the part the aws provider uses, at
// APIGatewayPrefix. Creates answer 201 and are create-or-replace on the
// natural key (see awsapi.go); updates are PUTs of the whole object.
//
//	POST /restapis                                   by name
//	GET|PUT|DELETE /restapis/{api}                   (DELETE takes everything below it, and its base path mappings)
//	POST /restapis/{api}/resources/{parent}          by (parent, pathPart)
//	GET /restapis/{api}/resources                    {"items": [...]}
//	GET|PUT|DELETE /restapis/{api}/resources/{res}   (DELETE takes its children)
//	PUT|GET|DELETE /restapis/{api}/resources/{res}/methods/{method}
//	PUT|GET|DELETE /restapis/{api}/resources/{res}/methods/{method}/integration
//	POST /restapis/{api}/deployments                 a snapshot of the API's methods and integrations
//	GET|PUT|DELETE /restapis/{api}/deployments/{dep} (DELETE refused while a stage uses it, as AWS does)
//	POST /restapis/{api}/stages                      by stageName
//	GET|PUT|DELETE /restapis/{api}/stages/{stage}
//	POST /domainnames                                by domainName
//	GET|PUT|DELETE /domainnames/{domain}
//	POST /domainnames/{domain}/basepathmappings      by basePath ("(none)" is the empty one)
//	GET|PUT|DELETE /domainnames/{domain}/basepathmappings/{basePath}

type endpointConfig struct {
	Types          []string `json:"types"`
	VpcEndpointIDs []string `json:"vpcEndpointIds,omitempty"`
	IPAddressType  string   `json:"ipAddressType,omitempty"`
}

type restAPI struct {
	ID                        string            `json:"id"`
	Name                      string            `json:"name"`
	Description               string            `json:"description,omitempty"`
	CreatedDate               string            `json:"createdDate"`
	RootResourceID            string            `json:"rootResourceId"`
	APIKeySource              string            `json:"apiKeySource,omitempty"`
	BinaryMediaTypes          []string          `json:"binaryMediaTypes,omitempty"`
	MinimumCompressionSize    *int64            `json:"minimumCompressionSize,omitempty"`
	DisableExecuteAPIEndpoint bool              `json:"disableExecuteApiEndpoint"`
	EndpointConfiguration     *endpointConfig   `json:"endpointConfiguration,omitempty"`
	Policy                    string            `json:"policy,omitempty"`
	Tags                      map[string]string `json:"tags,omitempty"`
	// Region is the sandbox's: the one the API was created in (for ARNs).
	Region string `json:"region"`
}

type apiResource struct {
	ID       string `json:"id"`
	ParentID string `json:"parentId,omitempty"`
	PathPart string `json:"pathPart,omitempty"`
	Path     string `json:"path"`
}

type apiMethod struct {
	HTTPMethod          string            `json:"httpMethod"`
	AuthorizationType   string            `json:"authorizationType"`
	AuthorizerID        string            `json:"authorizerId,omitempty"`
	APIKeyRequired      bool              `json:"apiKeyRequired"`
	OperationName       string            `json:"operationName,omitempty"`
	RequestModels       map[string]string `json:"requestModels,omitempty"`
	RequestParameters   map[string]bool   `json:"requestParameters,omitempty"`
	RequestValidatorID  string            `json:"requestValidatorId,omitempty"`
	AuthorizationScopes []string          `json:"authorizationScopes,omitempty"`
}

type tlsConfig struct {
	InsecureSkipVerification bool `json:"insecureSkipVerification"`
}

type apiIntegration struct {
	Type                string            `json:"type"`
	HTTPMethod          string            `json:"httpMethod,omitempty"`
	URI                 string            `json:"uri,omitempty"`
	ConnectionType      string            `json:"connectionType,omitempty"`
	ConnectionID        string            `json:"connectionId,omitempty"`
	Credentials         string            `json:"credentials,omitempty"`
	RequestParameters   map[string]string `json:"requestParameters,omitempty"`
	RequestTemplates    map[string]string `json:"requestTemplates,omitempty"`
	PassthroughBehavior string            `json:"passthroughBehavior,omitempty"`
	ContentHandling     string            `json:"contentHandling,omitempty"`
	TimeoutInMillis     int64             `json:"timeoutInMillis,omitempty"`
	CacheNamespace      string            `json:"cacheNamespace,omitempty"`
	CacheKeyParameters  []string          `json:"cacheKeyParameters,omitempty"`
	TLSConfig           *tlsConfig        `json:"tlsConfig,omitempty"`
}

// snapRoute is one method as a deployment froze it.
type snapRoute struct {
	ResourceID        string         `json:"resourceId"`
	Path              string         `json:"path"`
	HTTPMethod        string         `json:"httpMethod"`
	AuthorizationType string         `json:"authorizationType"`
	Integration       apiIntegration `json:"integration"`
}

type apiDeployment struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	CreatedDate string `json:"createdDate"`
	// Routes is the snapshot the stage serves; AWS shows only its summary.
	Routes []snapRoute `json:"sandboxRoutes"`
	// Request-only: a stage to create or move along with the deployment.
	StageName        string            `json:"stageName,omitempty"`
	StageDescription string            `json:"stageDescription,omitempty"`
	Variables        map[string]string `json:"variables,omitempty"`
}

type accessLogSettings struct {
	DestinationArn string `json:"destinationArn"`
	Format         string `json:"format"`
}

type apiStage struct {
	StageName            string             `json:"stageName"`
	DeploymentID         string             `json:"deploymentId"`
	Description          string             `json:"description,omitempty"`
	CreatedDate          string             `json:"createdDate"`
	LastUpdatedDate      string             `json:"lastUpdatedDate"`
	Variables            map[string]string  `json:"variables,omitempty"`
	Tags                 map[string]string  `json:"tags,omitempty"`
	CacheClusterEnabled  bool               `json:"cacheClusterEnabled"`
	CacheClusterSize     string             `json:"cacheClusterSize,omitempty"`
	TracingEnabled       bool               `json:"tracingEnabled"`
	ClientCertificateID  string             `json:"clientCertificateId,omitempty"`
	DocumentationVersion string             `json:"documentationVersion,omitempty"`
	AccessLogSettings    *accessLogSettings `json:"accessLogSettings,omitempty"`
	CanarySettings       json.RawMessage    `json:"canarySettings,omitempty"`
	WebACLArn            string             `json:"webAclArn,omitempty"`
}

type domainName struct {
	DomainName                          string            `json:"domainName"`
	CertificateArn                      string            `json:"certificateArn,omitempty"`
	CertificateName                     string            `json:"certificateName,omitempty"`
	CertificateUploadDate               string            `json:"certificateUploadDate,omitempty"`
	RegionalCertificateArn              string            `json:"regionalCertificateArn,omitempty"`
	RegionalCertificateName             string            `json:"regionalCertificateName,omitempty"`
	RegionalDomainName                  string            `json:"regionalDomainName,omitempty"`
	RegionalHostedZoneID                string            `json:"regionalHostedZoneId,omitempty"`
	DistributionDomainName              string            `json:"distributionDomainName,omitempty"`
	DistributionHostedZoneID            string            `json:"distributionHostedZoneId,omitempty"`
	EndpointConfiguration               *endpointConfig   `json:"endpointConfiguration,omitempty"`
	SecurityPolicy                      string            `json:"securityPolicy,omitempty"`
	DomainNameStatus                    string            `json:"domainNameStatus,omitempty"`
	OwnershipVerificationCertificateArn string            `json:"ownershipVerificationCertificateArn,omitempty"`
	MutualTLSAuthentication             json.RawMessage   `json:"mutualTlsAuthentication,omitempty"`
	Policy                              string            `json:"policy,omitempty"`
	Tags                                map[string]string `json:"tags,omitempty"`
	Region                              string            `json:"region,omitempty"`
}

type basePathMapping struct {
	BasePath  string `json:"basePath"`
	RestAPIID string `json:"restApiId"`
	Stage     string `json:"stage,omitempty"`
}

var (
	apiMethods   = map[string]bool{"ANY": true, "GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	authTypes    = map[string]bool{"NONE": true, "AWS_IAM": true, "CUSTOM": true, "COGNITO_USER_POOLS": true}
	integTypes   = map[string]bool{"AWS": true, "AWS_PROXY": true, "HTTP": true, "HTTP_PROXY": true, "MOCK": true}
	stageNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	basePathRE   = regexp.MustCompile(`^[a-zA-Z0-9$_.+!*'()-]+(/[a-zA-Z0-9$_.+!*'()-]+)*$`)
	certARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-zA-Z-]+$`)
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?$`)
	endpointKind = map[string]bool{"EDGE": true, "REGIONAL": true, "PRIVATE": true}
)

// regionalZones are API Gateway's regional hosted zone IDs (the alias
// target zone of a regional custom domain).
var regionalZones = map[string]string{
	"us-east-1": "Z1UJRXOUMOOFQ8", "us-east-2": "ZOJJZC49E0EPZ", "us-west-1": "Z2MUQ32089INYE", "us-west-2": "Z2OJLYMUO9EFXC",
	"eu-west-1": "ZLY8HYME6SFDD", "eu-west-2": "ZJ5UAJN8Y3Z2Q", "eu-central-1": "Z1U9ULNL0V5AJ3",
	"ap-southeast-1": "ZL327KTPIQFUL", "ap-southeast-2": "Z2RPCDW04V8134", "ap-northeast-1": "Z1YSHQZHG15GKL",
}

// cloudFrontZone is CloudFront's hosted zone ID, an edge domain's alias target zone.
const cloudFrontZone = "Z2FDTNDATAQYW2"

func badRequest(format string, a ...any) error {
	return apiErr(http.StatusBadRequest, "BadRequestException", format, a...)
}

func notFoundErr(format string, a ...any) error {
	return apiErr(http.StatusNotFound, "NotFoundException", format, a...)
}

func (s *Sandbox) mountAPIGatewayAPI() {
	const p = APIGatewayPrefix
	handle := func(pattern string, status int, h func(*http.Request) (any, error)) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			v, err := h(r)
			if err == nil && r.Method != http.MethodGet {
				err = s.changed(r.Context())
			}
			if err != nil {
				s.writeAWSError(w, r, err, "InternalFailure")
				return
			}
			if v == nil {
				w.WriteHeader(status)
				return
			}
			writeAWSJSON(w, status, v)
		})
	}
	dec := func(r *http.Request, v any) error {
		d := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return badRequest("request body: %v", err)
		}
		return nil
	}

	handle("POST "+p+"/restapis", http.StatusCreated, func(r *http.Request) (any, error) {
		var in restAPI
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.createRestAPI(r.Context(), in, requestRegion(r))
	})
	handle("GET "+p+"/restapis/{api}", http.StatusOK, func(r *http.Request) (any, error) {
		return s.restAPI(r.Context(), s.db, r.PathValue("api"))
	})
	handle("PUT "+p+"/restapis/{api}", http.StatusOK, func(r *http.Request) (any, error) {
		var in restAPI
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.updateRestAPI(r.Context(), r.PathValue("api"), in)
	})
	handle("DELETE "+p+"/restapis/{api}", http.StatusAccepted, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "REST API", `DELETE FROM apigw_rest_apis WHERE id = ?`, r.PathValue("api"))
	})

	handle("POST "+p+"/restapis/{api}/resources/{parent}", http.StatusCreated, func(r *http.Request) (any, error) {
		var in apiResource
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.createResource(r.Context(), r.PathValue("api"), r.PathValue("parent"), in.PathPart)
	})
	handle("GET "+p+"/restapis/{api}/resources", http.StatusOK, func(r *http.Request) (any, error) {
		rs, err := s.resources(r.Context(), s.db, r.PathValue("api"))
		if err != nil {
			return nil, err
		}
		items := make([]apiResource, 0, len(rs))
		for _, res := range rs {
			items = append(items, res)
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
		return map[string]any{"items": items}, nil
	})
	handle("GET "+p+"/restapis/{api}/resources/{res}", http.StatusOK, func(r *http.Request) (any, error) {
		return s.resource(r.Context(), s.db, r.PathValue("api"), r.PathValue("res"))
	})
	handle("PUT "+p+"/restapis/{api}/resources/{res}", http.StatusOK, func(r *http.Request) (any, error) {
		var in apiResource
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.updateResource(r.Context(), r.PathValue("api"), r.PathValue("res"), in)
	})
	handle("DELETE "+p+"/restapis/{api}/resources/{res}", http.StatusAccepted, func(r *http.Request) (any, error) {
		api, res := r.PathValue("api"), r.PathValue("res")
		a, err := s.restAPI(r.Context(), s.db, api)
		if err != nil {
			return nil, err
		}
		if res == a.RootResourceID {
			return nil, badRequest("Cannot delete the root resource of REST API %s", api)
		}
		return nil, s.deleteWhere(r.Context(), "resource", `DELETE FROM apigw_resources WHERE api_id = ? AND id = ?`, api, res)
	})

	const method = p + "/restapis/{api}/resources/{res}/methods/{method}"
	handle("PUT "+method, http.StatusCreated, func(r *http.Request) (any, error) {
		var in apiMethod
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putMethod(r.Context(), r.PathValue("api"), r.PathValue("res"), r.PathValue("method"), in)
	})
	handle("GET "+method, http.StatusOK, func(r *http.Request) (any, error) {
		var m apiMethod
		return m, s.getDoc(r.Context(), &m, "method", `SELECT doc FROM apigw_methods WHERE api_id = ? AND resource_id = ? AND http_method = ?`,
			r.PathValue("api"), r.PathValue("res"), strings.ToUpper(r.PathValue("method")))
	})
	handle("DELETE "+method, http.StatusNoContent, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "method", `DELETE FROM apigw_methods WHERE api_id = ? AND resource_id = ? AND http_method = ?`,
			r.PathValue("api"), r.PathValue("res"), strings.ToUpper(r.PathValue("method")))
	})
	handle("PUT "+method+"/integration", http.StatusCreated, func(r *http.Request) (any, error) {
		var in apiIntegration
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putIntegration(r.Context(), r.PathValue("api"), r.PathValue("res"), r.PathValue("method"), in)
	})
	handle("GET "+method+"/integration", http.StatusOK, func(r *http.Request) (any, error) {
		var in apiIntegration
		return in, s.getDoc(r.Context(), &in, "integration", `SELECT doc FROM apigw_integrations WHERE api_id = ? AND resource_id = ? AND http_method = ?`,
			r.PathValue("api"), r.PathValue("res"), strings.ToUpper(r.PathValue("method")))
	})
	handle("DELETE "+method+"/integration", http.StatusNoContent, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "integration", `DELETE FROM apigw_integrations WHERE api_id = ? AND resource_id = ? AND http_method = ?`,
			r.PathValue("api"), r.PathValue("res"), strings.ToUpper(r.PathValue("method")))
	})

	handle("POST "+p+"/restapis/{api}/deployments", http.StatusCreated, func(r *http.Request) (any, error) {
		var in apiDeployment
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.createDeployment(r.Context(), r.PathValue("api"), in)
	})
	handle("GET "+p+"/restapis/{api}/deployments/{dep}", http.StatusOK, func(r *http.Request) (any, error) {
		var d apiDeployment
		err := s.getDoc(r.Context(), &d, "deployment", `SELECT doc FROM apigw_deployments WHERE api_id = ? AND id = ?`, r.PathValue("api"), r.PathValue("dep"))
		return d, err
	})
	handle("PUT "+p+"/restapis/{api}/deployments/{dep}", http.StatusOK, func(r *http.Request) (any, error) {
		var in apiDeployment
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.updateDeployment(r.Context(), r.PathValue("api"), r.PathValue("dep"), in)
	})
	handle("DELETE "+p+"/restapis/{api}/deployments/{dep}", http.StatusAccepted, func(r *http.Request) (any, error) {
		return nil, s.deleteDeployment(r.Context(), r.PathValue("api"), r.PathValue("dep"))
	})

	handle("POST "+p+"/restapis/{api}/stages", http.StatusCreated, func(r *http.Request) (any, error) {
		var in apiStage
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putStage(r.Context(), r.PathValue("api"), in.StageName, in, false)
	})
	handle("GET "+p+"/restapis/{api}/stages/{stage}", http.StatusOK, func(r *http.Request) (any, error) {
		var st apiStage
		err := s.getDoc(r.Context(), &st, "stage", `SELECT doc FROM apigw_stages WHERE api_id = ? AND name = ?`, r.PathValue("api"), r.PathValue("stage"))
		return st, err
	})
	handle("PUT "+p+"/restapis/{api}/stages/{stage}", http.StatusOK, func(r *http.Request) (any, error) {
		var in apiStage
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putStage(r.Context(), r.PathValue("api"), r.PathValue("stage"), in, true)
	})
	handle("DELETE "+p+"/restapis/{api}/stages/{stage}", http.StatusAccepted, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "stage", `DELETE FROM apigw_stages WHERE api_id = ? AND name = ?`, r.PathValue("api"), r.PathValue("stage"))
	})

	handle("POST "+p+"/domainnames", http.StatusCreated, func(r *http.Request) (any, error) {
		var in domainName
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putDomainName(r.Context(), in.DomainName, in, requestRegion(r), false)
	})
	handle("GET "+p+"/domainnames/{domain}", http.StatusOK, func(r *http.Request) (any, error) {
		var d domainName
		err := s.getDoc(r.Context(), &d, "domain name", `SELECT doc FROM apigw_domain_names WHERE name = ?`, r.PathValue("domain"))
		return d, err
	})
	handle("PUT "+p+"/domainnames/{domain}", http.StatusOK, func(r *http.Request) (any, error) {
		var in domainName
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putDomainName(r.Context(), r.PathValue("domain"), in, requestRegion(r), true)
	})
	handle("DELETE "+p+"/domainnames/{domain}", http.StatusAccepted, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "domain name", `DELETE FROM apigw_domain_names WHERE name = ?`, r.PathValue("domain"))
	})

	const bpms = p + "/domainnames/{domain}/basepathmappings"
	handle("POST "+bpms, http.StatusCreated, func(r *http.Request) (any, error) {
		var in basePathMapping
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putBasePathMapping(r.Context(), r.PathValue("domain"), "", in, false)
	})
	handle("GET "+bpms+"/{bp}", http.StatusOK, func(r *http.Request) (any, error) {
		return s.basePathMapping(r.Context(), s.db, r.PathValue("domain"), r.PathValue("bp"))
	})
	handle("PUT "+bpms+"/{bp}", http.StatusOK, func(r *http.Request) (any, error) {
		var in basePathMapping
		if err := dec(r, &in); err != nil {
			return nil, err
		}
		return s.putBasePathMapping(r.Context(), r.PathValue("domain"), r.PathValue("bp"), in, true)
	})
	handle("DELETE "+bpms+"/{bp}", http.StatusAccepted, func(r *http.Request) (any, error) {
		return nil, s.deleteWhere(r.Context(), "base path mapping", `DELETE FROM apigw_base_path_mappings WHERE domain = ? AND base_path = ?`,
			r.PathValue("domain"), normalBasePath(r.PathValue("bp")))
	})
}

// deleteWhere runs a DELETE of one object; none deleted is NotFound.
func (s *Sandbox) deleteWhere(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s %v: %w", what, args, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFoundErr("Invalid %s identifier specified: %s", what, joinIDs(args))
	}
	return nil
}

// joinIDs names an object by its key parts: api/resource/METHOD.
func joinIDs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	return strings.Join(parts, "/")
}

func (s *Sandbox) getDoc(ctx context.Context, v any, what, query string, args ...any) error {
	var js string
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return notFoundErr("Invalid %s identifier specified: %s", what, joinIDs(args))
	}
	if err != nil {
		return fmt.Errorf("%s %v: %w", what, args, err)
	}
	return json.Unmarshal([]byte(js), v)
}

func (s *Sandbox) restAPI(ctx context.Context, q queryer, id string) (restAPI, error) {
	var js string
	err := q.QueryRowContext(ctx, `SELECT doc FROM apigw_rest_apis WHERE id = ?`, id).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return restAPI{}, notFoundErr("Invalid API identifier specified %s:%s", Account, id)
	}
	if err != nil {
		return restAPI{}, fmt.Errorf("REST API %s: %w", id, err)
	}
	var a restAPI
	return a, json.Unmarshal([]byte(js), &a)
}

func checkRestAPI(in *restAPI) error {
	if in.Name == "" {
		return badRequest("name: required")
	}
	if in.EndpointConfiguration == nil {
		in.EndpointConfiguration = &endpointConfig{Types: []string{"EDGE"}} // AWS's default
	}
	if ec := in.EndpointConfiguration; len(ec.Types) != 1 || !endpointKind[ec.Types[0]] {
		return badRequest("endpoint configuration types %v: want one of EDGE, REGIONAL, PRIVATE", ec.Types)
	}
	if in.EndpointConfiguration.IPAddressType == "" {
		in.EndpointConfiguration.IPAddressType = "ipv4"
	}
	if in.APIKeySource == "" {
		in.APIKeySource = "HEADER"
	}
	if in.APIKeySource != "HEADER" && in.APIKeySource != "AUTHORIZER" {
		return badRequest("api key source %q: want HEADER or AUTHORIZER", in.APIKeySource)
	}
	return nil
}

// createRestAPI adopts an existing API of the same name (see awsapi.go).
func (s *Sandbox) createRestAPI(ctx context.Context, in restAPI, region string) (restAPI, error) {
	if err := checkRestAPI(&in); err != nil {
		return restAPI{}, err
	}
	var out restAPI
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id, js string
		err := tx.QueryRowContext(ctx, `SELECT id, doc FROM apigw_rest_apis WHERE name = ?`, in.Name).Scan(&id, &js)
		switch {
		case err == nil:
			var old restAPI
			if err := json.Unmarshal([]byte(js), &old); err != nil {
				return err
			}
			in.ID, in.RootResourceID, in.CreatedDate, in.Region = old.ID, old.RootResourceID, old.CreatedDate, old.Region
			doc, _ := json.Marshal(in)
			_, err = tx.ExecContext(ctx, `UPDATE apigw_rest_apis SET doc = ? WHERE id = ?`, string(doc), id)
			out = in
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		in.ID, in.RootResourceID, in.CreatedDate, in.Region = randomID(10), randomID(10), now().Format(time.RFC3339), region
		doc, _ := json.Marshal(in)
		if _, err := tx.ExecContext(ctx, `INSERT INTO apigw_rest_apis (id, name, doc) VALUES (?, ?, ?)`, in.ID, in.Name, string(doc)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO apigw_resources (api_id, id, parent_id, path_part) VALUES (?, ?, NULL, '')`, in.ID, in.RootResourceID); err != nil {
			return err
		}
		out = in
		return nil
	})
	if err != nil {
		return restAPI{}, fmt.Errorf("create REST API %s: %w", in.Name, err)
	}
	return out, nil
}

func (s *Sandbox) updateRestAPI(ctx context.Context, id string, in restAPI) (restAPI, error) {
	if err := checkRestAPI(&in); err != nil {
		return restAPI{}, err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.restAPI(ctx, tx, id)
		if err != nil {
			return err
		}
		var other string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM apigw_rest_apis WHERE name = ? AND id <> ?`, in.Name, id).Scan(&other); err == nil {
			return apiErr(http.StatusConflict, "ConflictException", "the sandbox keeps REST API names unique: %s is REST API %s", in.Name, other)
		}
		in.ID, in.RootResourceID, in.CreatedDate, in.Region = old.ID, old.RootResourceID, old.CreatedDate, old.Region
		doc, _ := json.Marshal(in)
		_, err = tx.ExecContext(ctx, `UPDATE apigw_rest_apis SET name = ?, doc = ? WHERE id = ?`, in.Name, string(doc), id)
		return err
	})
	if err != nil {
		return restAPI{}, err
	}
	return in, nil
}

// resources returns every resource of an API with its path.
func (s *Sandbox) resources(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, api string) (map[string]apiResource, error) {
	if _, err := s.restAPI(ctx, q, api); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, COALESCE(parent_id, ''), path_part FROM apigw_resources WHERE api_id = ?`, api)
	if err != nil {
		return nil, fmt.Errorf("resources of %s: %w", api, err)
	}
	defer rows.Close()
	out := map[string]apiResource{}
	for rows.Next() {
		var r apiResource
		if err := rows.Scan(&r.ID, &r.ParentID, &r.PathPart); err != nil {
			return nil, fmt.Errorf("resources of %s: %w", api, err)
		}
		out[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resources of %s: %w", api, err)
	}
	// Paths follow the parents, so a moved resource moves its subtree.
	var path func(id string, depth int) string
	path = func(id string, depth int) string {
		r := out[id]
		if r.ParentID == "" || depth > 64 {
			return "/"
		}
		p := path(r.ParentID, depth+1)
		if p == "/" {
			return "/" + r.PathPart
		}
		return p + "/" + r.PathPart
	}
	for id, r := range out {
		r.Path = path(id, 0)
		out[id] = r
	}
	return out, nil
}

func (s *Sandbox) resource(ctx context.Context, db *sql.DB, api, id string) (apiResource, error) {
	rs, err := s.resources(ctx, db, api)
	if err != nil {
		return apiResource{}, err
	}
	r, ok := rs[id]
	if !ok {
		return apiResource{}, notFoundErr("Invalid Resource identifier specified: %s", id)
	}
	return r, nil
}

// checkPathPart validates a path part below parentPath with the gateway's
// own route rules, so that every resource the model holds can be served.
func checkPathPart(parentPath, part string, siblings []apiResource) error {
	if part == "" || strings.Contains(part, "/") {
		return badRequest("path part %q: want one path segment", part)
	}
	p := parentPath + "/" + part
	if parentPath == "/" {
		p = "/" + part
	}
	if _, err := gateway.ParseRoute("GET " + p); err != nil {
		return badRequest("Resource's path part %s: %v", part, err)
	}
	if strings.HasPrefix(part, "{") {
		for _, sib := range siblings {
			if strings.HasPrefix(sib.PathPart, "{") && sib.PathPart != part {
				return apiErr(http.StatusConflict, "ConflictException",
					"A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart)
			}
		}
	}
	return nil
}

func children(rs map[string]apiResource, parent string) []apiResource {
	var out []apiResource
	for _, r := range rs {
		if r.ParentID == parent {
			out = append(out, r)
		}
	}
	return out
}

// createResource adopts the parent's existing child of that path part.
func (s *Sandbox) createResource(ctx context.Context, api, parent, part string) (apiResource, error) {
	var out apiResource
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := s.resources(ctx, tx, api)
		if err != nil {
			return err
		}
		par, ok := rs[parent]
		if !ok {
			return notFoundErr("Invalid Resource identifier specified: %s", parent)
		}
		sibs := children(rs, parent)
		for _, sib := range sibs {
			if sib.PathPart == part {
				out = sib
				return nil
			}
		}
		if err := checkPathPart(par.Path, part, sibs); err != nil {
			return err
		}
		out = apiResource{ID: randomID(10), ParentID: parent, PathPart: part, Path: strings.TrimSuffix(par.Path, "/") + "/" + part}
		_, err = tx.ExecContext(ctx, `INSERT INTO apigw_resources (api_id, id, parent_id, path_part) VALUES (?, ?, ?, ?)`, api, out.ID, parent, part)
		return err
	})
	return out, err
}

func (s *Sandbox) updateResource(ctx context.Context, api, id string, in apiResource) (apiResource, error) {
	var out apiResource
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := s.resources(ctx, tx, api)
		if err != nil {
			return err
		}
		cur, ok := rs[id]
		if !ok {
			return notFoundErr("Invalid Resource identifier specified: %s", id)
		}
		if cur.ParentID == "" {
			return badRequest("the root resource has no path part to change")
		}
		if in.ParentID == "" {
			in.ParentID = cur.ParentID
		}
		par, ok := rs[in.ParentID]
		if !ok {
			return notFoundErr("Invalid Resource identifier specified: %s", in.ParentID)
		}
		if par.ID == id || strings.HasPrefix(par.Path+"/", cur.Path+"/") {
			return badRequest("resource %s cannot move below itself", id)
		}
		var sibs []apiResource
		for _, sib := range children(rs, in.ParentID) {
			if sib.ID == id {
				continue
			}
			if sib.PathPart == in.PathPart {
				return apiErr(http.StatusConflict, "ConflictException", "Another resource with the same parent already has this name: %s", in.PathPart)
			}
			sibs = append(sibs, sib)
		}
		if err := checkPathPart(par.Path, in.PathPart, sibs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE apigw_resources SET parent_id = ?, path_part = ? WHERE api_id = ? AND id = ?`,
			in.ParentID, in.PathPart, api, id); err != nil {
			return err
		}
		out = apiResource{ID: id, ParentID: in.ParentID, PathPart: in.PathPart, Path: strings.TrimSuffix(par.Path, "/") + "/" + in.PathPart}
		return nil
	})
	return out, err
}

// putMethod creates or replaces a method; its integration stays.
func (s *Sandbox) putMethod(ctx context.Context, api, res, method string, in apiMethod) (apiMethod, error) {
	method = strings.ToUpper(method)
	in.HTTPMethod = method
	switch {
	case !apiMethods[method]:
		return apiMethod{}, badRequest("Invalid HttpMethod specified: %s", method)
	case !authTypes[in.AuthorizationType]:
		return apiMethod{}, badRequest("authorization type %q: want NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS", in.AuthorizationType)
	case (in.AuthorizationType == "CUSTOM" || in.AuthorizationType == "COGNITO_USER_POOLS") && in.AuthorizerID == "":
		return apiMethod{}, badRequest("Invalid authorizer ID specified: a %s method needs one", in.AuthorizationType)
	}
	doc, _ := json.Marshal(in)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := s.resources(ctx, tx, api)
		if err != nil {
			return err
		}
		if _, ok := rs[res]; !ok {
			return notFoundErr("Invalid Resource identifier specified: %s", res)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO apigw_methods (api_id, resource_id, http_method, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT(api_id, resource_id, http_method) DO UPDATE SET doc = excluded.doc`, api, res, method, string(doc))
		return err
	})
	return in, err
}

func (s *Sandbox) putIntegration(ctx context.Context, api, res, method string, in apiIntegration) (apiIntegration, error) {
	method = strings.ToUpper(method)
	switch {
	case !integTypes[in.Type]:
		return apiIntegration{}, badRequest("integration type %q: want AWS, AWS_PROXY, HTTP, HTTP_PROXY or MOCK", in.Type)
	case in.Type != "MOCK" && in.HTTPMethod == "":
		return apiIntegration{}, badRequest("Enumeration value for HttpMethod must be non-empty")
	case in.Type != "MOCK" && in.URI == "":
		return apiIntegration{}, badRequest("Invalid integration URI specified: a %s integration needs one", in.Type)
	case in.TimeoutInMillis != 0 && (in.TimeoutInMillis < 50 || in.TimeoutInMillis > 29000):
		return apiIntegration{}, badRequest("timeout %d ms: want 50 to 29000", in.TimeoutInMillis)
	}
	if in.Type == "AWS_PROXY" {
		if _, _, _, ok := parseInvocationURI(in.URI); !ok {
			return apiIntegration{}, badRequest("Invalid ARN specified in the request: %s (want arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)", in.URI)
		}
	}
	in.HTTPMethod = strings.ToUpper(in.HTTPMethod)
	if in.PassthroughBehavior == "" {
		in.PassthroughBehavior = "WHEN_NO_MATCH"
	}
	if in.TimeoutInMillis == 0 {
		in.TimeoutInMillis = 29000
	}
	if in.CacheNamespace == "" {
		in.CacheNamespace = res
	}
	doc, _ := json.Marshal(in)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apigw_methods WHERE api_id = ? AND resource_id = ? AND http_method = ?`, api, res, method).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr("Invalid Method identifier specified: %s %s of resource %s", method, api, res)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO apigw_integrations (api_id, resource_id, http_method, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT(api_id, resource_id, http_method) DO UPDATE SET doc = excluded.doc`, api, res, method, string(doc))
		return err
	})
	return in, err
}

// snapshot freezes the API's methods and integrations, as CreateDeployment
// does; it refuses, as AWS does, an API without methods or with a method
// that has no integration.
func (s *Sandbox) snapshot(ctx context.Context, tx *sql.Tx, api string) ([]snapRoute, error) {
	rs, err := s.resources(ctx, tx, api)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.resource_id, m.http_method, m.doc, i.doc FROM apigw_methods m
		LEFT JOIN apigw_integrations i USING (api_id, resource_id, http_method) WHERE m.api_id = ?`, api)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []snapRoute
	for rows.Next() {
		var res, method, mdoc string
		var idoc sql.NullString
		if err := rows.Scan(&res, &method, &mdoc, &idoc); err != nil {
			return nil, err
		}
		path := rs[res].Path
		if !idoc.Valid {
			return nil, badRequest("No integration defined for method %s %s", method, path)
		}
		var m apiMethod
		var in apiIntegration
		if err := errors.Join(json.Unmarshal([]byte(mdoc), &m), json.Unmarshal([]byte(idoc.String), &in)); err != nil {
			return nil, err
		}
		out = append(out, snapRoute{ResourceID: res, Path: path, HTTPMethod: method, AuthorizationType: m.AuthorizationType, Integration: in})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, badRequest("The REST API doesn't contain any methods")
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].HTTPMethod < out[j].HTTPMethod
	})
	return out, nil
}

func (s *Sandbox) createDeployment(ctx context.Context, api string, in apiDeployment) (apiDeployment, error) {
	if in.StageName != "" && !stageNameRE.MatchString(in.StageName) {
		return apiDeployment{}, badRequest("Stage name only allows a-zA-Z0-9_-: %q", in.StageName)
	}
	var out apiDeployment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		routes, err := s.snapshot(ctx, tx, api)
		if err != nil {
			return err
		}
		out = apiDeployment{ID: randomID(6), Description: in.Description, CreatedDate: now().Format(time.RFC3339), Routes: routes}
		doc, _ := json.Marshal(out)
		if _, err := tx.ExecContext(ctx, `INSERT INTO apigw_deployments (api_id, id, doc) VALUES (?, ?, ?)`, api, out.ID, string(doc)); err != nil {
			return err
		}
		if in.StageName != "" {
			_, err := s.putStageTx(ctx, tx, api, in.StageName, apiStage{StageName: in.StageName, DeploymentID: out.ID, Description: in.StageDescription, Variables: in.Variables}, false)
			return err
		}
		return nil
	})
	return out, err
}

func (s *Sandbox) updateDeployment(ctx context.Context, api, id string, in apiDeployment) (apiDeployment, error) {
	var out apiDeployment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var js string
		if err := tx.QueryRowContext(ctx, `SELECT doc FROM apigw_deployments WHERE api_id = ? AND id = ?`, api, id).Scan(&js); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFoundErr("Invalid Deployment identifier specified: %s", id)
			}
			return err
		}
		if err := json.Unmarshal([]byte(js), &out); err != nil {
			return err
		}
		// Only the description changes: the snapshot is what a deployment is.
		out.Description = in.Description
		doc, _ := json.Marshal(out)
		_, err := tx.ExecContext(ctx, `UPDATE apigw_deployments SET doc = ? WHERE api_id = ? AND id = ?`, string(doc), api, id)
		return err
	})
	return out, err
}

func (s *Sandbox) deleteDeployment(ctx context.Context, api, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var stages []string
		rows, err := tx.QueryContext(ctx, `SELECT name FROM apigw_stages WHERE api_id = ? AND deployment_id = ? ORDER BY name`, api, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			stages = append(stages, n)
		}
		rows.Close()
		if len(stages) > 0 {
			return badRequest("Active stages pointing to this deployment must be moved or deleted (%s)", strings.Join(stages, ", "))
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM apigw_deployments WHERE api_id = ? AND id = ?`, api, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundErr("Invalid Deployment identifier specified: %s", id)
		}
		return nil
	})
}

func (s *Sandbox) putStage(ctx context.Context, api, name string, in apiStage, update bool) (apiStage, error) {
	var out apiStage
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.putStageTx(ctx, tx, api, name, in, update)
		return err
	})
	return out, err
}

// putStageTx creates or replaces the stage name; update requires it to exist.
func (s *Sandbox) putStageTx(ctx context.Context, tx *sql.Tx, api, name string, in apiStage, update bool) (apiStage, error) {
	if !stageNameRE.MatchString(name) {
		return apiStage{}, badRequest("Stage name only allows a-zA-Z0-9_-: %q", name)
	}
	if in.DeploymentID == "" {
		return apiStage{}, badRequest("deploymentId: required")
	}
	if _, err := s.restAPI(ctx, tx, api); err != nil {
		return apiStage{}, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apigw_deployments WHERE api_id = ? AND id = ?`, api, in.DeploymentID).Scan(&n); err != nil {
		return apiStage{}, err
	}
	if n == 0 {
		return apiStage{}, badRequest("Invalid deployment identifier specified: %s", in.DeploymentID)
	}
	var js string
	err := tx.QueryRowContext(ctx, `SELECT doc FROM apigw_stages WHERE api_id = ? AND name = ?`, api, name).Scan(&js)
	in.StageName, in.LastUpdatedDate = name, now().Format(time.RFC3339)
	in.CreatedDate = in.LastUpdatedDate
	switch {
	case err == nil:
		var old apiStage
		if err := json.Unmarshal([]byte(js), &old); err != nil {
			return apiStage{}, err
		}
		in.CreatedDate = old.CreatedDate
	case errors.Is(err, sql.ErrNoRows):
		if update {
			return apiStage{}, notFoundErr("Invalid Stage identifier specified: %s", name)
		}
	default:
		return apiStage{}, err
	}
	doc, _ := json.Marshal(in)
	_, err = tx.ExecContext(ctx, `INSERT INTO apigw_stages (api_id, name, deployment_id, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT(api_id, name) DO UPDATE SET deployment_id = excluded.deployment_id, doc = excluded.doc`, api, name, in.DeploymentID, string(doc))
	return in, err
}

// checkDomainName accepts what can be a Host header on the sandbox without
// shadowing the sandbox itself: a DNS name of two or more labels, not an IP.
func checkDomainName(name string) error {
	if name != strings.ToLower(name) || net.ParseIP(name) != nil || !strings.Contains(name, ".") || len(name) > 253 {
		return badRequest("domain name %q: want a lower-case DNS name of two or more labels", name)
	}
	for _, l := range strings.Split(name, ".") {
		if !dnsLabelRE.MatchString(l) {
			return badRequest("domain name %q: label %q is not a DNS label", name, l)
		}
	}
	return nil
}

// putDomainName creates or replaces a custom domain name. Its regional
// domain name is derived from the name, so an adopted domain keeps it.
func (s *Sandbox) putDomainName(ctx context.Context, name string, in domainName, region string, update bool) (domainName, error) {
	if in.DomainName != "" && in.DomainName != name {
		return domainName{}, badRequest("domain name %s differs from the path's %s", in.DomainName, name)
	}
	in.DomainName = name
	if err := checkDomainName(name); err != nil {
		return domainName{}, err
	}
	if in.EndpointConfiguration == nil {
		in.EndpointConfiguration = &endpointConfig{Types: []string{"EDGE"}}
	}
	ec := in.EndpointConfiguration
	if len(ec.Types) != 1 || !endpointKind[ec.Types[0]] {
		return domainName{}, badRequest("endpoint configuration types %v: want one of EDGE, REGIONAL, PRIVATE", ec.Types)
	}
	if ec.IPAddressType == "" {
		ec.IPAddressType = "ipv4"
	}
	if in.SecurityPolicy == "" {
		in.SecurityPolicy = "TLS_1_2"
	}
	if in.SecurityPolicy != "TLS_1_0" && in.SecurityPolicy != "TLS_1_2" {
		return domainName{}, badRequest("security policy %q: want TLS_1_0 or TLS_1_2", in.SecurityPolicy)
	}
	sum := sha256.Sum256([]byte("domain:" + name))
	h := hex.EncodeToString(sum[:])
	switch ec.Types[0] {
	case "REGIONAL":
		if !certARNRE.MatchString(in.RegionalCertificateArn) {
			return domainName{}, badRequest("a REGIONAL domain name needs a regional certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got %q", in.RegionalCertificateArn)
		}
		in.RegionalDomainName = "d-" + h[:10] + ".execute-api." + region + ".amazonaws.com"
		in.RegionalHostedZoneID = regionalZones[region]
		if in.RegionalHostedZoneID == "" {
			in.RegionalHostedZoneID = "Z" + strings.ToUpper(h[10:23])
		}
	case "EDGE":
		if !certARNRE.MatchString(in.CertificateArn) {
			return domainName{}, badRequest("an EDGE domain name needs a certificate ARN (arn:aws:acm:us-east-1:<account>:certificate/<id>), got %q", in.CertificateArn)
		}
		in.DistributionDomainName = "d" + h[:13] + ".cloudfront.net"
		in.DistributionHostedZoneID = cloudFrontZone
	}
	in.DomainNameStatus, in.Region = "AVAILABLE", region
	if in.CertificateUploadDate == "" {
		in.CertificateUploadDate = now().Format(time.RFC3339)
	}
	doc, _ := json.Marshal(in)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apigw_domain_names WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if update && n == 0 {
			return notFoundErr("Invalid domain name identifier specified: %s", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO apigw_domain_names (name, doc) VALUES (?, ?)
			ON CONFLICT(name) DO UPDATE SET doc = excluded.doc`, name, string(doc))
		return err
	})
	return in, err
}

// normalBasePath maps API Gateway's "(none)" (and "") to "".
func normalBasePath(bp string) string {
	if bp == "(none)" {
		return ""
	}
	return strings.Trim(bp, "/")
}

func (s *Sandbox) basePathMapping(ctx context.Context, q queryer, domain, bp string) (basePathMapping, error) {
	b := basePathMapping{BasePath: normalBasePath(bp)}
	err := q.QueryRowContext(ctx, `SELECT api_id, COALESCE(stage, '') FROM apigw_base_path_mappings WHERE domain = ? AND base_path = ?`,
		domain, b.BasePath).Scan(&b.RestAPIID, &b.Stage)
	if errors.Is(err, sql.ErrNoRows) {
		return basePathMapping{}, notFoundErr("Invalid base path mapping identifier specified: %s/%s", domain, bp)
	}
	if err != nil {
		return basePathMapping{}, err
	}
	if b.BasePath == "" {
		b.BasePath = "(none)"
	}
	return b, nil
}

// putBasePathMapping creates or replaces the mapping of in.BasePath; an
// update (of oldBP) may move it to another base path.
func (s *Sandbox) putBasePathMapping(ctx context.Context, domain, oldBP string, in basePathMapping, update bool) (basePathMapping, error) {
	bp := normalBasePath(in.BasePath)
	if bp != "" && !basePathRE.MatchString(bp) {
		return basePathMapping{}, badRequest("base path %q: not a valid base path", in.BasePath)
	}
	if in.RestAPIID == "" {
		return basePathMapping{}, badRequest("restApiId: required")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apigw_domain_names WHERE name = ?`, domain).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr("Invalid domain name identifier specified: %s", domain)
		}
		if _, err := s.restAPI(ctx, tx, in.RestAPIID); err != nil {
			return badRequest("Invalid REST API identifier specified: %s", in.RestAPIID)
		}
		var stage any // NULL: no stage
		if in.Stage != "" {
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM apigw_stages WHERE api_id = ? AND name = ?`, in.RestAPIID, in.Stage).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return badRequest("Invalid stage identifier specified: %s", in.Stage)
			}
			stage = in.Stage
		}
		if update {
			res, err := tx.ExecContext(ctx, `DELETE FROM apigw_base_path_mappings WHERE domain = ? AND base_path = ?`, domain, normalBasePath(oldBP))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFoundErr("Invalid base path mapping identifier specified: %s/%s", domain, oldBP)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO apigw_base_path_mappings (domain, base_path, api_id, stage) VALUES (?, ?, ?, ?)
			ON CONFLICT(domain, base_path) DO UPDATE SET api_id = excluded.api_id, stage = excluded.stage`, domain, bp, in.RestAPIID, stage)
		return err
	})
	if err != nil {
		return basePathMapping{}, err
	}
	out := basePathMapping{BasePath: bp, RestAPIID: in.RestAPIID, Stage: in.Stage}
	if bp == "" {
		out.BasePath = "(none)"
	}
	return out, nil
}
