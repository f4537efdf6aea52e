terraform {
  # optional() object attributes with defaults need 1.3; `check` blocks and the tested syntax need 1.5.
  required_version = ">= 1.5, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
  }
}
