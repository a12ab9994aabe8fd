// Command bootstrap is the Lambda (provided.al2023 runtime) for the hello
// service. The artifact package builds it with the version baked in:
//
//	-ldflags "-X main.version=<40-hex sha|latest> -X main.commit=<40-hex sha>"
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"preview-environments/service/handler"
)

// Set at link time by the packager (see package artifact).
var (
	version = "dev"
	commit  = ""
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h := handler.New(handler.Config{
		Version:       version,
		Commit:        commit,
		EnvironmentID: os.Getenv(handler.EnvEnvironmentID),
		Greeting:      os.Getenv(handler.EnvGreeting),
		Logger:        log,
	})
	lambda.Start(h.Handle)
}
