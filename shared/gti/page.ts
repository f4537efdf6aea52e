/**
 * Reads a GTI `ioc_stream` response body into its `data` items without parsing them: each item is
 * cleaned straight from the body's bytes (shared/gti/clean_json.ts) in the same pass that finds where
 * it ends, and the cleaned bytes are kept (copied into one buffer per page). An item the byte
 * cleaner leaves to the object path is kept as its raw bytes (a view of the body), found by
 * following strings and brackets; its syntax is checked when the pipeline parses it, so a
 * malformed item is still reported, at its place in the stream. The other top-level members
 * (`meta`, `links`) are small and are parsed.
 *
 * `tailMember` reads a member that follows the `data` array (`meta`) from the end of the body,
 * without touching the items: the next page's cursor is known before any item is cleaned.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { ValidationError } from '../core/errors.js';
import type { JsonCleaner } from './clean_json.js';
import { type EntityView, entityViewFromCleaner } from './entity_view.js';
import { cleanedDescriptor, type PageItem } from './page_item.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

export interface SplitPage {
  /** The `data` items; undefined when the body has no `data` array. */
  readonly items: readonly PageItem[] | undefined;
  /** Every other top-level member, parsed. */
  readonly members: Readonly<Record<string, unknown>>;
}

export interface SplitOptions {
  /**
   * Also take each cleaned item's entity view (entity_view.ts) from the cleaner, right after
   * cleaning it: no second pass over the item for its entity. Default false.
   */
  readonly entityViews?: boolean;
}

