# Log-based metrics, a dashboard and alert policies.
#
# Log contract (the functions log one structured JSON line per invocation; Cloud Logging stores
# it as jsonPayload):
#   fetcher  message "fetch run finished"  event "fetch_run"        notifications, chunks, trimmed,
#            entities, entity_chunks, entities_skipped,
#            outcome = ok | continued | lease_held | failed, and on some failures a stable
#            reason = gti_quota_exceeded | invalid_trigger | time_ahead | paging_loop;
#            outcome ok = the run read the stream to its end
#            a WARN line with event "retention_gap" (last_read, retained_from) when a run starts
#            more than 7 days after the stream was last read (GTI keeps notifications 7 days)
#   sender   message "chunk processed"     event "chunk_processed"  entries, bytes,
#            kind = logs | entities (logs:import or entities:import; invalid for an unknown kind),
#            outcome = sent | split | dead_lettered | retry
# 2nd gen functions log as their Cloud Run service (resource.type cloud_run_revision).

locals {
  fetcher_service = "${local.prefix}-fetcher"
  sender_service  = "${local.prefix}-sender"

  fetch_run_filter       = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.fetcher_service}\" AND jsonPayload.event=\"fetch_run\""
  chunk_processed_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.sender_service}\" AND jsonPayload.event=\"chunk_processed\""

  metric_type = {
    fetch_runs            = "logging.googleapis.com/user/${local.metric_prefix}_fetch_runs"
    notifications_fetched = "logging.googleapis.com/user/${local.metric_prefix}_notifications_fetched"
    entries_trimmed       = "logging.googleapis.com/user/${local.metric_prefix}_entries_trimmed"
    entities_built        = "logging.googleapis.com/user/${local.metric_prefix}_entities_built"
    chunks_processed      = "logging.googleapis.com/user/${local.metric_prefix}_chunks_processed"
    chunks_sent           = "logging.googleapis.com/user/${local.metric_prefix}_chunks_sent"
    chunks_dead_lettered  = "logging.googleapis.com/user/${local.metric_prefix}_chunks_dead_lettered"
    fetch_failures        = "logging.googleapis.com/user/${local.metric_prefix}_fetch_failures"
    retention_gaps        = "logging.googleapis.com/user/${local.metric_prefix}_retention_gaps"
  }
  # The same metrics as PromQL names (dashboard): the first "/" becomes ":", other specials "_".
  promql_metric = { for k, v in local.metric_type : k => "logging_googleapis_com:user_${local.metric_prefix}_${k}" }

  absent_window_seconds = min(82800, max(600, var.alerts.fetcher_missed_periods * local.schedule_period))
  # A metric-absence condition lasts at most 23.5 hours (Cloud Monitoring, "Metric-absence alerting policies").
  stream_end_window_seconds = var.alerts.stream_end_hours * 3600
}

# --- Metrics -----------------------------------------------------------------------------------

resource "google_logging_metric" "fetch_runs" {
  project     = var.project_id
  name        = "${local.metric_prefix}_fetch_runs"
  description = "Fetcher invocations by outcome (ok, continued, lease_held, failed)."
  filter      = local.fetch_run_filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "IOC Stream fetch runs"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "ok, continued, lease_held or failed"
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }
}

resource "google_logging_metric" "notifications_fetched" {
  project         = var.project_id
  name            = "${local.metric_prefix}_notifications_fetched"
  description     = "Notifications fetched from GTI per fetcher invocation (sum = notifications fetched)."
  filter          = local.fetch_run_filter
  value_extractor = "EXTRACT(jsonPayload.notifications)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "IOC Stream notifications fetched"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 20
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "entries_trimmed" {
  project         = var.project_id
  name            = "${local.metric_prefix}_entries_trimmed"
  description     = "Entries trimmed to fit the request size, per fetcher invocation (sum = entries trimmed)."
  filter          = local.fetch_run_filter
  value_extractor = "EXTRACT(jsonPayload.trimmed)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "IOC Stream entries trimmed"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 16
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "entities_built" {
  project         = var.project_id
  name            = "${local.metric_prefix}_entities_built"
  description     = "Entities built for the entity graph per fetcher invocation (sum = indicators imported as entity context)."
  filter          = local.fetch_run_filter
  value_extractor = "EXTRACT(jsonPayload.entities)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "IOC Stream entities built"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 20
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "chunks_processed" {
  project     = var.project_id
  name        = "${local.metric_prefix}_chunks_processed"
  description = "Sender invocations by outcome (sent, split, dead_lettered, retry) and kind of chunk (logs, entities)."
  filter      = local.chunk_processed_filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "IOC Stream chunks processed"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "sent, split, dead_lettered or retry"
    }
    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "logs (logs:import) or entities (entities:import)"
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
    kind    = "EXTRACT(jsonPayload.kind)"
  }
}

resource "google_logging_metric" "chunks_sent" {
  project         = var.project_id
  name            = "${local.metric_prefix}_chunks_sent"
  description     = "Entries (log entries or entities, by kind) per chunk imported into SecOps (count = chunks sent, sum = entries sent)."
  filter          = "${local.chunk_processed_filter} AND jsonPayload.outcome=\"sent\""
  value_extractor = "EXTRACT(jsonPayload.entries)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "IOC Stream chunks sent"

    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "logs (logs:import) or entities (entities:import)"
    }
  }

  label_extractors = {
    kind = "EXTRACT(jsonPayload.kind)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 16
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "chunks_dead_lettered" {
  project         = var.project_id
  name            = "${local.metric_prefix}_chunks_dead_lettered"
  description     = "Entries (log entries or entities, by kind) per chunk the sender dead-lettered (count = chunks, sum = entries not imported)."
  filter          = "${local.chunk_processed_filter} AND jsonPayload.outcome=\"dead_lettered\""
  value_extractor = "EXTRACT(jsonPayload.entries)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "IOC Stream chunks dead-lettered"

    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "logs (logs:import) or entities (entities:import)"
    }
  }

  label_extractors = {
    kind = "EXTRACT(jsonPayload.kind)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 16
      growth_factor      = 2
      scale              = 1
    }
  }
}

