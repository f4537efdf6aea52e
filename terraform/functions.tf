# The two functions, built by Cloud Build from the archive `npm run package` writes to
# build/function-source.zip (compiled dist/functions + dist/shared, package.json without dev
# dependencies, package-lock.json). The object name carries the archive's MD5, so a new build
# redeploys and an unchanged one does not.
#
# Both are HTTP functions invoked only by the push subscriptions: ingress ALLOW_INTERNAL_ONLY (a
# Pub/Sub push from the same project or VPC-SC perimeter counts as internal traffic), no
# allUsers/allAuthenticatedUsers binding, the push identity holds roles/run.invoker on each.
#
# Environment: exactly the variables of shared/core/config_table.ts CONFIG_VARIABLES whose `functions` list
# names the function, i.e. the ones its code reads (a unit test cross-checks the keys; the local
# topology, sim/local_cloud.ts, starts each function with the same set). "" means "use the code's
# default". The fetcher needs the SecOps instance too: it writes the forwarder's full resource name
# (projects/P/locations/R/instances/C/forwarders/F) into every request it builds.

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${local.prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "function-source-${filemd5(local.source_zip)}.zip"
  source = local.source_zip
}

resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${local.prefix}-functions"
  format        = "DOCKER"
  description   = "Images of the IOC Stream functions."

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"

    condition {
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.enabled]
}

locals {
  fetcher_env = {
    GCP_PROJECT_ID            = var.project_id
    VT_API_KEY_SECRET_NAME    = google_secret_manager_secret.gti_api_key.secret_id
    VT_API_KEY_SECRET_VERSION = var.gti.secret_version
    VT_API_BASE_URL           = var.gti.base_url
    VT_FILTERS                = var.gti.filters
    VT_ORDER                  = var.gti.order
    VT_LIMIT                  = tostring(var.gti.limit)
    VT_DATE_FILTER            = var.gti.initial_start
    VT_REQUESTS_PER_MINUTE    = var.gti.requests_per_minute == null ? "" : tostring(var.gti.requests_per_minute)
    VT_MAX_PAGES_WITHOUT_NEW  = tostring(var.gti.max_pages_without_new)
    CHRONICLE_PROJECT_ID      = local.secops_project
    CHRONICLE_CUSTOMER_ID     = var.chronicle.customer_id
    CHRONICLE_REGION          = var.chronicle.region
    CHRONICLE_FORWARDER_ID    = var.chronicle.forwarder_id
    CHRONICLE_LOG_TYPE        = var.chronicle.log_type
    CHRONICLE_ENTITY_CONTEXT  = tostring(var.entity_context.enabled)
    ENTITY_VALIDITY_DAYS      = tostring(var.entity_context.validity_days)
    NAMESPACE                 = var.entries.namespace
    USE_CASE_NAME             = var.entries.use_case_name
    CHUNK_MAX_BYTES           = tostring(var.entries.chunk_max_bytes)
    HTTP_TIMEOUT_SECONDS      = tostring(var.http.timeout_seconds)
    RETRY_MAX_ATTEMPTS        = tostring(var.http.retry_max_attempts)
    RETRY_MAX_SECONDS         = tostring(var.http.retry_max_seconds)
    PUBSUB_TRIGGER_TOPIC      = google_pubsub_topic.trigger.name
    PUBSUB_CHUNKS_TOPIC       = google_pubsub_topic.chunks.name
    FIRESTORE_DATABASE        = local.firestore_db
    FETCH_TIME_BUDGET_SECONDS = tostring(local.fetcher_budget)
    FETCH_LEASE_SECONDS       = tostring(var.fetcher.lease_seconds)
    LOG_LEVEL                 = var.log_level
  }

  sender_env = {
    GCP_PROJECT_ID           = var.project_id
    CHRONICLE_PROJECT_ID     = local.secops_project
    CHRONICLE_CUSTOMER_ID    = var.chronicle.customer_id
    CHRONICLE_REGION         = var.chronicle.region
    CHRONICLE_LOG_TYPE       = var.chronicle.log_type
    CHRONICLE_API_BASE_URL   = var.chronicle.api_base_url != "" ? var.chronicle.api_base_url : "https://${var.chronicle.region}-chronicle.googleapis.com"
    CHRONICLE_API_VERSION    = var.chronicle.api_version
    HTTP_TIMEOUT_SECONDS     = tostring(var.http.timeout_seconds)
    PUBSUB_CHUNKS_TOPIC      = google_pubsub_topic.chunks.name
    PUBSUB_DEAD_LETTER_TOPIC = google_pubsub_topic.dead_letter.name
    LOG_LEVEL                = var.log_level
  }
}

resource "google_cloudfunctions2_function" "fetcher" {
  project     = var.project_id
  location    = var.region
  name        = "${local.prefix}-fetcher"
  description = "Pages the GTI IOC Stream from the checkpoint and publishes chunks for the sender."

  build_config {
    runtime           = "nodejs22"
    entry_point       = "fetchIocStream"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.fetcher.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    timeout_seconds                  = var.fetcher.timeout_seconds
    available_memory                 = var.fetcher.memory
    available_cpu                    = var.fetcher.cpu
    min_instance_count               = 0
    max_instance_count               = var.fetcher.max_instances
    max_instance_request_concurrency = 1
    environment_variables            = local.fetcher_env
  }

  depends_on = [
    google_project_service.enabled,
    google_storage_bucket_iam_member.build_reads_source,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_project_iam_member.build_writes_logs,
    google_secret_manager_secret_iam_member.fetcher_reads_gti_key,
    google_firestore_database.checkpoint,
  ]
}

resource "google_cloudfunctions2_function" "sender" {
  project     = var.project_id
  location    = var.region
  name        = "${local.prefix}-sender"
  description = "Imports one chunk of IOC Stream entries into Google SecOps per push."

  build_config {
    runtime           = "nodejs22"
    entry_point       = "sendToChronicle"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.sender.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    timeout_seconds                  = var.sender.timeout_seconds
    available_memory                 = var.sender.memory
    available_cpu                    = var.sender.cpu
    min_instance_count               = 0
    max_instance_count               = var.sender.max_instances
    max_instance_request_concurrency = var.sender.concurrency
    environment_variables            = local.sender_env
  }

  depends_on = [
    google_project_service.enabled,
    google_storage_bucket_iam_member.build_reads_source,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_project_iam_member.build_writes_logs,
  ]
}