/** Throws SyntaxError when the body is not a JSON object (as far as the split can tell). */
export function splitPage(input: Buffer, cleaner: JsonCleaner, options: SplitOptions = {}): SplitPage {
  // Invalid UTF-8 is decoded the way a text body would be (U+FFFD), so items stay valid UTF-8.
  const body = isUtf8(input) ? input : Buffer.from(input.toString('utf8'), 'utf8');
  const scanner = new Scanner(body);
  let items: PageItem[] | undefined;
  const members: Record<string, unknown> = {};
  scanner.ws();
  scanner.expect(LBRACE);
  scanner.ws();
  if (!scanner.take(RBRACE)) {
    for (;;) {
      scanner.ws();
      const keyStart = scanner.p;
      scanner.skipString();
      const key = JSON.parse(body.toString('utf8', keyStart, scanner.p)) as string;
      scanner.ws();
      scanner.expect(COLON);
      scanner.ws();
      if (key === 'data' && body[scanner.p] === LBRACKET) {
        items = scanner.items(cleaner, options.entityViews === true);
      } else {
        const start = scanner.p;
        scanner.skipValue();
        // Defined, not assigned: a "__proto__" member must not become the object's prototype.
        Object.defineProperty(members, key, {
          value: JSON.parse(body.toString('utf8', start, scanner.p)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      scanner.ws();
      if (scanner.take(COMMA)) continue;
      scanner.expect(RBRACE);
      break;
    }
  }
  scanner.ws();
  if (scanner.p !== body.length)
    throw new SyntaxError(`unexpected data after the JSON object at byte ${scanner.p}`);
  return { items, members };
}

/** Tail bytes `tailMember` reads at most before it gives up (members after `data` are small). */
export const TAIL_MEMBER_MAX_BYTES = 64 * 1024;

/**
 * The value of the body's last top-level member `key` (what splitPage's `members` would hold),
 * read backwards from the end of the body without touching the items; undefined when it is not
 * found after the `data` array within the last TAIL_MEMBER_MAX_BYTES, or the tail cannot be
 * read. splitPage, which checks the whole body, stays the authority: this is for starting the
 * next request before the items are cleaned.
 */
export function tailMember(body: Buffer, key: string): unknown {
  const reader = new TailReader(body);
  try {
    if (!reader.take(RBRACE)) return undefined;
    for (;;) {
      const valueEnd = reader.p;
      // The first value too large to skip within the budget is the data array (or unreadable).
      reader.skipValueBack();
      const valueStart = reader.p;
      if (!reader.take(COLON)) return undefined;
      const keyEnd = reader.p;
      reader.skipStringBack();
      const name = JSON.parse(body.toString('utf8', reader.p, keyEnd)) as string;
      if (name === 'data') return undefined;
      if (name === key) return JSON.parse(body.toString('utf8', valueStart, valueEnd));
      if (!reader.take(COMMA)) return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * Walks a body backwards. `p` is the end (exclusive) of what is still unread; every step skips
 * the whitespace before it. Strings are found from their closing quote: the opening one is the
 * nearest quote before it that is not escaped (preceded by an even number of backslashes), which
 * in valid JSON is exact.
 */
class TailReader {
  p: number;
  private readonly limit: number;
  constructor(private readonly body: Buffer) {
    this.p = body.length;
    this.limit = Math.max(0, body.length - TAIL_MEMBER_MAX_BYTES);
    this.ws();
  }

  private fail(): never {
    throw new SyntaxError('cannot read the members after data');
  }

  ws(): void {
    const b = this.body;
    let p = this.p;
    for (;;) {
      const c = b[p - 1];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p--;
      else break;
    }
    this.p = p;
  }

  /** Consumes `byte` just before p (and the whitespace before it). */
  take(byte: number): boolean {
    if (this.p <= this.limit || this.body[this.p - 1] !== byte) return false;
    this.p--;
    this.ws();
    return true;
  }

  /** p is just after a closing quote: moves before the string's opening quote. */
  skipStringBack(): void {
    const b = this.body;
    if (b[this.p - 1] !== QUOTE) this.fail();
    let at = this.p - 1;
    for (;;) {
      const quote = b.lastIndexOf(QUOTE, at - 1);
      if (quote < this.limit) this.fail();
      let slashes = 0;
      while (b[quote - 1 - slashes] === BACKSLASH) slashes++;
      if (slashes % 2 === 0) {
        this.p = quote;
        this.ws();
        return;
      }
      at = quote;
    }
  }

  /** p is just after a value: moves before it. */
  skipValueBack(): void {
    const b = this.body;
    const c = b[this.p - 1];
    if (c === QUOTE) {
      this.skipStringBack();
      return;
    }
    if (c !== RBRACE && c !== RBRACKET) {
      let p = this.p;
      for (;;) {
        const d = b[p - 1];
        if (d === undefined || d === COMMA || d === COLON || d === LBRACE || d === LBRACKET || d <= 0x20)
          break;
        p--;
      }
      if (p === this.p || p <= this.limit) this.fail();
      this.p = p;
      this.ws();
      return;
    }
    let depth = 0;
    let p = this.p;
    for (;;) {
      if (p <= this.limit) this.fail();
      const d = b[p - 1];
      if (d === QUOTE) {
        this.p = p;
        this.skipStringBack();
        // skipStringBack skipped whitespace too; what matters is where the string started.
        p = this.p;
        continue;
      }
      if (d === RBRACE || d === RBRACKET) depth++;
      else if (d === LBRACE || d === LBRACKET) {
        depth--;
        if (depth === 0) {
          this.p = p - 1;
          this.ws();
          return;
        }
      }
      p--;
    }
  }
}

class Scanner {
  p = 0;
  constructor(private readonly body: Buffer) {}

  ws(): void {
    const b = this.body;
    let p = this.p;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  take(byte: number): boolean {
    if (this.body[this.p] !== byte) return false;
    this.p++;
    return true;
  }

  expect(byte: number): void {
    if (!this.take(byte)) throw this.error(`expected '${String.fromCharCode(byte)}'`);
  }

  error(what: string): SyntaxError {
    return new SyntaxError(
      this.p >= this.body.length ? `${what} at the end of the body` : `${what} at byte ${this.p}`,
    );
  }

  /** The items of the array at p; with `views`, each cleaned item's entity view too. */
  items(cleaner: JsonCleaner, views: boolean): PageItem[] {
    const items: PageItem[] = [];
    this.expect(LBRACKET);
    this.ws();
    if (this.take(RBRACKET)) return items;
    // The cleaned items of the page share one buffer (cleaning never grows JSON much; an item
    // that does not fit gets its own).
    let store = Buffer.allocUnsafe(this.body.length);
    let used = 0;
    for (;;) {
      this.ws();
      const start = this.p;
      const end = cleaner.cleanAt(this.body, start);
      const descriptor = end < 0 ? undefined : cleanedDescriptor(cleaner);
      if (descriptor !== undefined) {
        const cleaned = cleaner.result;
        if (used + cleaned.length > store.length) {
          store = Buffer.allocUnsafe(Math.max(cleaned.length, this.body.length - start));
          used = 0;
        }
        cleaned.copy(store, used);
        let view: EntityView | undefined;
        if (views) {
          try {
            view = entityViewFromCleaner(cleaner, descriptor.head);
          } catch (error) {
            // Left to the pipeline, which reads the view from the cleaned bytes and reports the
            // problem at the item's place in the stream.
            if (!(error instanceof ValidationError)) throw error;
          }
        }
        items.push({
          kind: 'cleaned',
          id: descriptor.id,
          date: descriptor.date,
          cleaned: store.subarray(used, used + cleaned.length),
          view,
        });
        used += cleaned.length;
        this.p = end;
      } else {
        this.skipValue();
        items.push({ kind: 'raw', raw: this.body.subarray(start, this.p) });
      }
      this.ws();
      if (this.take(COMMA)) continue;
      this.expect(RBRACKET);
      return items;
    }
  }

  /** Past the string at p; the closing quote is found natively, escapes by counting backslashes. */
  skipString(): void {
    const b = this.body;
    if (b[this.p] !== QUOTE) throw this.error('expected a string');
    let from = this.p + 1;
    for (;;) {
      const quote = b.indexOf(QUOTE, from);
      if (quote < 0) {
        this.p = b.length;
        throw this.error('unterminated string');
      }
      let slashes = 0;
      while (b[quote - 1 - slashes] === BACKSLASH) slashes++;
      from = quote + 1;
      if (slashes % 2 === 0) break;
    }
    this.p = from;
  }

  /** Past the value at p: strings and brackets followed, scalars up to the next delimiter. */
  skipValue(): void {
    const b = this.body;
    const c = b[this.p];
    if (c === QUOTE) {
      this.skipString();
      return;
    }
    if (c !== LBRACE && c !== LBRACKET) {
      const start = this.p;
      let p = start;
      for (;;) {
        const d = b[p];
        if (d === undefined || d === COMMA || d === RBRACE || d === RBRACKET || d <= 0x20) break;
        p++;
      }
      if (p === start) throw this.error('expected a value');
      this.p = p;
      return;
    }
    let depth = 0;
    let p = this.p;
    for (;;) {
      const d = b[p];
      if (d === undefined) {
        this.p = p;
        throw this.error('unbalanced brackets');
      }
      if (d === QUOTE) {
        this.p = p;
        this.skipString();
        p = this.p;
        continue;
      }
      if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) {
          this.p = p + 1;
          return;
        }
      }
      p++;
    }
  }
}
