package cloud

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// functions reads Lambda to prove an environment's function is gone.
type functions struct{ c *lambda.Client }

func newFunctions(ctx context.Context, region string) (*functions, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &functions{c: lambda.NewFromConfig(cfg)}, nil
}

// gone returns nil when the function does not exist, an error naming its
// state when it does, and the API error when Lambda cannot be asked.
func (f *functions) gone(ctx context.Context, name string) error {
	out, err := f.c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lambda GetFunction %s: %w", name, err)
	}
	return fmt.Errorf("lambda function %s still exists (state %s)", name, out.Configuration.State)
}

// describe is one line for failure output.
func (f *functions) describe(ctx context.Context, name string) string {
	out, err := f.c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return fmt.Sprintf("aws: lambda function %s does not exist", name)
	case err != nil:
		return fmt.Sprintf("aws: lambda function %s: %v", name, err)
	}
	c := out.Configuration
	return fmt.Sprintf("aws: lambda function %s state %s, last update %s %s, modified %s",
		name, c.State, c.LastUpdateStatus, aws.ToString(c.LastUpdateStatusReason), aws.ToString(c.LastModified))
}

// FunctionGone returns nil when Lambda (in region, or the SDK's default)
// has no function called name, else an error naming its state.
func FunctionGone(ctx context.Context, region, name string) error {
	f, err := newFunctions(ctx, region)
	if err != nil {
		return err
	}
	return f.gone(ctx, name)
}
