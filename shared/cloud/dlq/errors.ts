/** Errors of the dlq commands, with the Pub/Sub role a permission error needs. */
import { type ErrorOptions, GRPC, grpcCode, IocStreamError } from '../../core/errors.js';

// ---------------------------------------------------------------------------------------------
// Errors

/** A bad option or argument of a dlq command. */
export class DlqUsageError extends IocStreamError {
  override name = 'DlqUsageError';
  constructor(message: string) {
    super('DLQ_USAGE', message, false);
  }
}

/** Pub/Sub refused or failed a call; the message names the resource and, for permissions, the role. */
export class PubSubOperationError extends IocStreamError {
  override name = 'PubSubOperationError';
  readonly grpcCode: number | undefined;
  constructor(
    code: string,
    message: string,
    retryable: boolean,
    grpcCode: number | undefined,
    options: ErrorOptions,
  ) {
    super(code, message, retryable, options);
    this.grpcCode = grpcCode;
  }
}

export interface PubSubResource {
  readonly kind: 'subscription' | 'topic';
  /** Full resource name. */
  readonly name: string;
}

/** Maps a gRPC error to a PubSubOperationError that says what to do. */
export function pubsubError(error: unknown, resource: PubSubResource, action: string): PubSubOperationError {
  if (error instanceof PubSubOperationError) return error;
  const code = grpcCode(error);
  const details = String((error as { details?: unknown }).details ?? (error as Error).message ?? error);
  const flag =
    resource.kind === 'subscription'
      ? '--subscription / PUBSUB_DEAD_LETTER_SUBSCRIPTION'
      : '--topic / PUBSUB_CHUNKS_TOPIC';
  const role = resource.kind === 'subscription' ? 'roles/pubsub.subscriber' : 'roles/pubsub.publisher';
  const options = { cause: error };
  switch (code) {
    case GRPC.NOT_FOUND:
      return new PubSubOperationError(
        'PUBSUB_NOT_FOUND',
        `${resource.kind} ${resource.name} does not exist (check ${flag} and the project)`,
        false,
        code,
        options,
      );
    case GRPC.PERMISSION_DENIED:
      return new PubSubOperationError(
        'PUBSUB_PERMISSION_DENIED',
        `permission denied to ${action} ${resource.name}: the caller needs ${role} on the ${resource.kind} (${details})`,
        false,
        code,
        options,
      );
    case GRPC.UNAUTHENTICATED:
      return new PubSubOperationError(
        'PUBSUB_UNAUTHENTICATED',
        `not authenticated to Pub/Sub: run \`gcloud auth application-default login\` or use a service account (${details})`,
        false,
        code,
        options,
      );
    default:
      return new PubSubOperationError(
        'PUBSUB_ERROR',
        `could not ${action} ${resource.name}: ${details}`,
        code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED,
        code,
        options,
      );
  }
}
