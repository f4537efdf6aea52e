# Topics and subscriptions.
#
#   scheduler ──> trigger topic ──push──> fetcher ──> chunks topic ──push──> sender ──> Chronicle
#                      ^  (continuations)    |              ^ (split halves)    |
#                      └─────────────────────┘              └───────────────────┤
#                                        dead-letter topic <── (max attempts) ──┘ and the sender itself
#                                              └── pull subscription (7 days) for the `dlq` commands
#
# Both functions are triggered by direct push subscriptions with an OIDC token, not by Eventarc:
# terraform then owns each subscription's retry and dead-letter policies. The push path
# /projects/P/topics/T makes functions-framework convert the raw push body into a CloudEvent.

resource "google_pubsub_topic" "trigger" {
  name                       = "${local.prefix}-trigger"
  project                    = var.project_id
  message_retention_duration = var.delivery.trigger_retention

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "chunks" {
  name                       = "${local.prefix}-chunks"
  project                    = var.project_id
  message_retention_duration = var.delivery.chunk_retention

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  name                       = "${local.prefix}-dead-letter"
  project                    = var.project_id
  message_retention_duration = "604800s"

  depends_on = [google_project_service.enabled]
}

# Fetch triggers. No dead-letter topic on purpose: a trigger carries no data (the Firestore
# checkpoint does), so a trigger that keeps failing is dropped after trigger_retention and the next
# scheduled one starts from the checkpoint; the alert "fetcher failing or not running" reports it.
resource "google_pubsub_subscription" "trigger" {
  name    = "${local.prefix}-trigger-push"
  project = var.project_id
  topic   = google_pubsub_topic.trigger.id

  # Push waits this long for the function's answer; cover the whole fetcher timeout.
  ack_deadline_seconds       = min(600, var.fetcher.timeout_seconds + 30)
  message_retention_duration = var.delivery.trigger_retention

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fetcher.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.trigger.name}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.fetcher.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.delivery.minimum_backoff
    maximum_backoff = var.delivery.maximum_backoff
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_v2_service_iam_member.push_invokes_fetcher]
}

# Chunks: every message is one logs:import request's worth of entries. Retried with backoff, then
# dead-lettered after max_delivery_attempts (the sender also dead-letters permanent failures itself).
resource "google_pubsub_subscription" "chunks" {
  name    = "${local.prefix}-chunks-push"
  project = var.project_id
  topic   = google_pubsub_topic.chunks.id

  ack_deadline_seconds       = min(600, var.sender.timeout_seconds + 30)
  message_retention_duration = var.delivery.chunk_retention

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.sender.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.chunks.name}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.sender.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.delivery.minimum_backoff
    maximum_backoff = var.delivery.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.delivery.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  # The dead-letter subscription must exist first: a message dead-lettered to a topic without a
  # subscription is gone.
  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invokes_sender,
    google_pubsub_subscription.dead_letter,
    google_pubsub_topic_iam_member.pubsub_agent_publishes_dead_letters,
  ]
}

# Dead-lettered chunks wait here for an operator (`ioc-stream dlq list|replay`): 7 days, never expires.
resource "google_pubsub_subscription" "dead_letter" {
  name    = "${local.prefix}-dead-letter"
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}
