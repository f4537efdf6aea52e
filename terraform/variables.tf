# Inputs. Every variable has a description, a type and, where a bad value is knowable before
# apply, a validation block. Grouped settings use object({ x = optional(type, default) }) so a
# terraform.tfvars only names what differs from the defaults.

variable "project_id" {
  description = "Project that receives the pipeline (functions, topics, secret, Firestore checkpoint)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler job, the source bucket and the image repository."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, topics, service accounts, metrics); lets several pipelines share a project."
  type        = string
  default     = "ioc-stream"

  validation {
    # Service account ids are at most 30 characters and the longest suffix used is "-scheduler".
    condition     = can(regex("^[a-z][a-z0-9-]{2,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 4-20 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them (provider default_labels)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))
    ])
    error_message = "labels keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$."
  }
}

variable "chronicle" {
  description = <<-EOT
    Google SecOps (Chronicle) target. customer_id: the SecOps instance id (UUID). project_id: the
    project bound to the SecOps instance ("" = project_id); the custom import role is created and
    granted there. region: SecOps region (us, eu, europe-west2, ...). log_type: the custom log type
    (create it in SecOps first). forwarder_id: optional forwarder UUID. api_base_url / api_version:
    logs:import endpoint ("" = https://<region>-chronicle.googleapis.com; v1alpha or v1beta, the only
    versions with logs:import). custom_role_id: id of the custom role holding chronicle.logs.import
    and chronicle.entities.import.
  EOT
  type = object({
    customer_id    = string
    project_id     = optional(string, "")
    region         = optional(string, "us")
    log_type       = optional(string, "GTI_IOC_STREAM")
    forwarder_id   = optional(string, "")
    api_base_url   = optional(string, "")
    api_version    = optional(string, "v1alpha")
    custom_role_id = optional(string, "iocStreamChronicleImporter")
  })

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.chronicle.customer_id))
    error_message = "chronicle.customer_id must be a UUID (the SecOps instance / customer id)."
  }
  validation {
    condition     = var.chronicle.forwarder_id == "" || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.chronicle.forwarder_id))
    error_message = "chronicle.forwarder_id must be empty or a UUID."
  }
  validation {
    condition     = var.chronicle.project_id == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.chronicle.project_id))
    error_message = "chronicle.project_id must be empty or a Google Cloud project id."
  }
  validation {
    condition     = can(regex("^[a-z]{2,}(-[a-z]+[0-9]+)?$", var.chronicle.region))
    error_message = "chronicle.region must be a SecOps region such as us, eu, europe-west2 or asia-southeast1."
  }
  validation {
    condition     = can(regex("^[A-Z][A-Z0-9_]{1,63}$", var.chronicle.log_type))
    error_message = "chronicle.log_type must be an upper-case log type such as GTI_IOC_STREAM."
  }
  validation {
    condition     = var.chronicle.api_base_url == "" || can(regex("^https://[^\\s/]+(/[^\\s]*)?$", var.chronicle.api_base_url))
    error_message = "chronicle.api_base_url must be empty or an https URL."
  }
  validation {
    # logs:import exists only under these (shared/core/config_table.ts CHRONICLE_API_VERSIONS allows the same).
    condition     = contains(["v1alpha", "v1beta"], var.chronicle.api_version)
    error_message = "chronicle.api_version must be v1alpha or v1beta (the only Chronicle API versions with logs:import)."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.]{3,64}$", var.chronicle.custom_role_id))
    error_message = "chronicle.custom_role_id must be 3-64 letters, digits, underscores or dots."
  }
}

