terraform {
  required_version = ">= 1.6.0"

  required_providers {
    spacelift = {
      source  = "registry.terraform.io/spacelift-io/spacelift"
      version = "~> 1.53"
    }
  }
}
