/**
 * Dead-letter operations: inspect, replay and purge the messages waiting on the dead-letter
 * subscription (see shared/cloud/dlq/). Messages are pulled synchronously (Pub/Sub v1 `pull`) so the
 * operations decide exactly when each one is acknowledged: a replayed message only after its
 * republish is confirmed (or Chronicle accepted it), a purged one only after it was written and
 * fsynced to the archive.
 */
export * from './dlq/archive.js';
export * from './dlq/errors.js';
export * from './dlq/message.js';
export * from './dlq/operations.js';
export * from './dlq/rate_limiter.js';
export * from './dlq/transport.js';
