// Package handler answers API Gateway REST API (v1) proxy events for the
// hello service: GET / and GET /hello say "<code_version>: <greeting>". The
// greeting comes from a Source when there is one (the environment's data
// bucket: PREVIEW_GREETING_BUCKET), read at request time; otherwise it is
// PREVIEW_GREETING when infra sets it, else "Hello world".
package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// EnvEnvironmentID is the environment variable infra sets to the preview
// environment's ID.
const EnvEnvironmentID = "PREVIEW_ENVIRONMENT_ID"

// EnvGreeting is the optional environment variable infra may set to change
// the message; it lets an infra-only change be visible at the URL.
const EnvGreeting = "PREVIEW_GREETING"

// DefaultGreeting is the message when EnvGreeting is unset or empty.
const DefaultGreeting = "Hello world"

// EnvGreetingBucket and EnvGreetingKey name the object holding the greeting
// (infra sets them from the data stack's outputs): when the bucket is set,
// the greeting is read from s3://<bucket>/<key> at request time and
// EnvGreeting is not used.
const (
	EnvGreetingBucket = "PREVIEW_GREETING_BUCKET"
	EnvGreetingKey    = "PREVIEW_GREETING_KEY"
)

// Source supplies the greeting at request time. An error makes the request
// answer 503; an empty greeting means DefaultGreeting.
type Source interface {
	Greeting(ctx context.Context) (string, error)
}

// Unavailable is the 503 answer's message when the Source fails (the
// cause goes to the log, not to the client).
const Unavailable = "service unavailable: the greeting could not be read"

// Allow lists the methods the routes answer.
const Allow = "GET, HEAD"

// Config is what the handler reports about itself.
type Config struct {
	// Version is the code_version the artifact was built as: a 40-hex
	// commit sha or "latest".
	Version string
	// Commit is the commit the code was built from (equal to Version unless
	// Version is "latest").
	Commit string
	// EnvironmentID is the preview environment's ID (from EnvEnvironmentID).
	EnvironmentID string
	// Greeting is the message (from EnvGreeting); empty means
	// DefaultGreeting. Ignored when Source is set.
	Greeting string
	// Source, when set, supplies the greeting for each request (from the
	// object EnvGreetingBucket/EnvGreetingKey name).
	Source Source
	// Logger receives one JSON line per request; nil discards.
	Logger *slog.Logger
}

// Handler serves the routes; it is safe for concurrent use.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Greeting == "" {
		cfg.Greeting = DefaultGreeting
	}
	return &Handler{cfg: cfg, log: log}
}

// Hello is the JSON answer.
type Hello struct {
	Version     string `json:"version"`
	Commit      string `json:"commit,omitempty"`
	Environment string `json:"environment"`
	Message     string `json:"message"`
}

type errorBody struct {
	Error string `json:"error"`
	Path  string `json:"path"`
}

// Handle answers one proxy event. It never returns an error: every outcome
// is an HTTP response, so API Gateway never turns it into a bare 502. A
// greeting that cannot be read is a 503 saying so, with the cause in the
// request's log line.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := time.Now()
	wantJSON := prefersJSON(header(req, "Accept"))
	var resp events.APIGatewayProxyResponse
	var failure error
	switch {
	case !known(req.Path):
		resp = h.errorResponse(http.StatusNotFound, "not found", req.Path, wantJSON)
	case req.HTTPMethod != http.MethodGet && req.HTTPMethod != http.MethodHead:
		resp = h.errorResponse(http.StatusMethodNotAllowed, "method not allowed", req.Path, wantJSON)
		resp.Headers["Allow"] = Allow
	default:
		greeting, err := h.greeting(ctx)
		switch {
		case err != nil:
			failure = err
			resp = h.errorResponse(http.StatusServiceUnavailable, Unavailable, req.Path, wantJSON)
			// The Source caches for at most a second or two: a retry soon
			// after may well succeed.
			resp.Headers["Retry-After"] = "1"
		case wantJSON:
			b, _ := json.Marshal(Hello{Version: h.cfg.Version, Commit: h.cfg.Commit, Environment: h.cfg.EnvironmentID, Message: greeting})
			resp = response(http.StatusOK, "application/json", string(b))
		default:
			resp = response(http.StatusOK, "text/plain; charset=utf-8", h.cfg.Version+": "+greeting)
		}
	}
	if req.HTTPMethod == http.MethodHead {
		resp.Headers["Content-Length"] = strconv.Itoa(len(resp.Body))
		resp.Body = ""
	}
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("lambda_request_id", lambdaRequestID(ctx)),
		slog.String("method", req.HTTPMethod),
		slog.String("path", req.Path),
		slog.Int("status", resp.StatusCode),
		slog.String("environment", h.cfg.EnvironmentID),
		slog.String("version", h.cfg.Version),
		slog.Duration("duration", time.Since(start)),
	}
	level := slog.LevelInfo
	if failure != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", failure.Error()))
	}
	h.log.LogAttrs(ctx, level, "request", attrs...)
	return resp, nil
}

// greeting is the request's message: the Source's when there is one.
func (h *Handler) greeting(ctx context.Context) (string, error) {
	if h.cfg.Source == nil {
		return h.cfg.Greeting, nil
	}
	g, err := h.cfg.Source.Greeting(ctx)
	if err != nil {
		return "", err
	}
	if g == "" {
		return DefaultGreeting, nil
	}
	return g, nil
}

func (h *Handler) errorResponse(status int, msg, path string, wantJSON bool) events.APIGatewayProxyResponse {
	if wantJSON {
		b, _ := json.Marshal(errorBody{Error: msg, Path: path})
		return response(status, "application/json", string(b))
	}
	return response(status, "text/plain; charset=utf-8", msg)
}

func response(status int, contentType, body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type": contentType,
			// Each environment's answer changes with every deploy; a cached
			// one would make "previewctl wait" see the old version.
			"Cache-Control": "no-store",
		},
		Body: body,
	}
}

// known matches the routes. REST API Gateway strips the stage from Path, so
// only a trailing slash needs tolerating ("/hello/" is "/hello").
func known(path string) bool {
	switch strings.TrimSuffix(path, "/") {
	case "", "/hello":
		return true
	}
	return false
}

// header reads a request header case-insensitively from either map: REST
// proxy events keep the client's spelling.
func header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			return strings.Join(vs, ",")
		}
	}
	return ""
}

// prefersJSON reports whether the Accept header explicitly asks for
// application/json at least as strongly as for plain text. Wildcards alone
// (browsers, curl) keep the original's text answer.
func prefersJSON(accept string) bool {
	if accept == "" {
		return false
	}
	qJSON, qText := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		switch mt {
		case "application/json":
			qJSON = max(qJSON, q)
		case "text/plain", "text/*":
			qText = max(qText, q)
		}
	}
	return qJSON > 0 && qJSON >= qText
}

func lambdaRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
