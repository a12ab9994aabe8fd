package cloud

import (
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		"GITHUB_TOKEN": "ghp_x", "E2E_GITHUB_REPOSITORY": "acme/preview-scratch", "E2E_PREVIEW_DOMAIN": "hello-service.preview.example.com",
		"SPACELIFT_API_KEY_ENDPOINT": "https://acme.app.spacelift.io", "SPACELIFT_API_KEY_ID": "01K", "SPACELIFT_API_KEY_SECRET": "s",
		"AWS_PROFILE": "e2e",
	}
	tests := []struct {
		name    string
		change  map[string]string
		wantErr string
	}{
		{"valid", nil, ""},
		{"no AWS credentials", map[string]string{"AWS_PROFILE": ""}, "AWS_ACCESS_KEY_ID|AWS_PROFILE|AWS_WEB_IDENTITY_TOKEN_FILE"},
		{"repo without owner", map[string]string{"E2E_GITHUB_REPOSITORY": "scratch"}, "E2E_GITHUB_REPOSITORY"},
		{"repo with path", map[string]string{"E2E_GITHUB_REPOSITORY": "acme/x/../y"}, "E2E_GITHUB_REPOSITORY"},
		{"domain with scheme", map[string]string{"E2E_PREVIEW_DOMAIN": "https://x.example.com"}, "E2E_PREVIEW_DOMAIN"},
		{"domain with injection", map[string]string{"E2E_PREVIEW_DOMAIN": "x.example.com\"; rm"}, "E2E_PREVIEW_DOMAIN"},
		{"bad service", map[string]string{"E2E_SERVICE": "Hello_Service"}, "E2E_SERVICE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.change {
				env[k] = v
			}
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Service != "hello-service" {
					t.Errorf("default service = %q", cfg.Service)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to name %s", err, tt.wantErr)
			}
		})
	}
}

func TestEnvironmentNames(t *testing.T) {
	// The ID is case-insensitive in owner and repo and differs per PR.
	a := EnvironmentID("Acme", "Preview-Scratch", 7)
	if b := EnvironmentID("acme", "preview-scratch", 7); a != b {
		t.Errorf("ID depends on case: %s vs %s", a, b)
	}
	if c := EnvironmentID("acme", "preview-scratch", 8); c == a {
		t.Errorf("PRs 7 and 8 share ID %s", a)
	}
	if len(a) != 8 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("ID %q is not 8 lowercase hex", a)
	}
	tests := []struct{ got, want string }{
		{FunctionName("hello-service", a), "preview-hello-service-" + a},
		{StackLabel(a), "preview_environment_id:" + a},
		{URL("hello-service.preview.example.com", a), "https://" + a + ".hello-service.preview.example.com/"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
