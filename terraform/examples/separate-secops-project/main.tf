# The pipeline in its own project, importing into a SecOps instance bound to another project, with
# a named Firestore database, a 15-minute schedule and tighter delivery settings.

terraform {
  required_version = ">= 1.5, < 2.0"
}

variable "project_id" {
  description = "Project that runs the pipeline."
  type        = string
}

variable "secops_project_id" {
  description = "Project bound to the SecOps instance (receives the custom import role)."
  type        = string
}

variable "chronicle_customer_id" {
  description = "SecOps instance (customer) id, a UUID."
  type        = string
}

module "ioc_stream" {
  source = "../.."

  project_id  = var.project_id
  region      = "europe-west1"
  name_prefix = "gti-ioc"
  labels      = { team = "secops" }

  chronicle = {
    customer_id = var.chronicle_customer_id
    project_id  = var.secops_project_id
    region      = "eu"
  }

  gti = {
    filters       = "origin:hunting entity_type:file"
    initial_start = "-1d"
  }

  schedule = {
    cron           = "*/15 * * * *"
    time_zone      = "Europe/Berlin"
    period_minutes = 15
  }

  create_firestore_database = true
  firestore_database        = "ioc-stream"
  firestore_location        = "eur3"

  delivery = {
    max_delivery_attempts = 5
    maximum_backoff       = "300s"
  }

  sender = {
    max_instances = 3
  }
}

output "subscriptions" {
  description = "Subscription ids, including the dead-letter pull subscription for `ioc-stream dlq`."
  value       = module.ioc_stream.subscriptions
}
