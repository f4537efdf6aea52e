/**
 * Secret redaction. Every secret the process learns is registered here, and every log line and
 * error message that leaves the process passes through `redact`, so a key can never be printed,
 * even by a library error that echoes request headers.
 */
const secrets = new Set<string>();

export const REDACTED = '[REDACTED]';

export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** A string that never shows itself in logs, JSON, string interpolation or util.inspect. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
