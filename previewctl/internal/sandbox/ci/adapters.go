package ci

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-github/v60/github"

	"preview-environments/service/artifact"
	"preview-environments/update-file-action/updatefile"
)

// GitHubContents is Contents as production runs it: update-file-action's
// Apply through a GitHub API client (the sandbox's points at the GitHub
// stand-in).
type GitHubContents struct{ Client *github.Client }

// Apply writes or deletes req.Path with updatefile.Apply.
func (g GitHubContents) Apply(ctx context.Context, req updatefile.Request) (updatefile.Result, error) {
	return updatefile.Apply(ctx, g.Client, req)
}

// S3Artifacts is Artifacts as production runs it: service/artifact's build
// and upload, into Bucket through an S3 client.
type S3Artifacts struct {
	Client *s3.Client
	Bucket string
}

// Build runs artifact.Build.
func (a S3Artifacts) Build(ctx context.Context, opts artifact.BuildOptions) (*artifact.Artifact, error) {
	return artifact.Build(ctx, opts)
}

// Upload runs artifact.Upload into the bucket.
func (a S3Artifacts) Upload(ctx context.Context, key string, zip []byte) (artifact.UploadResult, error) {
	return artifact.Upload(ctx, a.Client, a.Bucket, key, zip)
}

// Stat is a HeadObject of key in the bucket.
func (a S3Artifacts) Stat(ctx context.Context, key string) error {
	_, err := a.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	return err
}
