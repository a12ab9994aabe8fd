variable "service" {
  type        = string
  description = "Service name; environments are served at <id>.<service>.<preview_domain>."
  default     = "hello-service"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.service))
    error_message = "The service must be a lowercase DNS label of 2 to 40 characters."
  }
}

variable "preview_domain" {
  type        = string
  description = "Parent domain of all preview environments, e.g. preview.example.com (localhost in the local sandbox)."

  validation {
    # localhost is the local sandbox's domain: *.localhost resolves to
    # loopback everywhere, so <id>.<service>.localhost needs no DNS.
    condition     = var.preview_domain == "localhost" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.preview_domain))
    error_message = "The preview_domain must be a lowercase fully qualified domain name without a trailing dot (or localhost, the local sandbox's)."
  }
}

variable "hosted_zone_id" {
  type        = string
  description = "Route 53 hosted zone for preview_domain (or a parent of it)."

  validation {
    condition     = can(regex("^Z[A-Z0-9]{1,31}$", var.hosted_zone_id))
    error_message = "The hosted_zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "aws_region" {
  type        = string
  description = "Region of the certificate and of every environment's API (regional endpoints need the certificate in their region)."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "artifact_bucket" {
  type        = string
  description = "S3 bucket (versioned) holding the service's <code_version>.zip artifacts."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "The artifact_bucket must be a valid S3 bucket name."
  }
}

variable "aws_integration_id" {
  type        = string
  description = "Spacelift AWS integration attached to every environment stack."

  validation {
    condition     = length(var.aws_integration_id) > 0
    error_message = "The aws_integration_id must not be empty."
  }
}

variable "repository" {
  type        = string
  description = "Name (without owner) of this monorepo, whose infra/ the environment stacks run."

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.repository))
    error_message = "The repository must be a GitHub repository name without the owner."
  }
}

variable "space_id" {
  type        = string
  description = "Spacelift space of the push policy and the environment stacks."
  default     = "root"

  validation {
    condition     = length(var.space_id) > 0
    error_message = "The space_id must not be empty."
  }
}

variable "opentofu_version" {
  type        = string
  description = "OpenTofu version the environment stacks run."
  default     = "1.10.6"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.opentofu_version))
    error_message = "The opentofu_version must be an exact version such as 1.10.6."
  }
}

variable "manager_stack_id" {
  type        = string
  description = "ID of the manager stack; environment stacks are labelled preview-environment-managed-by:<this>."

  validation {
    condition     = length(var.manager_stack_id) > 0
    error_message = "The manager_stack_id must not be empty."
  }
}

variable "data_stack" {
  type        = bool
  description = "Whether every environment gets a data stack (infra/data: a bucket with the greeting) that its service stack depends on; false makes one-stack environments."
  default     = true
}
