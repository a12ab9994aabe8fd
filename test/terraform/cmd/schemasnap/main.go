// Command schemasnap cuts a schema snapshot for tfcheck out of
// `tofu providers schema -json`, keeping only the resource and data source
// types the given module directories use.
//
//	tofu providers schema -json | schemasnap -provider registry.terraform.io/hashicorp/aws \
//	    -version 5.100.0 -captured 2026-11-28 -root . infra manager setup > aws.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"preview-environments/test/terraform/tfcheck"
)

func main() {
	if err := run(os.Stdin, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "schemasnap:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("schemasnap", flag.ContinueOnError)
	provider := fs.String("provider", "", "provider address, e.g. registry.terraform.io/hashicorp/aws")
	version := fs.String("version", "", "provider version the schema came from")
	captured := fs.String("captured", "", "date the schema was captured, YYYY-MM-DD")
	root := fs.String("root", ".", "repository root the module directories are relative to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *provider == "" || *version == "" || *captured == "" || fs.NArg() == 0 {
		return fmt.Errorf("-provider, -version, -captured and at least one module directory are required")
	}
	var full struct {
		ProviderSchemas map[string]struct {
			ResourceSchemas   map[string]*tfcheck.Entry `json:"resource_schemas"`
			DataSourceSchemas map[string]*tfcheck.Entry `json:"data_source_schemas"`
		} `json:"provider_schemas"`
	}
	if err := json.NewDecoder(in).Decode(&full); err != nil {
		return fmt.Errorf("decode providers schema from stdin: %w", err)
	}
	ps, ok := full.ProviderSchemas[*provider]
	if !ok {
		return fmt.Errorf("provider %q not in the input", *provider)
	}
	prefix := (*provider)[strings.LastIndex(*provider, "/")+1:] + "_"
	snap := tfcheck.Snapshot{
		Provider:          *provider,
		Version:           *version,
		Captured:          *captured,
		Source:            "tofu providers schema -json against the official provider binary, filtered by test/terraform/cmd/schemasnap",
		ResourceSchemas:   map[string]*tfcheck.Entry{},
		DataSourceSchemas: map[string]*tfcheck.Entry{},
	}
	dirs, err := tfcheck.ModuleDirs(*root, fs.Args()...)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		m, err := tfcheck.ParseModule(d)
		if err != nil {
			return err
		}
		for kind, dst := range map[string]map[string]*tfcheck.Entry{"resource": snap.ResourceSchemas, "data": snap.DataSourceSchemas} {
			src := ps.ResourceSchemas
			if kind == "data" {
				src = ps.DataSourceSchemas
			}
			for _, b := range m.Blocks(kind) {
				if len(b.Labels) == 0 || !strings.HasPrefix(b.Labels[0], prefix) {
					continue
				}
				e, ok := src[b.Labels[0]]
				if !ok {
					return fmt.Errorf("%s %s (in %s) is not in the provider's schema", kind, b.Labels[0], d)
				}
				dst[b.Labels[0]] = e
			}
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(snap)
}
