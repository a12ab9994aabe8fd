// Command terraform-provider-aws is the sandbox's hashicorp/aws provider
// (previewctl/internal/sandbox/providers/aws): OpenTofu installs it from the
// sandbox's filesystem mirror as registry.terraform.io/hashicorp/aws 5.100.0
// and applies infra/ and manager/ against the sandbox.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	awsprovider "preview-environments/previewctl/internal/sandbox/providers/aws"
	"preview-environments/previewctl/internal/sandbox/providers/lifeline"
)

// version is what the provider reports; the real one's major, marked as the sandbox's.
var version = "5.100.0-sandbox"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers (prints TF_REATTACH_PROVIDERS)")
	flag.Parse()
	if !*debug {
		lifeline.Hold() // a killed tofu must not leave its provider behind
	}
	lifeline.QuietSDK()
	err := providerserver.Serve(context.Background(), awsprovider.New(version), providerserver.ServeOpts{
		Address: awsprovider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
