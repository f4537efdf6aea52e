output "fetcher_url" {
  description = "URL of the fetcher function (Cloud Run service URL; internal ingress only)."
  value       = google_cloudfunctions2_function.fetcher.service_config[0].uri
}

output "sender_url" {
  description = "URL of the sender function (Cloud Run service URL; internal ingress only)."
  value       = google_cloudfunctions2_function.sender.service_config[0].uri
}

output "topics" {
  description = "Pub/Sub topic ids: trigger, chunks, dead_letter."
  value = {
    trigger     = google_pubsub_topic.trigger.name
    chunks      = google_pubsub_topic.chunks.name
    dead_letter = google_pubsub_topic.dead_letter.name
  }
}

output "subscriptions" {
  description = "Pub/Sub subscription ids: trigger (push to fetcher), chunks (push to sender), dead_letter (pull, for `ioc-stream dlq`)."
  value = {
    trigger     = google_pubsub_subscription.trigger.name
    chunks      = google_pubsub_subscription.chunks.name
    dead_letter = google_pubsub_subscription.dead_letter.name
  }
}

output "service_accounts" {
  description = "Service account emails: fetcher, sender, push, scheduler, build."
  value = {
    fetcher   = google_service_account.fetcher.email
    sender    = google_service_account.sender.email
    push      = google_service_account.push.email
    scheduler = google_service_account.scheduler.email
    build     = google_service_account.build.email
  }
}

output "secret_id" {
  description = "Secret Manager secret that must receive the GTI API key (see secret_add_version_command)."
  value       = google_secret_manager_secret.gti_api_key.secret_id
}

output "secret_add_version_command" {
  description = "Command that stores the GTI API key (read from $GTI_API_KEY) as a new secret version, outside terraform state."
  value       = "printf %s \"$GTI_API_KEY\" | gcloud secrets versions add ${google_secret_manager_secret.gti_api_key.secret_id} --project=${var.project_id} --data-file=-"
}

output "firestore_database" {
  description = "Firestore database holding the checkpoint and lease."
  value       = local.firestore_db
}

output "chronicle_role" {
  description = "Custom role (chronicle.logs.import, chronicle.entities.import) granted to the sender on the SecOps project."
  value       = google_project_iam_custom_role.chronicle_importer.name
}

output "scheduler_job" {
  description = "Cloud Scheduler job that triggers the fetcher; `gcloud scheduler jobs run <name> --location=<region>` runs it now."
  value       = google_cloud_scheduler_job.fetch.name
}

output "resume_command" {
  description = "The one command that starts the schedule (it is created paused): run it once `ioc-stream doctor` passes."
  value       = "gcloud scheduler jobs resume ${google_cloud_scheduler_job.fetch.name} --location=${var.region} --project=${var.project_id}"
}

output "dashboard_url" {
  description = "Cloud Monitoring dashboard of the pipeline."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.pipeline.id), 3)}?project=${var.project_id}"
}

output "source_object" {
  description = "gs:// URL of the deployed source archive."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}
