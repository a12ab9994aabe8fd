package e2e

import (
	"strings"
	"testing"
)

func TestMissing(t *testing.T) {
	vars := []Var{Env("GITHUB_TOKEN"), Env("E2E_GITHUB_REPOSITORY"), AWSCredentials}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, "GITHUB_TOKEN,E2E_GITHUB_REPOSITORY,AWS_ACCESS_KEY_ID|AWS_PROFILE|AWS_WEB_IDENTITY_TOKEN_FILE"},
		{"all set with keys", map[string]string{"GITHUB_TOKEN": "x", "E2E_GITHUB_REPOSITORY": "a/b", "AWS_ACCESS_KEY_ID": "k"}, ""},
		{"profile is enough", map[string]string{"GITHUB_TOKEN": "x", "E2E_GITHUB_REPOSITORY": "a/b", "AWS_PROFILE": "e2e"}, ""},
		{"web identity is enough", map[string]string{"GITHUB_TOKEN": "x", "E2E_GITHUB_REPOSITORY": "a/b", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, ""},
		{"blank counts as unset", map[string]string{"GITHUB_TOKEN": "  ", "E2E_GITHUB_REPOSITORY": "a/b", "AWS_PROFILE": "p"}, "GITHUB_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(Missing(func(k string) string { return tt.env[k] }, vars...), ",")
			if got != tt.want {
				t.Errorf("Missing = %q, want %q", got, tt.want)
			}
		})
	}
}
