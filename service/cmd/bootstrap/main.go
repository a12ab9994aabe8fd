// Command bootstrap is the Lambda (provided.al2023 runtime) for the hello
// service. The artifact package builds it with the version baked in:
//
//	-ldflags "-X main.version=<40-hex sha|latest> -X main.commit=<40-hex sha>"
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"preview-environments/service/greeting"
	"preview-environments/service/handler"
)

// Set at link time by the packager (see package artifact).
var (
	version = "dev"
	commit  = ""
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg := handler.Config{
		Version:       version,
		Commit:        commit,
		EnvironmentID: os.Getenv(handler.EnvEnvironmentID),
		Greeting:      os.Getenv(handler.EnvGreeting),
		Logger:        log,
	}
	if os.Getenv(handler.EnvGreetingBucket) != "" {
		// The environment has a data stack: its object is the greeting,
		// read at request time. New fails only without bucket or key,
		// which FromEnv always sets here.
		src, err := greeting.New(greeting.FromEnv(os.Getenv))
		if err != nil {
			log.Error("greeting source", "error", err.Error())
			os.Exit(1)
		}
		cfg.Source = src
	}
	lambda.Start(handler.New(cfg).Handle)
}