variable "gti" {
  description = <<-EOT
    Google Threat Intelligence / VirusTotal side. secret_id: Secret Manager secret created to hold the
    API key ("" = <name_prefix>-gti-api-key); add its value by hand, see the README. secret_version:
    version the fetcher reads. base_url: GTI API base. filters: extra ioc_stream filter terms (no
    date: term). order: date+ or date-. limit: notifications per page (1..40). initial_start: where
    the very first run starts (-1h, -30m, -7d, -2w or an ISO 8601 time). requests_per_minute: pace
    GTI requests to at most this many in any minute, for keys with a per-minute quota (null = no
    pacing). max_pages_without_new: a run fails after this many consecutive pages that bring
    nothing new (a paging loop).
  EOT
  type = object({
    secret_id             = optional(string, "")
    secret_version        = optional(string, "latest")
    base_url              = optional(string, "https://www.virustotal.com/api/v3")
    filters               = optional(string, "")
    order                 = optional(string, "date+")
    limit                 = optional(number, 40)
    initial_start         = optional(string, "-1h")
    requests_per_minute   = optional(number)
    max_pages_without_new = optional(number, 100)
  })
  default = {}

  validation {
    condition     = var.gti.secret_id == "" || can(regex("^[A-Za-z0-9_-]{1,255}$", var.gti.secret_id))
    error_message = "gti.secret_id must be empty or a secret id (letters, digits, _ and -)."
  }
  validation {
    condition     = can(regex("^(latest|[1-9][0-9]*)$", var.gti.secret_version))
    error_message = "gti.secret_version must be \"latest\" or a version number."
  }
  validation {
    condition     = can(regex("^https?://[^\\s]+$", var.gti.base_url))
    error_message = "gti.base_url must be an http(s) URL."
  }
  validation {
    condition     = alltrue([for term in regexall("\\S+", var.gti.filters) : can(regex("^[a-z_]+:\\S+$", term)) && !startswith(lower(term), "date:")])
    error_message = "gti.filters must be space separated name:value terms without a date: term (the checkpoint manages the date)."
  }
  validation {
    condition     = contains(["date+", "date-"], var.gti.order)
    error_message = "gti.order must be date+ or date-."
  }
  validation {
    condition     = var.gti.limit >= 1 && var.gti.limit <= 40 && floor(var.gti.limit) == var.gti.limit
    error_message = "gti.limit must be a whole number between 1 and 40 (the ioc_stream maximum)."
  }
  validation {
    condition     = can(regex("^(-[1-9][0-9]*[mhdw]|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$", var.gti.initial_start))
    error_message = "gti.initial_start must be like -1h, -30m, -7d, -2w or an ISO 8601 time."
  }
  validation {
    condition     = var.gti.requests_per_minute == null || (coalesce(var.gti.requests_per_minute, 0) >= 1 && coalesce(var.gti.requests_per_minute, 0) <= 100000 && floor(coalesce(var.gti.requests_per_minute, 0)) == coalesce(var.gti.requests_per_minute, 0))
    error_message = "gti.requests_per_minute must be null or a whole number between 1 and 100000."
  }
  validation {
    condition     = var.gti.max_pages_without_new >= 1 && var.gti.max_pages_without_new <= 100000 && floor(var.gti.max_pages_without_new) == var.gti.max_pages_without_new
    error_message = "gti.max_pages_without_new must be a whole number between 1 and 100000."
  }
}

variable "entries" {
  description = "What goes into every log entry and chunk. namespace: optional SecOps environment namespace. use_case_name: label on every entry, also names the checkpoint. chunk_max_bytes: maximum serialized logs:import or entities:import request size."
  type = object({
    namespace       = optional(string, "")
    use_case_name   = optional(string, "ioc_stream")
    chunk_max_bytes = optional(number, 3900000)
  })
  default = {}

  validation {
    condition     = var.entries.namespace == "" || can(regex("^[A-Za-z0-9_.-]{1,64}$", var.entries.namespace))
    error_message = "entries.namespace must be empty or up to 64 letters, digits, _ . -."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,63}$", var.entries.use_case_name))
    error_message = "entries.use_case_name must be 1-63 letters, digits, _ . -."
  }
  validation {
    condition     = var.entries.chunk_max_bytes >= 10000 && var.entries.chunk_max_bytes <= 4000000
    error_message = "entries.chunk_max_bytes must be between 10000 and 4000000 (the import request limit)."
  }
}

