# The GTI API key's secret (no version: the key never enters terraform state; add it by hand, see
# the README) and the Firestore database that holds the checkpoint and the fetch lease.

resource "google_secret_manager_secret" "gti_api_key" {
  project   = var.project_id
  secret_id = local.secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_firestore_database" "checkpoint" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = local.firestore_db
  location_id = var.firestore_location != "" ? var.firestore_location : var.region
  type        = "FIRESTORE_NATIVE"
  # Destroying the pipeline keeps the database (and so the checkpoint) unless it is removed by hand.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.enabled]
}
