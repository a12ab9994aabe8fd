// Command terraform-provider-spacelift is the sandbox's stand-in for the
// spacelift-io/spacelift provider: tofu runs it (installed from the
// sandbox's filesystem mirror) against the sandbox's Spacelift API.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"preview-environments/previewctl/internal/sandbox/providers/lifeline"
	"preview-environments/previewctl/internal/sandbox/providers/spacelift"
)

func main() {
	debug := flag.Bool("debug", false, "run in debug mode: print TF_REATTACH_PROVIDERS for tofu to attach to")
	flag.Parse()
	if !*debug {
		lifeline.Hold() // a killed tofu must not leave its provider behind
	}
	lifeline.QuietSDK()

	err := providerserver.Serve(context.Background(), spacelift.New, providerserver.ServeOpts{
		Address:         spacelift.Address,
		Debug:           *debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatalf("terraform-provider-spacelift: %v", err)
	}
}
