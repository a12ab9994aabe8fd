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
  description = "Parent domain of all preview environments, e.g. preview.example.com."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.preview_domain))
    error_message = "The preview_domain must be a lowercase fully qualified domain name without a trailing dot."
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

variable "aws_role_arn" {
  type        = string
  description = "IAM role Spacelift assumes for the manager and every environment stack (trust policy: see docs/FORK.md)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.aws_role_arn))
    error_message = "The aws_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "repository" {
  type        = string
  description = "Name (without owner) of this monorepo in the VCS integration Spacelift uses."

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.repository))
    error_message = "The repository must be a GitHub repository name without the owner."
  }
}

variable "branch" {
  type        = string
  description = "Branch the manager stack tracks; environment files are committed here."
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,243}$", var.branch)) && !can(regex("[.][.]|//|/$|[.]lock$|[.]$", var.branch))
    error_message = "The branch must be a plain git branch name."
  }
}

variable "space_id" {
  type        = string
  description = "Spacelift space for the manager stack, its policies, the AWS integration and every environment stack; the manager gets space-admin on it."
  default     = "root"

  validation {
    condition     = length(var.space_id) > 0
    error_message = "The space_id must not be empty."
  }
}

variable "manager_stack_name" {
  type        = string
  description = "Name of the manager stack."
  default     = "preview-environments-manager"

  validation {
    condition     = length(var.manager_stack_name) > 0 && length(var.manager_stack_name) <= 100
    error_message = "The manager_stack_name must be 1 to 100 characters."
  }
}

variable "opentofu_version" {
  type        = string
  description = "OpenTofu version of the manager and environment stacks."
  default     = "1.10.6"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.opentofu_version))
    error_message = "The opentofu_version must be an exact version such as 1.10.6."
  }
}
