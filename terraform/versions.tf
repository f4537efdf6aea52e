terraform {
  # optional() object attributes with defaults need 1.3; 1.5 is the oldest release this is written for.
  required_version = ">= 1.5, < 2.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    # Only for google_project_service_identity (iam.tf), which the GA provider does not have. Its
    # `member` attribute exists from google-beta 5.39; same major and minor floor as google.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50"
    }
  }
}
