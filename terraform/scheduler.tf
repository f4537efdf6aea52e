# The schedule. A pubsub_target would publish as the Cloud Scheduler service agent, a Google-managed
# identity shared by every job in the project. Instead the job calls the Pub/Sub REST API
# (topics.publish) with the OAuth token of its own service account, which holds only
# roles/pubsub.publisher on the trigger topic: the trigger's publisher is visible and revocable.

locals {
  trigger_message = {
    messages = [{
      data       = base64encode(jsonencode({ reason = "schedule" }))
      attributes = { source = "cloud-scheduler" }
    }]
  }
}

resource "google_cloud_scheduler_job" "fetch" {
  project     = var.project_id
  region      = var.region
  name        = "${local.prefix}-fetch"
  description = "Triggers one IOC Stream fetch run (the checkpoint decides where it starts)."
  schedule    = var.schedule.cron
  time_zone   = var.schedule.time_zone
  paused      = var.schedule.paused

  attempt_deadline = "60s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "10s"
    max_backoff_duration = "120s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://pubsub.googleapis.com/v1/${google_pubsub_topic.trigger.id}:publish"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode(local.trigger_message))

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/pubsub"
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_pubsub_topic_iam_member.scheduler_publishes_triggers,
    google_service_account_iam_member.scheduler_agent_mints_scheduler_tokens,
    google_pubsub_subscription.trigger,
  ]
}
