# Identities and least-privilege grants. One service account per role in the pipeline; every grant
# is on the single resource it concerns, except where IAM offers no narrower level (commented).
# No primitive roles (owner/editor/viewer) anywhere; no allUsers/allAuthenticatedUsers.

resource "google_service_account" "fetcher" {
  project      = var.project_id
  account_id   = "${local.prefix}-fetcher"
  display_name = "IOC Stream fetcher"
  description  = "Runs the fetcher function: reads the GTI key, pages ioc_stream, publishes chunks."
}

resource "google_service_account" "sender" {
  project      = var.project_id
  account_id   = "${local.prefix}-sender"
  display_name = "IOC Stream sender"
  description  = "Runs the sender function: imports chunks into Google SecOps."
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${local.prefix}-push"
  display_name = "IOC Stream push identity"
  description  = "Identity of the Pub/Sub push subscriptions' OIDC tokens; may only invoke the two functions."
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${local.prefix}-scheduler"
  display_name = "IOC Stream scheduler"
  description  = "Identity of the Cloud Scheduler job; may only publish to the trigger topic."
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${local.prefix}-build"
  display_name = "IOC Stream function build"
  description  = "Cloud Build identity for building the two functions from the source archive."
}

# ---------------------------------------------------------------------------------------------
# Fetcher: the GTI key (that one secret), publish chunks and continuation triggers, the checkpoint.

resource "google_secret_manager_secret_iam_member" "fetcher_reads_gti_key" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.gti_api_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.fetcher.member
}

resource "google_pubsub_topic_iam_member" "fetcher_publishes_chunks" {
  project = var.project_id
  topic   = google_pubsub_topic.chunks.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.fetcher.member
}

resource "google_pubsub_topic_iam_member" "fetcher_publishes_continuations" {
  project = var.project_id
  topic   = google_pubsub_topic.trigger.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.fetcher.member
}

# Firestore has no per-document or per-collection IAM: the project is the only level a role can be
# granted at. The condition narrows it to the checkpoint's database.
resource "google_project_iam_member" "fetcher_uses_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.fetcher.member

  condition {
    title       = "checkpoint-database-only"
    description = "Only the Firestore database holding the IOC Stream checkpoint."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${local.firestore_db}\""
  }
}

# ---------------------------------------------------------------------------------------------
# Sender: import into SecOps, republish split halves, dead-letter permanent failures.

resource "google_project_iam_custom_role" "chronicle_importer" {
  project     = local.secops_project
  role_id     = var.chronicle.custom_role_id
  title       = "IOC Stream Chronicle importer"
  description = "Import logs and entities into Google SecOps (logs:import), nothing else."
  permissions = ["chronicle.logs.import", "chronicle.entities.import"]
}

# SecOps instances are not IAM resources of their own in terraform: the project bound to the
# instance is the narrowest level, and the custom role holds only the two import permissions.
resource "google_project_iam_member" "sender_imports_to_chronicle" {
  project = local.secops_project
  role    = google_project_iam_custom_role.chronicle_importer.name
  member  = google_service_account.sender.member
}

resource "google_pubsub_topic_iam_member" "sender_republishes_chunks" {
  project = var.project_id
  topic   = google_pubsub_topic.chunks.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.sender.member
}

resource "google_pubsub_topic_iam_member" "sender_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.sender.member
}

# ---------------------------------------------------------------------------------------------
# Push identity: invoke each function's underlying Cloud Run service, nothing else.

resource "google_cloud_run_v2_service_iam_member" "push_invokes_fetcher" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fetcher.service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

resource "google_cloud_run_v2_service_iam_member" "push_invokes_sender" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.sender.service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

# ---------------------------------------------------------------------------------------------
# Google-managed service agents. Enabling an API does not always create its service agent at once,
# and a grant to an agent that does not exist yet fails the first apply ("Service account ... does
# not exist"). generateServiceIdentity creates the agent if needed and returns it; the grants below
# use what it returns instead of an email built by hand. The resource exists only in the
# google-beta provider; it has nothing to update or delete (destroy only forgets it).

resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  project  = var.project_id
  service  = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_project_service_identity" "scheduler" {
  provider = google-beta
  project  = var.project_id
  service  = "cloudscheduler.googleapis.com"

  depends_on = [google_project_service.enabled]
}

# Pub/Sub service agent: what dead-lettering and authenticated push need. It publishes
# dead-lettered messages, acknowledges them on the source subscription and mints the push OIDC
# tokens. Without the first two, dead-lettered messages are never forwarded (or are lost) silently.

resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = google_project_service_identity.pubsub.member
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_chunks" {
  project      = var.project_id
  subscription = google_pubsub_subscription.chunks.name
  role         = "roles/pubsub.subscriber"
  member       = google_project_service_identity.pubsub.member
}

# Authenticated push: the service agent mints the push identity's OIDC tokens. Granted on that one
# service account (older projects lack it at project level).
resource "google_service_account_iam_member" "pubsub_agent_mints_push_tokens" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_project_service_identity.pubsub.member
}

# ---------------------------------------------------------------------------------------------
# Scheduler identity: publish fetch triggers. The job calls the Pub/Sub REST API with this
# account's OAuth token (see scheduler.tf), so the Cloud Scheduler service agent (its own identity,
# created above) mints its tokens.

resource "google_pubsub_topic_iam_member" "scheduler_publishes_triggers" {
  project = var.project_id
  topic   = google_pubsub_topic.trigger.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.scheduler.member
}

resource "google_service_account_iam_member" "scheduler_agent_mints_scheduler_tokens" {
  service_account_id = google_service_account.scheduler.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_project_service_identity.scheduler.member
}

# ---------------------------------------------------------------------------------------------
# Build identity: read the source archive, push the images to this module's repository, write logs.

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# Build logs: Cloud Logging grants log writing at project level only.
resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}
