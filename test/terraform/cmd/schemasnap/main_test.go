package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"preview-environments/test/terraform/tfcheck"
)

const providersSchema = `{"format_version":"1.0","provider_schemas":{"registry.terraform.io/hashicorp/aws":{
 "resource_schemas":{
  "aws_iam_role":{"version":0,"block":{"attributes":{"name":{"type":"string","optional":true,"description":"d"},"arn":{"type":"string","computed":true}}}},
  "aws_s3_bucket":{"version":0,"block":{"attributes":{"bucket":{"type":"string","optional":true}}}}},
 "data_source_schemas":{
  "aws_s3_object":{"version":0,"block":{"attributes":{"key":{"type":"string","required":true}}}}}}}}`

func TestRun(t *testing.T) {
	tests := []struct {
		name, module string
		args         []string
		wantRes      []string
		wantData     []string
		wantErr      string
	}{
		{
			name:     "keeps only used types",
			module:   "resource \"aws_iam_role\" \"r\" {}\ndata \"aws_s3_object\" \"o\" {\n  key = \"k\"\n}\nresource \"spacelift_stack\" \"s\" {}\n",
			wantRes:  []string{"aws_iam_role"},
			wantData: []string{"aws_s3_object"},
		},
		{
			name:    "type missing from the provider",
			module:  "resource \"aws_lambda_functoin\" \"f\" {}\n",
			wantErr: "aws_lambda_functoin",
		},
		{
			name:    "provider not in input",
			module:  "resource \"aws_iam_role\" \"r\" {}\n",
			args:    []string{"-provider", "registry.terraform.io/hashicorp/google"},
			wantErr: "not in the input",
		},
		{
			name:    "missing flags",
			module:  "",
			args:    []string{"-version", ""},
			wantErr: "are required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "infra"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "infra/main.tf"), []byte(tt.module), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-provider", "registry.terraform.io/hashicorp/aws", "-version", "5.100.0", "-captured", "2026-11-28", "-root", root}
			args = append(args, tt.args...)
			args = append(args, "infra")
			var out bytes.Buffer
			err := run(strings.NewReader(providersSchema), &out, args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error mentioning %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var snap tfcheck.Snapshot
			if err := json.Unmarshal(out.Bytes(), &snap); err != nil {
				t.Fatal(err)
			}
			if got := keys(snap.ResourceSchemas); strings.Join(got, ",") != strings.Join(tt.wantRes, ",") {
				t.Errorf("resources = %v, want %v", got, tt.wantRes)
			}
			if got := keys(snap.DataSourceSchemas); strings.Join(got, ",") != strings.Join(tt.wantData, ",") {
				t.Errorf("data sources = %v, want %v", got, tt.wantData)
			}
			if snap.Captured != "2026-11-28" || snap.Version != "5.100.0" {
				t.Errorf("metadata not carried: %+v", snap)
			}
			if strings.Contains(out.String(), `"description"`) {
				t.Error("descriptions should be dropped to keep the snapshot small")
			}
			if !snap.ResourceSchemas["aws_iam_role"].Block.Attributes["arn"].Computed {
				t.Error("computed flag lost")
			}
		})
	}
}

func keys(m map[string]*tfcheck.Entry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
