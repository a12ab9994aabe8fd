terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      # Fully qualified so OpenTofu and Terraform resolve the same provider.
      source  = "registry.terraform.io/hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
