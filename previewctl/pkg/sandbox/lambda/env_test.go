package lambda

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRuntimeEnvironment: a function's runtime gets Lambda's variables
// (its region as AWS_REGION and AWS_DEFAULT_REGION), its own, and the
// platform's (the sandbox's S3 endpoint and credentials), each once; a
// function variable never replaces Lambda's or the platform's.
func TestRuntimeEnvironment(t *testing.T) {
	platform := map[string]string{
		"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8080/s3", "AWS_ACCESS_KEY_ID": "sandbox",
		"AWS_SECRET_ACCESS_KEY": "sandbox", "AWS_SESSION_TOKEN": "sandbox",
		"AWS_REGION": "ignored: the region is the function's",
	}
	for _, tc := range []struct {
		name     string
		spec     Spec
		platform map[string]string
		want     []string // NAME=value, in any order
		absent   []string // names (or NAME=value) that must not be there
	}{
		{name: "defaults, no platform", spec: Spec{Name: "f", Version: "v1", Timeout: 3 * time.Second},
			want:   []string{"AWS_LAMBDA_FUNCTION_NAME=f", "AWS_LAMBDA_FUNCTION_VERSION=v1", "AWS_LAMBDA_FUNCTION_TIMEOUT=3", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"},
			absent: []string{"AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "_HANDLER", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}},
		{name: "region, handler, memory, variables and the platform's",
			spec: Spec{Name: "f", Version: "v1", Timeout: 1500 * time.Millisecond, Region: "eu-west-1", Handler: "bootstrap", MemoryMB: 128,
				Env: map[string]string{"PREVIEW_GREETING_BUCKET": "preview-x", "PREVIEW_ENVIRONMENT_ID": "0a1b2c3d"}},
			platform: platform,
			want: []string{"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1", "AWS_LAMBDA_FUNCTION_TIMEOUT=2", "_HANDLER=bootstrap",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "PREVIEW_GREETING_BUCKET=preview-x", "PREVIEW_ENVIRONMENT_ID=0a1b2c3d",
				"AWS_ENDPOINT_URL_S3=http://127.0.0.1:8080/s3", "AWS_ACCESS_KEY_ID=sandbox", "AWS_SECRET_ACCESS_KEY=sandbox", "AWS_SESSION_TOKEN=sandbox"},
			absent: []string{"AWS_REGION=ignored: the region is the function's"}},
		{name: "the platform's endpoint wins over the function's",
			spec:     Spec{Name: "f", Version: "v1", Timeout: time.Second, Env: map[string]string{"AWS_ENDPOINT_URL_S3": "http://elsewhere"}},
			platform: platform,
			want:     []string{"AWS_ENDPOINT_URL_S3=http://127.0.0.1:8080/s3"},
			absent:   []string{"AWS_ENDPOINT_URL_S3=http://elsewhere"}},
		{name: "a reserved name in a stored spec is dropped",
			spec: Spec{Name: "f", Version: "v1", Timeout: time.Second, Env: map[string]string{"AWS_REGION": "mars-1", "AWS_SECRET_ACCESS_KEY": "mine", "K": "v"}},
			want: []string{"AWS_REGION=us-east-1", "K=v"}, absent: []string{"AWS_REGION=mars-1", "AWS_SECRET_ACCESS_KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Manager{log: slog.New(slog.DiscardHandler)}
			if tc.platform != nil {
				m.SetRuntimeEnv(func() map[string]string { return tc.platform })
			}
			env := m.environ(&Function{Spec: tc.spec, dir: "/fn"})
			seen := map[string]int{}
			for _, kv := range env {
				k, _, _ := strings.Cut(kv, "=")
				seen[k]++
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s set %d times in %q", k, n, env)
				}
			}
			for _, w := range tc.want {
				if !slices.Contains(env, w) {
					t.Errorf("no %s in %q", w, env)
				}
			}
			for _, a := range tc.absent {
				for _, kv := range env {
					if kv == a || strings.HasPrefix(kv, a+"=") {
						t.Errorf("%s in %q", kv, env)
					}
				}
			}
		})
	}
}

// TestNormalizeRefusesReservedNames: Lambda's reserved variables are
// refused in Lambda's words, naming them; others are fine.
func TestNormalizeRefusesReservedNames(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AWS_REGION": "x"}, "Reserved keys used in this request: AWS_REGION"},
		{map[string]string{"AWS_SESSION_TOKEN": "x", "AWS_ACCESS_KEY_ID": "y", "OK": "z"}, "Reserved keys used in this request: AWS_ACCESS_KEY_ID,AWS_SESSION_TOKEN"},
		{map[string]string{"_HANDLER": "x"}, "Reserved keys used in this request: _HANDLER"},
		{map[string]string{"LAMBDA_RUNTIME_DIR": "x"}, "Reserved keys used in this request: LAMBDA_RUNTIME_DIR"},
		{map[string]string{"1BAD": "x"}, "not a valid name"},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://x", "TZ": "UTC", "PATH": "/bin"}, ""},
	} {
		s := Spec{Name: "f", Version: "v1", ArtifactKey: "k.zip", Env: tc.env}
		err := s.Normalize()
		if tc.want == "" {
			if err != nil {
				t.Errorf("Normalize(%v) = %v; want nil", tc.env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(%v) = %v; want %q", tc.env, err, tc.want)
		}
	}
	if err := (&Spec{Name: "f", Version: "v1", ArtifactKey: "k.zip", Region: "Mars"}).Normalize(); err == nil {
		t.Error("Normalize accepted region \"Mars\"")
	}
}
