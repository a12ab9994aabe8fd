# These are exactly the arguments of a generated environment file
# (docs/DEVELOPING.md, "Environment identity and files"). previewctl render
# and previewctl env check their values against these validations before
# writing a file. A PR's file sets pr_owner, pr_repository and pr_number; an
# on-demand environment's file sets kind = "ondemand" and name instead.

variable "environment_id" {
  type        = string
  description = "Environment ID: for a PR the first 8 hex characters of sha256(lower(owner)/lower(repo)#N); on demand \"o\" and the first 7 hex characters of sha256(\"ondemand:\" + name)."

  # Two disjoint forms (a PR ID's first character is a hex digit, an
  # on-demand ID's is "o"), both DNS labels: the ID is the first label of
  # <id>.<service>.<domain>.
  validation {
    condition     = can(regex("^([0-9a-f]{8}|o[0-9a-f]{7})$", var.environment_id))
    error_message = "The environment_id must be 8 lowercase hexadecimal characters (a PR's) or \"o\" and 7 lowercase hexadecimal characters (an on-demand environment's)."
  }
}

variable "kind" {
  type        = string
  description = "What the environment previews: \"pr\" (a pull request, named by pr_owner, pr_repository and pr_number) or \"ondemand\" (created by hand with previewctl env create, named by name)."
  default     = "pr"

  validation {
    condition     = contains(["pr", "ondemand"], var.kind)
    error_message = "The kind must be \"pr\" or \"ondemand\"."
  }
}

variable "name" {
  type        = string
  description = "Name of an on-demand environment (kind = \"ondemand\"), e.g. qa-checkout; empty for a PR's."
  default     = ""

  validation {
    condition     = var.name == "" || can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "The name must be 3 to 40 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "service" {
  type        = string
  description = "Service the environment previews, e.g. hello-service."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.service))
    error_message = "The service must be a lowercase DNS label of 2 to 40 characters."
  }
}

variable "pr_owner" {
  type        = string
  description = "Owner (user or organisation) of the pull request's base repository; null for an on-demand environment."
  default     = null

  # GitHub's account names, as previewctl's envfile.ValidateOwner checks
  # them: letters and digits joined by single hyphens, and for a managed
  # user of an Enterprise Managed Users enterprise "_" and the enterprise's
  # 3 to 8 character shortcode (mona-cat_octo); 39 characters in all.
  validation {
    condition     = var.pr_owner == null ? true : (can(regex("^[A-Za-z0-9]+(-[A-Za-z0-9]+)*(_[A-Za-z0-9]{3,8})?$", var.pr_owner)) && can(regex("^.{1,39}$", var.pr_owner)))
    error_message = "The pr_owner must be a GitHub account name: at most 39 letters, digits and single inner hyphens, with an optional _SHORTCODE suffix (3 to 8 letters or digits) for an enterprise managed user."
  }
}

variable "pr_repository" {
  type        = string
  description = "Name (without owner) of the pull request's base repository; null for an on-demand environment."
  default     = null

  validation {
    condition     = var.pr_repository == null ? true : (can(regex("^[A-Za-z0-9._-]{1,100}$", var.pr_repository)) && !contains([".", ".."], var.pr_repository) && !can(regex("(?i)[.](git|wiki)$", var.pr_repository)))
    error_message = "The pr_repository must be a GitHub repository name: 1 to 100 letters, digits, dots, hyphens or underscores, not ending in .git or .wiki."
  }
}

variable "pr_number" {
  type        = number
  description = "Pull request number; null for an on-demand environment."
  default     = null

  validation {
    condition     = var.pr_number == null ? true : (var.pr_number >= 1 && floor(var.pr_number) == var.pr_number)
    error_message = "The pr_number must be a positive whole number."
  }
}

variable "code_version" {
  type        = string
  description = "Artifact the environment runs: the PR head sha (40 hex) when the PR changes the service, else \"latest\"."

  validation {
    condition     = can(regex("^([0-9a-f]{40}|latest)$", var.code_version))
    error_message = "The code_version must be a 40-character lowercase hex commit sha or \"latest\"."
  }
}

variable "infra_branch" {
  type        = string
  description = "Branch of this monorepo whose infra/ the environment's stack runs."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,243}$", var.infra_branch)) && !can(regex("[.][.]|//|/$|[.]lock$|[.]$", var.infra_branch))
    error_message = "The infra_branch must be a plain git branch name (letters, digits, '.', '_', '-', '/'; no '..', '//', trailing '/', '.' or '.lock')."
  }
}

variable "created_at" {
  type        = string
  description = "When the environment was first requested, RFC 3339 in UTC (e.g. 2026-11-28T05:00:00Z)."

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.created_at)) && can(formatdate("YYYY", var.created_at))
    error_message = "The created_at must be an RFC 3339 UTC timestamp like 2026-11-28T05:00:00Z."
  }
}

variable "expires_at" {
  type        = string
  description = "When garbage collection may delete the environment, RFC 3339 in UTC."

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.expires_at)) && can(formatdate("YYYY", var.expires_at))
    error_message = "The expires_at must be an RFC 3339 UTC timestamp like 2026-12-05T05:00:00Z."
  }
}

variable "shared" {
  type = object({
    manager_stack_id   = string
    space_id           = string
    repository         = string
    domain_name        = string
    hosted_zone_id     = string
    certificate_arn    = string
    push_policy_id     = string
    aws_integration_id = string
    artifact_bucket    = string
    aws_region         = string
    opentofu_version   = string
    data_stack         = bool
  })
  description = "Settings common to every environment of the service, built once by manager/<service>/main.tf and passed through unchanged."
}
