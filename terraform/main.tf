# Shared names and the required APIs. The other files group the resources by concern: iam.tf,
# secret_firestore.tf, pubsub.tf, functions.tf, scheduler.tf, monitoring.tf.

locals {
  prefix          = var.name_prefix
  secops_project  = var.chronicle.project_id != "" ? var.chronicle.project_id : var.project_id
  secret_id       = var.gti.secret_id != "" ? var.gti.secret_id : "${var.name_prefix}-gti-api-key"
  source_zip      = var.source_archive_path != "" ? var.source_archive_path : "${path.module}/build/function-source.zip"
  fetcher_budget  = var.fetcher.time_budget_seconds != null ? var.fetcher.time_budget_seconds : var.fetcher.timeout_seconds - 60
  firestore_db    = var.firestore_database
  metric_prefix   = replace(var.name_prefix, "-", "_")
  schedule_period = var.schedule.period_minutes * 60

  apis = toset([
    "artifactregistry.googleapis.com",
    "chronicle.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.apis

  project = var.project_id
  service = each.value
  # Other workloads in the project may use the same APIs: never switch them off on destroy.
  disable_on_destroy         = false
  disable_dependent_services = false
}
