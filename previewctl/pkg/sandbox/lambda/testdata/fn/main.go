// Command fn is a test function whose path picks its behaviour: /sleep
// outlives short timeouts, /err returns a function error, /panic crashes
// the runtime, anything else echoes FN_MESSAGE and the path.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, r events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch r.Path {
	case "/sleep":
		time.Sleep(3 * time.Second)
	case "/err":
		return events.APIGatewayProxyResponse{}, errors.New("boom")
	case "/panic":
		panic("crash")
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: os.Getenv("FN_MESSAGE") + " " + r.Path}, nil
}

func main() { lambda.Start(handle) }