resource "google_logging_metric" "fetch_failures" {
  project     = var.project_id
  name        = "${local.metric_prefix}_fetch_failures"
  description = "Failed fetch runs by reason (gti_quota_exceeded, invalid_trigger, time_ahead, paging_loop; empty for other errors)."
  filter      = "${local.fetch_run_filter} AND jsonPayload.outcome=\"failed\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "IOC Stream fetch failures"

    labels {
      key         = "reason"
      value_type  = "STRING"
      description = "gti_quota_exceeded, invalid_trigger, time_ahead, paging_loop or empty"
    }
  }

  label_extractors = {
    reason = "EXTRACT(jsonPayload.reason)"
  }
}

resource "google_logging_metric" "retention_gaps" {
  project     = var.project_id
  name        = "${local.metric_prefix}_retention_gaps"
  description = "Fetch runs that started more than 7 days after the stream was last read (GTI keeps notifications 7 days)."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.fetcher_service}\" AND jsonPayload.event=\"retention_gap\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "IOC Stream possible retention gaps"
  }
}

# --- Dashboard ---------------------------------------------------------------------------------

locals {
  subscription_filter = {
    chunks      = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.chunks.name}\""
    dead_letter = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.dead_letter.name}\""
  }

  promql_widgets = [
    ["Notifications fetched (per hour)", "sum(increase(${local.promql_metric.notifications_fetched}_sum[1h]))"],
    ["Log entries sent to SecOps (per hour)", "sum(increase(${local.promql_metric.chunks_sent}_sum{kind!=\"entities\"}[1h]))"],
    ["Entities sent to SecOps (per hour)", "sum(increase(${local.promql_metric.chunks_sent}_sum{kind=\"entities\"}[1h]))"],
    ["Entries trimmed (per hour)", "sum(increase(${local.promql_metric.entries_trimmed}_sum[1h]))"],
    ["Chunks dead-lettered (per hour)", "sum(increase(${local.promql_metric.chunks_dead_lettered}_count[1h]))"],
  ]

  filter_widgets = [
    ["Fetch runs by outcome", "metric.type=\"${local.metric_type.fetch_runs}\" AND resource.type=\"cloud_run_revision\"", "ALIGN_SUM", ["metric.label.outcome"]],
    ["Chunks by outcome and kind", "metric.type=\"${local.metric_type.chunks_processed}\" AND resource.type=\"cloud_run_revision\"", "ALIGN_SUM", ["metric.label.outcome", "metric.label.kind"]],
    ["Undelivered messages per subscription", "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=starts_with(\"${local.prefix}-\")", "ALIGN_MAX", ["resource.label.subscription_id"]],
    ["Oldest unacked message age (s)", "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=starts_with(\"${local.prefix}-\")", "ALIGN_MAX", ["resource.label.subscription_id"]],
  ]

  dashboard_widgets = concat(
    [for w in local.promql_widgets : {
      title = w[0]
      xyChart = {
        dataSets = [{
          plotType           = "STACKED_BAR"
          targetAxis         = "Y1"
          timeSeriesQuery    = { prometheusQuery = w[1] }
          minAlignmentPeriod = "3600s"
        }]
      }
    }],
    [for w in local.filter_widgets : {
      title = w[0]
      xyChart = {
        dataSets = [{
          plotType   = "LINE"
          targetAxis = "Y1"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter = w[1]
              aggregation = {
                alignmentPeriod    = "300s"
                perSeriesAligner   = w[2]
                crossSeriesReducer = "REDUCE_SUM"
                groupByFields      = w[3]
              }
            }
          }
        }]
      }
    }],
  )
}

