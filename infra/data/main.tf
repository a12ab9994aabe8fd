provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      "preview-environment-id" = var.environment
      "preview-service"        = var.service
      "preview-stack"          = "data"
    }
  }
}

# Bucket names are global across every AWS account: a fixed name would
# collide with another fork's (or a recreated environment's) bucket. The
# prefix keeps the owner recognisable, the provider's unique suffix keeps it
# free. The service stack learns the name from this stack's output through
# a stack dependency reference, never by recomputing it.
resource "aws_s3_bucket" "data" {
  bucket_prefix = "preview-${var.environment}-"

  # A preview environment's data is disposable: closing the PR must not
  # fail because the bucket still holds objects.
  force_destroy = true
}

# The greeting lives in this stack's own folder, so changing it is an
# infra change of the data stack (and of nothing the service stack reads at
# plan time): the service reads it from the bucket at request time.
resource "aws_s3_object" "greeting" {
  bucket       = aws_s3_bucket.data.id
  key          = var.greeting_key
  content      = trimspace(file("${path.module}/greeting.txt"))
  content_type = "text/plain; charset=utf-8"
}
