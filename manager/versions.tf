terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "registry.terraform.io/hashicorp/aws"
      version = "~> 5.100"
    }
    spacelift = {
      source  = "registry.terraform.io/spacelift-io/spacelift"
      version = "~> 1.53"
    }
  }
}
