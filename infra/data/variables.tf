# Set as TF_VAR_<name> on the environment's data stack by
# manager/<service>/template, like infra/'s own variables.

variable "environment" {
  type        = string
  description = "Environment ID: 8 lowercase hex characters (a PR's) or \"o\" and 7 (an on-demand environment's). Prefixes the bucket name."

  validation {
    condition     = can(regex("^([0-9a-f]{8}|o[0-9a-f]{7})$", var.environment))
    error_message = "The environment must be 8 lowercase hexadecimal characters, e.g. \"1a2b3c4d\", or \"o\" and 7 of them for an on-demand environment, e.g. \"o1a2b3c4\"."
  }
}

variable "service" {
  type        = string
  description = "Service name, e.g. hello-service. Tags every resource."
  default     = "hello-service"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.service))
    error_message = "The service must be a lowercase DNS label of 2 to 40 characters (letters, digits, hyphens)."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the bucket (the service stack's region)."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "greeting_key" {
  type        = string
  description = "Object key of the greeting in the data bucket."
  default     = "greeting.txt"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$", var.greeting_key)) && !can(regex("[.][.]|//", var.greeting_key))
    error_message = "The greeting_key must be a plain S3 key: letters, digits, '.', '_', '-', '/', no '..' or '//'."
  }
}
