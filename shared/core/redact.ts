/**
 * Secret redaction. Every secret the process learns is registered here, and every log line and
 * error message that leaves the process passes through `redact`, so a key can never be printed,
 * even by a library error that echoes request headers.
 *
 * Whole and in part: any run of FRAGMENT_CHARS or more characters taken from a registered secret is
 * replaced, so a server that echoes only part of a token (or a cut made before redaction) leaks
 * nothing either. Text from outside goes into messages through `excerpt`, which redacts *before* it
 * cuts: a cut can never leave the start of a secret behind that redaction would no longer recognise.
 */
const secrets = new Set<string>();
/** Secrets shorter than FRAGMENT_CHARS (and escaped forms), longest first: replaced whole. */
let whole: string[] = [];
/** Every FRAGMENT_CHARS-long substring of every registered secret of at least that length. */
const fragments = new Set<string>();

export const REDACTED = '[REDACTED]';
/** The shortest run of a secret's characters that counts as a leak. */
export const FRAGMENT_CHARS = 12;

export function registerSecret(value: string): void {
  if (value.length < 4 || secrets.has(value)) return;
  secrets.add(value);
  // As JSON writes it too (a quote or backslash in a secret would otherwise hide it in JSON logs).
  const escaped = JSON.stringify(value).slice(1, -1);
  for (const form of escaped === value ? [value] : [value, escaped]) {
    if (form.length >= FRAGMENT_CHARS) {
      for (let i = 0; i + FRAGMENT_CHARS <= form.length; i++)
        fragments.add(form.slice(i, i + FRAGMENT_CHARS));
    }
    whole.push(form);
  }
  whole = [...new Set(whole)].sort((a, b) => b.length - a.length);
}

/** Replaces every whole registered secret; cheap on large texts (one native search per secret). */
function redactWhole(text: string): string {
  let out = text;
  for (const secret of whole) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Replaces every run of FRAGMENT_CHARS+ characters that also occurs in a registered secret. */
function redactFragments(text: string): string {
  if (fragments.size === 0 || text.length < FRAGMENT_CHARS) return text;
  let out = '';
  let copied = 0; // text[copied..] is not yet in out
  let runEnd = -1; // end of the redacted run being extended
  for (let i = 0; i + FRAGMENT_CHARS <= text.length; i++) {
    if (!fragments.has(text.slice(i, i + FRAGMENT_CHARS))) continue;
    if (i > runEnd) {
      if (runEnd >= 0) copied = runEnd;
      out += text.slice(copied, i) + REDACTED;
    }
    runEnd = i + FRAGMENT_CHARS;
  }
  if (runEnd < 0) return text;
  return out + text.slice(runEnd);
}

/** The text with every registered secret removed, whole or in part (see above). */
export function redact(text: string): string {
  return redactFragments(redactWhole(text));
}

/**
 * Outside text (an API's error body, a pushed message's attribute) made fit for a message or a log
 * line: secrets redacted first, then whitespace collapsed and the result cut to `maxChars`, marked
 * with `…` when cut.
 */
export function excerpt(text: string, maxChars: number): string {
  const flat = redactWhole(text).replace(/\s+/g, ' ').trim();
  const cut = flat.length > maxChars ? `${flat.slice(0, Math.max(0, maxChars - 1))}…` : flat;
  return redactFragments(cut);
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