variable "entity_context" {
  description = "Threat intelligence in the SecOps entity graph: each indicator notification is also imported as an entity (entities:import, from the log type chronicle.log_type; the custom role holds chronicle.entities.import). enabled: import entities beside the log entries. validity_days: days an indicator applies from its notification date (1..365); rules join activity inside that window."
  type = object({
    enabled       = optional(bool, true)
    validity_days = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.entity_context.validity_days >= 1 && var.entity_context.validity_days <= 365 && floor(var.entity_context.validity_days) == var.entity_context.validity_days
    error_message = "entity_context.validity_days must be a whole number between 1 and 365."
  }
}

variable "http" {
  description = "HTTP client settings: timeout of one request (both functions); attempts per request and total retry time per request (the fetcher's GTI calls; the sender does not retry in-process, Pub/Sub redelivers its chunks)."
  type = object({
    timeout_seconds    = optional(number, 60)
    retry_max_attempts = optional(number, 6)
    retry_max_seconds  = optional(number, 120)
  })
  default = {}

  validation {
    condition     = var.http.timeout_seconds >= 1 && var.http.timeout_seconds <= 600
    error_message = "http.timeout_seconds must be between 1 and 600."
  }
  validation {
    condition     = var.http.retry_max_attempts >= 1 && var.http.retry_max_attempts <= 20
    error_message = "http.retry_max_attempts must be between 1 and 20."
  }
  validation {
    condition     = var.http.retry_max_seconds >= 1 && var.http.retry_max_seconds <= 3600
    error_message = "http.retry_max_seconds must be between 1 and 3600."
  }
}

variable "log_level" {
  description = "Log level of both functions."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "fetcher" {
  description = <<-EOT
    Fetcher function. timeout_seconds: function timeout (<= 540). time_budget_seconds: when the
    fetcher stops at a page boundary and continues in a new invocation (null = timeout - 60).
    lease_seconds: checkpoint lease length. memory / cpu: instance size. max_instances: upper bound of
    instances (the lease lets only one run at a time; 2 lets a continuation start while an old
    instance drains).
  EOT
  type = object({
    timeout_seconds     = optional(number, 540)
    time_budget_seconds = optional(number)
    lease_seconds       = optional(number, 120)
    memory              = optional(string, "512Mi")
    cpu                 = optional(string, "1")
    max_instances       = optional(number, 2)
  })
  default = {}

  validation {
    condition     = var.fetcher.timeout_seconds >= 120 && var.fetcher.timeout_seconds <= 540
    error_message = "fetcher.timeout_seconds must be between 120 and 540."
  }
  validation {
    condition     = var.fetcher.time_budget_seconds == null || (coalesce(var.fetcher.time_budget_seconds, 0) >= 10 && coalesce(var.fetcher.time_budget_seconds, 0) <= var.fetcher.timeout_seconds - 30)
    error_message = "fetcher.time_budget_seconds must be null or between 10 and timeout_seconds - 30."
  }
  validation {
    condition     = var.fetcher.lease_seconds >= 10 && var.fetcher.lease_seconds <= 3600
    error_message = "fetcher.lease_seconds must be between 10 and 3600."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.fetcher.memory))
    error_message = "fetcher.memory must be like 256Mi, 512Mi or 1Gi."
  }
  validation {
    condition     = can(regex("^(0\\.[0-9]+|1|2|4|6|8)$", var.fetcher.cpu))
    error_message = "fetcher.cpu must be a fraction like 0.5 or one of 1, 2, 4, 6, 8 (what Cloud Run accepts)."
  }
  validation {
    condition     = var.fetcher.max_instances >= 1 && var.fetcher.max_instances <= 10
    error_message = "fetcher.max_instances must be between 1 and 10."
  }
}

