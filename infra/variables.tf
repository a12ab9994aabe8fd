# These names are the contract with manager/<service>/template: it sets each
# one as TF_VAR_<name> on the environment's stack, and the local sandbox reads
# this file to learn them.

variable "environment" {
  type        = string
  description = "Environment ID: 8 lowercase hex characters (a PR's) or \"o\" and 7 (an on-demand environment's). Names the function, the stage and the host <environment>.<domain_name>."

  # The two forms are disjoint (a PR ID starts with a hex digit, an
  # on-demand ID with "o") and both are DNS labels.
  validation {
    condition     = can(regex("^([0-9a-f]{8}|o[0-9a-f]{7})$", var.environment))
    error_message = "The environment must be 8 lowercase hexadecimal characters (a DNS label), e.g. \"1a2b3c4d\", or \"o\" and 7 of them for an on-demand environment, e.g. \"o1a2b3c4\"."
  }
}

variable "service" {
  type        = string
  description = "Service name, e.g. hello-service. Part of resource names."
  default     = "hello-service"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.service))
    error_message = "The service must be a lowercase DNS label of 2 to 40 characters (letters, digits, hyphens)."
  }
}

variable "code_version" {
  type        = string
  description = "Artifact to run: a 40-hex commit sha or \"latest\". The function's code is s3://<artifact_bucket>/<code_version>.zip."

  validation {
    condition     = can(regex("^([0-9a-f]{40}|latest)$", var.code_version))
    error_message = "The code_version must be a 40-character lowercase hex commit sha or \"latest\"."
  }
}

variable "artifact_bucket" {
  type        = string
  description = "S3 bucket holding <code_version>.zip artifacts. Must have versioning enabled so a new latest.zip redeploys the function."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "The artifact_bucket must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "domain_name" {
  type        = string
  description = "The service's preview domain, e.g. hello-service.preview.example.com. The environment is served at <environment>.<domain_name>."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "The domain_name must be a lowercase fully qualified domain name without a trailing dot, e.g. hello-service.preview.example.com."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ARN of the validated ACM certificate for *.<domain_name>, in the same region as this API (created by the manager)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "The certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "hosted_zone_id" {
  type        = string
  description = "Route 53 hosted zone that holds <domain_name>; the environment's alias record goes here."

  validation {
    condition     = can(regex("^Z[A-Z0-9]{1,31}$", var.hosted_zone_id))
    error_message = "The hosted_zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region for every resource; the artifact bucket and the certificate must be in it too."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the function's logs."
  default     = 7

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90."
  }
}

# Set by the environment's data stack (infra/data) through
# spacelift_stack_dependency_reference: its outputs bucket and greeting_key.
# Empty greeting_bucket means no data stack: the function answers with its
# built-in greeting and gets no S3 permission.
variable "greeting_bucket" {
  type        = string
  description = "Data bucket holding the greeting the function reads at request time (the data stack's output bucket); empty for a one-stack environment."
  default     = ""

  validation {
    condition     = var.greeting_bucket == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.greeting_bucket))
    error_message = "The greeting_bucket must be empty or a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "greeting_key" {
  type        = string
  description = "Key of the greeting object in greeting_bucket (the data stack's output greeting_key)."
  default     = "greeting.txt"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$", var.greeting_key)) && !can(regex("[.][.]|//", var.greeting_key))
    error_message = "The greeting_key must be a plain S3 key: letters, digits, '.', '_', '-', '/', no '..' or '//'."
  }
}
