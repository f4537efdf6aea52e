/**
 * Typed errors. Every error says whether retrying can help (`retryable`) and carries a stable `code`.
 * Messages never contain secrets or payloads.
 */
import { redact } from './redact.js';

export interface ErrorOptions {
  cause?: unknown;
}

export class IocStreamError extends Error {
  override name = 'IocStreamError';
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = retryable;
  }
}

/** One or more configuration problems; `problems` lists each with the variable it concerns. */
export class ConfigError extends IocStreamError {
  override name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, false);
    this.problems = problems;
  }
}

/** The GTI API key could not be obtained. */
export class SecretError extends IocStreamError {
  override name = 'SecretError';
  constructor(message: string, retryable: boolean, options: ErrorOptions = {}) {
    super('SECRET_UNAVAILABLE', message, retryable, options);
  }
}

/** A GTI / VirusTotal API call failed. `vtCode` is the API's error code (e.g. WrongCredentialsError). */
export class GtiApiError extends IocStreamError {
  override name = 'GtiApiError';
  readonly status: number | undefined;
  readonly vtCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  /** For a used-up quota: which one (minute, daily, monthly) when GTI's message says so. */
  readonly quota: string | undefined;
  /** For a used-up quota: when it resets (ms since the epoch), when known. */
  readonly resetsAtMs: number | undefined;

  constructor(
    message: string,
    fields: {
      status?: number;
      vtCode?: string;
      retryable: boolean;
      retryAfterMs?: number;
      quota?: string;
      resetsAtMs?: number;
    },
    options: ErrorOptions = {},
  ) {
    super('GTI_API_ERROR', message, fields.retryable, options);
    this.status = fields.status;
    this.vtCode = fields.vtCode;
    this.retryAfterMs = fields.retryAfterMs;
    this.quota = fields.quota;
    this.resetsAtMs = fields.resetsAtMs;
  }
}

/**
 * A google.rpc status name as Google APIs write it in `error.status` (the google.rpc.Code names:
 * INVALID_ARGUMENT, PERMISSION_DENIED, ...; googleapis google/rpc/code.proto), else undefined. A
 * server that puts anything else there (an echoed token, say) gets none of it copied anywhere.
 */
export function canonicalRpcStatus(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[A-Z][A-Z_]{0,39}$/.test(value)) return undefined;
  return redact(value) === value ? value : undefined;
}

interface ChronicleErrorFields {
  status?: number;
  rpcStatus?: string;
  retryAfterMs?: number;
}

/** Base of Chronicle logs:import failures. */
export class ChronicleError extends IocStreamError {
  override name = 'ChronicleError';
  readonly status: number | undefined;
  readonly rpcStatus: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    retryable: boolean,
    fields: ChronicleErrorFields,
    options: ErrorOptions = {},
  ) {
    super(code, message, retryable, options);
    this.status = fields.status;
    this.rpcStatus = fields.rpcStatus;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** 429, 5xx, timeouts, network errors: send the same request again later. */
export class ChronicleRetryableError extends ChronicleError {
  override name = 'ChronicleRetryableError';
  constructor(message: string, fields: ChronicleErrorFields, options: ErrorOptions = {}) {
    super('CHRONICLE_RETRYABLE', message, true, fields, options);
  }
}

/** 413: the request is too large; split the chunk in two and send the halves. */
export class ChronicleTooLargeError extends ChronicleError {
  override name = 'ChronicleTooLargeError';
  constructor(message: string, fields: ChronicleErrorFields, options: ErrorOptions = {}) {
    super('CHRONICLE_TOO_LARGE', message, false, fields, options);
  }
}

/** 400, 401, 403, 404: retrying the same request cannot help; a human must fix something. */
export class ChroniclePermanentError extends ChronicleError {
  override name = 'ChroniclePermanentError';
  constructor(message: string, fields: ChronicleErrorFields, options: ErrorOptions = {}) {
    super('CHRONICLE_PERMANENT', message, false, fields, options);
  }
}

/** A notification cannot fit in one request even reduced to its descriptor. */
export class OversizeError extends IocStreamError {
  override name = 'OversizeError';
  readonly notificationId: string;
  constructor(notificationId: string, bytes: number, limit: number) {
    super(
      'NOTIFICATION_TOO_LARGE',
      `Notification ${notificationId} needs ${bytes} bytes even after trimming; CHUNK_MAX_BYTES is ${limit}`,
      false,
    );
    this.notificationId = notificationId;
  }
}

/** A message or payload does not have the expected shape. */
export class ValidationError extends IocStreamError {
  override name = 'ValidationError';
  constructor(message: string, options: ErrorOptions = {}) {
    super('INVALID_INPUT', message, false, options);
  }
}

/** Checkpoint / lease store failures. */
export class CheckpointError extends IocStreamError {
  override name = 'CheckpointError';
  constructor(message: string, retryable: boolean, options: ErrorOptions = {}) {
    super('CHECKPOINT_ERROR', message, retryable, options);
  }
}

/** A run was asked to start from, or would save, a time ahead of the clock (a typo, a clock jump). */
export class TimeAheadError extends IocStreamError {
  override name = 'TimeAheadError';
  constructor(message: string) {
    super('TIME_AHEAD', message, false);
  }
}

/** GTI's paging would never end: a cursor came back, or page after page brought nothing new. */
export class PagingError extends IocStreamError {
  override name = 'PagingError';
  constructor(message: string) {
    super('GTI_PAGING', message, false);
  }
}

/** The run was stopped by a signal (Ctrl-C, SIGTERM); `exitCode` is the shell's 128 + signal number. */
export class InterruptedError extends IocStreamError {
  override name = 'InterruptedError';
  readonly signal: 'SIGINT' | 'SIGTERM';
  readonly exitCode: number;
  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super('INTERRUPTED', `interrupted by ${signal}`, false);
    this.signal = signal;
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

/** Longest piece of an input value quoted in a message or log field. */
export const ECHO_MAX_CHARS = 80;

/**
 * An input value quoted for a message, cut to `max` characters with its full length noted, so a
 * bad value (one was 7.4 MB) never makes a huge log line (Cloud Logging keeps 256 KB per entry).
 */
export function echo(value: unknown, max = ECHO_MAX_CHARS): string {
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

/** Longest error description logged: a message that quotes a remote answer stays a log line. */
const DESCRIBE_MAX_CHARS = 2000;

/** One-line description of any thrown value, safe for logs (no stack, no payload), bounded in length. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length <= DESCRIBE_MAX_CHARS
    ? text
    : `${text.slice(0, DESCRIBE_MAX_CHARS)}… (${text.length} characters)`;
}

export function isRetryable(error: unknown): boolean {
  return error instanceof IocStreamError ? error.retryable : false;
}

/** gRPC status codes the Google clients (Pub/Sub, Firestore, Secret Manager) report as `code`. */
export const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC status code of a Google client error, or undefined. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