variable "sender" {
  description = "Sender function. timeout_seconds: function timeout (<= 540); the chunks subscription's ack deadline is 30 s more. memory / cpu: instance size. max_instances: upper bound of parallel sends to Chronicle. concurrency: requests per instance."
  type = object({
    timeout_seconds = optional(number, 300)
    memory          = optional(string, "512Mi")
    cpu             = optional(string, "1")
    max_instances   = optional(number, 5)
    concurrency     = optional(number, 1)
  })
  default = {}

  validation {
    condition     = var.sender.timeout_seconds >= 60 && var.sender.timeout_seconds <= 540
    error_message = "sender.timeout_seconds must be between 60 and 540 (the push ack deadline is at most 600 s)."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.sender.memory))
    error_message = "sender.memory must be like 256Mi, 512Mi or 1Gi."
  }
  validation {
    condition     = can(regex("^(0\\.[0-9]+|1|2|4|6|8)$", var.sender.cpu))
    error_message = "sender.cpu must be a fraction like 0.5 or one of 1, 2, 4, 6, 8 (what Cloud Run accepts)."
  }
  validation {
    condition     = var.sender.max_instances >= 1 && var.sender.max_instances <= 100
    error_message = "sender.max_instances must be between 1 and 100."
  }
  validation {
    condition     = var.sender.concurrency >= 1 && var.sender.concurrency <= 8
    error_message = "sender.concurrency must be between 1 and 8."
  }
  validation {
    condition     = tonumber(var.sender.cpu) >= 1 || var.sender.concurrency == 1
    error_message = "sender.concurrency above 1 needs sender.cpu of at least 1 (Cloud Run serves one request at a time below one CPU)."
  }
}

variable "delivery" {
  description = <<-EOT
    Pub/Sub delivery of chunks to the sender. max_delivery_attempts: attempts before a chunk goes to
    the dead-letter topic (5..100). minimum_backoff / maximum_backoff: retry backoff (0s..600s).
    chunk_retention: how long an undelivered chunk is kept. trigger_retention: how long a fetch trigger
    is retried before it is dropped (the next scheduled run picks up from the checkpoint anyway).
  EOT
  type = object({
    max_delivery_attempts = optional(number, 10)
    minimum_backoff       = optional(string, "10s")
    maximum_backoff       = optional(string, "600s")
    chunk_retention       = optional(string, "604800s")
    trigger_retention     = optional(string, "3600s")
  })
  default = {}

  validation {
    condition     = var.delivery.max_delivery_attempts >= 5 && var.delivery.max_delivery_attempts <= 100
    error_message = "delivery.max_delivery_attempts must be between 5 and 100 (Pub/Sub dead-letter policy limits)."
  }
  validation {
    condition = alltrue([
      for d in [var.delivery.minimum_backoff, var.delivery.maximum_backoff] :
      can(regex("^[0-9]+(\\.[0-9]+)?s$", d)) && tonumber(trimsuffix(d, "s")) <= 600
    ])
    error_message = "delivery.minimum_backoff and maximum_backoff must be durations like 10s, at most 600s."
  }
  validation {
    condition = alltrue([
      for d in [var.delivery.chunk_retention, var.delivery.trigger_retention] :
      can(regex("^[0-9]+s$", d)) && tonumber(trimsuffix(d, "s")) >= 600 && tonumber(trimsuffix(d, "s")) <= 604800
    ])
    error_message = "delivery.chunk_retention and trigger_retention must be whole-second durations between 600s and 604800s (7 days)."
  }
}

