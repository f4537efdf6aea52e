# Smallest deployment: one project that is also bound to the SecOps instance, defaults elsewhere.
#   npm ci && npm run package        (writes ../../build/function-source.zip)
#   terraform init && terraform apply -var project_id=... -var chronicle_customer_id=...

terraform {
  required_version = ">= 1.5, < 2.0"
}

variable "project_id" {
  description = "Project to deploy into."
  type        = string
}

variable "chronicle_customer_id" {
  description = "SecOps instance (customer) id, a UUID."
  type        = string
}

variable "notification_channels" {
  description = "Notification channel ids for the alerts."
  type        = list(string)
  default     = []
}

module "ioc_stream" {
  source = "../.."

  project_id = var.project_id
  region     = "us-central1"

  chronicle = {
    customer_id = var.chronicle_customer_id
    region      = "us"
    log_type    = "GTI_IOC_STREAM"
  }

  gti = {
    filters = "origin:hunting"
  }

  notification_channels = var.notification_channels
}

output "dashboard_url" {
  description = "Cloud Monitoring dashboard of the pipeline."
  value       = module.ioc_stream.dashboard_url
}

output "secret_add_version_command" {
  description = "Run once to store the GTI API key."
  value       = module.ioc_stream.secret_add_version_command
}