resource "google_monitoring_dashboard" "pipeline" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "IOC Stream to SecOps (${local.prefix})"
    mosaicLayout = {
      columns = 12
      tiles = [for i, w in local.dashboard_widgets : {
        xPos   = (i % 2) * 6
        yPos   = floor(i / 2) * 4
        width  = 6
        height = 4
        widget = w
      }]
    }
  })

  depends_on = [
    google_logging_metric.fetch_runs,
    google_logging_metric.notifications_fetched,
    google_logging_metric.entries_trimmed,
    google_logging_metric.entities_built,
    google_logging_metric.chunks_processed,
    google_logging_metric.chunks_sent,
    google_logging_metric.chunks_dead_lettered,
  ]
}

# --- Alerts ------------------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "dead_letter_not_empty" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: dead-letter subscription not empty (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "Undelivered dead-lettered chunks > 0"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${local.subscription_filter.dead_letter}"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Chunks that could not be imported into SecOps are waiting in `${google_pubsub_subscription.dead_letter.name}` (kept 7 days). Log chunks go to logs:import, entity chunks to entities:import (attribute `kind`). Inspect with `ioc-stream dlq list` (grouped by kind and reason), fix the cause (log type, the importer's chronicle.logs.import / chronicle.entities.import permission, payload), then `ioc-stream dlq replay`."
  }
}

resource "google_monitoring_alert_policy" "fetcher_unhealthy" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: fetcher failing or not running (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "No successful fetch run for ${var.alerts.fetcher_missed_periods} schedule periods"

    condition_absent {
      filter   = "metric.type=\"${local.metric_type.fetch_runs}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=one_of(\"ok\", \"continued\")"
      duration = "${local.absent_window_seconds}s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "Fetch run failed"

    condition_threshold {
      filter          = "metric.type=\"${local.metric_type.fetch_runs}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The fetcher `${local.fetcher_service}` logged no `fetch_run` with outcome ok/continued for ${var.alerts.fetcher_missed_periods} schedule periods, or logged outcome failed. Check its logs (`jsonPayload.event=\"fetch_run\"`), the GTI key secret `${local.secret_id}`, the scheduler job `${local.prefix}-fetch` and the trigger subscription."
  }

  depends_on = [google_logging_metric.fetch_runs]
}

resource "google_monitoring_alert_policy" "chunk_backlog_age" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: chunk backlog too old (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "Oldest unacked chunk older than ${var.alerts.chunk_backlog_age_seconds}s"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.subscription_filter.chunks}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.chunk_backlog_age_seconds
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Chunks in `${google_pubsub_subscription.chunks.name}` wait longer than expected: the sender `${local.sender_service}` is failing (retries) or throttled. Check its logs (`jsonPayload.event=\"chunk_processed\"`, outcome retry; `jsonPayload.kind` says logs or entities) and SecOps quota."
  }
}

resource "google_monitoring_alert_policy" "gti_quota_exceeded" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: GTI API quota used up (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "ERROR"

  conditions {
    display_name = "Fetch run failed with reason gti_quota_exceeded"

    condition_threshold {
      filter          = "metric.type=\"${local.metric_type.fetch_failures}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.reason=\"gti_quota_exceeded\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "GTI answered 429 QuotaExceededError: a minute, daily or monthly quota of the API key is used up. The run stopped at once (nothing is lost: the next run continues from the checkpoint); its log line (`jsonPayload.reason=\"gti_quota_exceeded\"`) names the quota and when it resets when known (daily quotas reset at 00:00 UTC, monthly ones on the 1st). If it recurs, the schedule asks more than the quota allows: lower the frequency or set gti.requests_per_minute."
  }

  depends_on = [google_logging_metric.fetch_failures]
}

resource "google_monitoring_alert_policy" "retention_gap" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: possible gap, stream not read for over 7 days (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "CRITICAL"

  conditions {
    display_name = "A fetch run reported event retention_gap"

    condition_threshold {
      filter          = "metric.type=\"${local.metric_type.retention_gaps}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A fetch run started more than 7 days after the stream was last read to its end. GTI deletes IOC Stream notifications after 7 days, so notifications dated between `last_read` and `retained_from` (see the WARN line with `jsonPayload.event=\"retention_gap\"`) may be lost. Find why the fetcher did not run (scheduler, quota, errors) before it happens again."
  }

  depends_on = [google_logging_metric.retention_gaps]
}

resource "google_monitoring_alert_policy" "stream_not_read_to_end" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "IOC Stream: stream not read to its end for ${var.alerts.stream_end_hours} h (${local.prefix})"
  combiner              = "OR"
  notification_channels = var.notification_channels
  severity              = "WARNING"

  conditions {
    display_name = "No fetch run with outcome ok for ${var.alerts.stream_end_hours} hours"

    condition_absent {
      filter   = "metric.type=\"${local.metric_type.fetch_runs}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=\"ok\""
      duration = "${local.stream_end_window_seconds}s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "No fetch run of `${local.fetcher_service}` has read the IOC Stream to its end (outcome ok) for ${var.alerts.stream_end_hours} hours: runs fail, stop for their time budget without catching up, or do not run. GTI keeps notifications 7 days; act before a gap opens. Check the fetcher logs (`jsonPayload.event=\"fetch_run\"`)."
  }

  depends_on = [google_logging_metric.fetch_runs]
}