variable "schedule" {
  description = "Cloud Scheduler job that triggers the fetcher. cron: unix-cron schedule (default hourly). time_zone: IANA time zone of the cron. period_minutes: the cron's period, used by the 'fetcher not running' alert (2 periods). paused: create the job paused (default true: nothing is fetched before the GTI key, the log type and the parser are in place; resume it with the resume_command output once `ioc-stream doctor` passes)."
  type = object({
    cron           = optional(string, "5 * * * *")
    time_zone      = optional(string, "Etc/UTC")
    period_minutes = optional(number, 60)
    paused         = optional(bool, true)
  })
  default = {}

  validation {
    condition     = can(regex("^\\s*[0-9*,/-]+\\s+[0-9*,/-]+\\s+[0-9*,/?LW-]+\\s+[0-9A-Za-z*,/-]+\\s+[0-9A-Za-z*,/?L#-]+\\s*$", var.schedule.cron))
    error_message = "schedule.cron must be a 5-field unix-cron expression such as \"5 * * * *\"."
  }
  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", var.schedule.time_zone))
    error_message = "schedule.time_zone must be an IANA time zone such as Etc/UTC or Europe/Berlin."
  }
  validation {
    condition     = var.schedule.period_minutes >= 5 && var.schedule.period_minutes <= 690
    error_message = "schedule.period_minutes must be between 5 and 690 (the absence alert window is 2 periods, at most 23 h)."
  }
}

variable "create_firestore_database" {
  description = "Create the Firestore database that holds the checkpoint and lease. Set to false to reuse an existing Native-mode database named by firestore_database."
  type        = bool
  default     = true
}

variable "firestore_database" {
  description = "Firestore database id for the checkpoint: \"(default)\" or a named database."
  type        = string
  default     = "(default)"

  validation {
    condition     = can(regex("^(\\(default\\)|[a-z][a-z0-9-]{2,62})$", var.firestore_database))
    error_message = "firestore_database must be (default) or a database id (3-63 lowercase letters, digits, hyphens)."
  }
}

variable "firestore_location" {
  description = "Location of a created Firestore database: a region (e.g. us-central1) or a multi-region (nam5, eur3). \"\" = region."
  type        = string
  default     = ""

  validation {
    condition     = var.firestore_location == "" || can(regex("^([a-z]+-[a-z]+[0-9]+|nam[0-9]+|eur[0-9]+)$", var.firestore_location))
    error_message = "firestore_location must be empty, a region such as us-central1, or a multi-region such as nam5 or eur3."
  }
}

variable "alerts" {
  description = "Alert policies. enabled: create them. chunk_backlog_age_seconds: alert when the oldest undelivered chunk is older than this. fetcher_missed_periods: alert when no successful fetch run was logged for this many schedule periods. stream_end_hours: alert when no fetch run has read the stream to its end for this many hours (1..23; GTI keeps notifications 7 days, a separate alert fires when a run finds a possible gap)."
  type = object({
    enabled                   = optional(bool, true)
    chunk_backlog_age_seconds = optional(number, 3600)
    fetcher_missed_periods    = optional(number, 2)
    stream_end_hours          = optional(number, 12)
  })
  default = {}

  validation {
    condition     = var.alerts.chunk_backlog_age_seconds >= 60 && var.alerts.chunk_backlog_age_seconds <= 604800
    error_message = "alerts.chunk_backlog_age_seconds must be between 60 and 604800."
  }
  validation {
    condition     = var.alerts.fetcher_missed_periods >= 1 && var.alerts.fetcher_missed_periods <= 12
    error_message = "alerts.fetcher_missed_periods must be between 1 and 12."
  }
  validation {
    condition     = var.alerts.stream_end_hours >= 1 && var.alerts.stream_end_hours <= 23 && floor(var.alerts.stream_end_hours) == var.alerts.stream_end_hours
    error_message = "alerts.stream_end_hours must be a whole number between 1 and 23 (a metric-absence condition lasts at most 23.5 hours)."
  }
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) that the alert policies notify."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "notification_channels must be ids like projects/my-project/notificationChannels/1234567890."
  }
}

variable "source_archive_path" {
  description = "Path of the function source zip built by `npm run package` (\"\" = build/function-source.zip next to this module)."
  type        = string
  default     = ""

  validation {
    condition     = var.source_archive_path == "" || endswith(var.source_archive_path, ".zip")
    error_message = "source_archive_path must be empty or point at a .zip file."
  }
}
