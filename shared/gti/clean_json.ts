/**
 * Cleaning straight from JSON bytes: for one JSON object it writes exactly the bytes of
 * `JSON.stringify(cleanObject(JSON.parse(text)))` (shared/gti/clean.ts is the definition), without
 * building the objects, so the pipeline never parses, copies and re-serialises a notification.
 *
 * Most of the input is copied as it is: runs of bytes that stay (everything, for compact input
 * whose keys are already sorted) are copied in one go. What changes is handled on the spot:
 * whitespace dropped, empty values (null, "", [], {}, also containers emptied by cleaning) removed
 * with their key, members reordered when the keys are not sorted, strings with escapes and
 * non-canonical numbers re-encoded as JSON.stringify writes them.
 *
 * `clean` returns undefined when the input is not valid JSON or uses something this fast path
 * leaves to the definition (keys with escapes, non-ASCII, integer-like or duplicate keys, nesting
 * deeper than MAX_DEPTH): the caller then takes the object path, which gives the same bytes or
 * JSON.parse's error. Tests check the two agree on generated and edge-case input.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { MAX_CLEAN_DEPTH } from './clean.js';

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LOWER_E = 0x65;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** Deeper nesting is left to the object path, which trims it (clean.ts). */
const MAX_DEPTH = MAX_CLEAN_DEPTH;
/** Decimals with at most this many significant digits print back exactly as written. */
const SAFE_DIGITS = 15;
/** Per member: key start, key end (source, quotes included), member start, value start, end (output). */
const STRIDE = 5;
const REMOVED = -1;
const MAX_SHAPES = 4096;
/** Objects with more members than this are sorted with Array#sort. */
const INSERTION_SORT_MAX = 256;

/**
 * Bytes that need no attention inside a string (1): everything but the quote, the backslash and
 * control characters. A read past the buffer gives undefined, which is not 1, so bounds are
 * checked on the rarer branch only. Keys are plain ASCII only (the rest leaves the fast path).
 */
const STRING_PLAIN = new Uint8Array(256).fill(1, SPACE);
STRING_PLAIN[QUOTE] = 0;
STRING_PLAIN[BACKSLASH] = 0;
const KEY_PLAIN = STRING_PLAIN.slice();
KEY_PLAIN.fill(0, 0x80);

/** Thrown inside the scanner to leave the fast path; never escapes `clean`. */
class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported('input left to the object path');

/**
 * The kept members of one object, in key order, as numbers only (no key strings are made): per
 * member the key's quoted span in the source, and the value's span in the output minus an origin.
 * Lookups compare the key's bytes; the source buffer stays valid as long as the result does.
 */
class MemberSpans {
  /** ks, ke, start, end per member. */
  spans = new Int32Array(4 * 64);
  count = 0;

  /** Index of `key`'s member, or -1. */
  find(src: Buffer, key: string): number {
    const spans = this.spans;
    const length = key.length + 2;
    for (let n = 0; n < this.count; n++) {
      const ks = spans[4 * n] as number;
      if ((spans[4 * n + 1] as number) - ks !== length) continue;
      let i = 0;
      while (i < key.length && src[ks + 1 + i] === key.charCodeAt(i)) i++;
      if (i === key.length) return n;
    }
    return -1;
  }

  start(n: number): number {
    return this.spans[4 * n + 2] as number;
  }

  end(n: number): number {
    return this.spans[4 * n + 3] as number;
  }
}

export class JsonCleaner {
  private src: Buffer = Buffer.alloc(0);
  private end = 0;
  private p = 0;
  private out: Buffer = Buffer.allocUnsafe(1 << 16);
  /** Bytes physically written to `out`. */
  private o = 0;
  /** Pending run of source bytes, logically following out[0..o). */
  private ps = 0;
  private pe = 0;
  private members = new Int32Array(STRIDE * 256);
  private mLen = 0;
  private depth = 0;
  private readonly top = new MemberSpans();
  /** Members of the top-level `attributes` object, offsets relative to that object's first byte. */
  private readonly nested = new MemberSpans();
  /** Set while the top-level member being read is `attributes`. */
  private atAttributes = false;
  /** Key order by shape fingerprint: member positions in sorted order. */
  private shapes = new Map<number, Int32Array>();
  /** Member offsets of the object being reordered, in key order. */
  private order = new Int32Array(256);

  /**
   * Cleans the JSON object in src[start, end). The result is a view of an internal buffer, valid
   * until the next call; undefined = take the object path (see the module comment).
   */
  clean(src: Buffer, start = 0, end = src.length): Buffer | undefined {
    // Raw bytes are copied as they are: they must be valid UTF-8 (the object path would decode
    // invalid sequences to U+FFFD).
    if (!isUtf8(src.subarray(start, end))) return undefined;
    if (!this.run(src, start, end)) return undefined;
    this.ws();
    return this.p === end ? this.result : undefined;
  }

  /**
   * Cleans the JSON object starting at src[start] (whitespace allowed before it) and returns the
   * offset just past it, or -1 when it is left to the object path. The cleaned bytes are then in
   * `result`. For walking many objects in one buffer: src must be valid UTF-8 (checked once by
   * the caller, not here).
   */
  cleanAt(src: Buffer, start: number): number {
    return this.run(src, start, src.length) ? this.p : -1;
  }

  /** The last cleaned object; a view valid until the next call. */
  get result(): Buffer {
    return this.out.subarray(0, this.o);
  }

  private run(src: Buffer, start: number, end: number): boolean {
    this.src = src;
    this.end = end;
    this.p = start;
    this.o = 0;
    this.ps = 0;
    this.pe = 0;
    this.mLen = 0;
    this.depth = 0;
    this.top.count = 0;
    this.nested.count = 0;
    this.atAttributes = false;
    try {
      this.ws();
      if (this.p >= end || src[this.p] !== LBRACE) return false;
      const kept = this.object(true);
      this.flush();
      if (!kept) {
        this.ensure(2);
        this.out[0] = LBRACE;
        this.out[1] = RBRACE;
        this.o = 2;
      }
      return true;
    } catch (error) {
      if (error === UNSUPPORTED || error instanceof SyntaxError || error instanceof RangeError) {
        this.top.count = 0;
        this.nested.count = 0;
        return false;
      }
      throw error;
    }
  }

  /** The cleaned JSON of a top-level member of the last cleaned object, or undefined. */
  member(key: string): Buffer | undefined {
    const n = this.top.find(this.src, key);
    return n < 0 ? undefined : this.out.subarray(this.top.start(n), this.top.end(n));
  }

  /**
   * The cleaned JSON of a member of the last cleaned object's top-level `attributes` object (a
   * notification's attributes), or undefined: what the entity view needs, without another pass.
   */
  attributeMember(key: string): Buffer | undefined {
    if (this.nested.count === 0) return undefined;
    const at = this.top.find(this.src, 'attributes');
    if (at < 0) return undefined;
    const n = this.nested.find(this.src, key);
    if (n < 0) return undefined;
    const base = this.top.start(at);
    return this.out.subarray(base + this.nested.start(n), base + this.nested.end(n));
  }

  // ── output ──────────────────────────────────────────────────────────────────────────────────

  private mark(): number {
    return this.o + (this.pe - this.ps);
  }

  private rollback(mark: number): void {
    if (mark >= this.o) {
      this.pe = this.ps + (mark - this.o);
    } else {
      this.o = mark;
      this.ps = this.pe;
    }
  }

  /** Appends src[start, end), extending the pending run when it continues it. */
  private emit(start: number, end: number): void {
    if (start === this.pe) {
      this.pe = end;
      return;
    }
    this.flush();
    this.ps = start;
    this.pe = end;
  }

  private flush(): void {
    const len = this.pe - this.ps;
    if (len > 0) {
      this.ensure(len);
      const out = this.out;
      const src = this.src;
      if (len < 32) {
        let o = this.o;
        for (let i = this.ps; i < this.pe; i++) out[o++] = src[i] as number;
      } else {
        src.copy(out, this.o, this.ps, this.pe);
      }
      this.o += len;
    }
    this.ps = this.pe;
  }

  private writeText(text: string): void {
    this.flush();
    this.ensure(text.length * 3);
    this.o += this.out.write(text, this.o, 'utf8');
  }

  private ensure(extra: number): void {
    const needed = this.o + extra;
    if (needed <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.out.length * 2));
    this.out.copy(grown, 0, 0, this.o);
    this.out = grown;
  }

  // ── input ───────────────────────────────────────────────────────────────────────────────────

  private ws(): void {
    const src = this.src;
    let p = this.p;
    for (;;) {
      const c = src[p];
      if (c === SPACE || c === LF || c === CR || c === TAB) p++;
      else break;
    }
    this.p = p;
  }

  /** One value at p (after whitespace); true when something non-empty was written. */
  private value(): boolean {
    const src = this.src;
    if ((src[this.p] as number) <= SPACE) this.ws();
    const p = this.p;
    if (p >= this.end) throw UNSUPPORTED;
    const c = src[p] as number;
    switch (c) {
      case QUOTE:
        return this.string();
      case LBRACE:
        return this.object(false);
      case LBRACKET:
        return this.array();
      case 0x74: // true
        if (src[p + 1] === 0x72 && src[p + 2] === 0x75 && src[p + 3] === 0x65) {
          this.emit(p, p + 4);
          this.p = p + 4;
          return true;
        }
        throw UNSUPPORTED;
      case 0x66: // false
        if (src[p + 1] === 0x61 && src[p + 2] === 0x6c && src[p + 3] === 0x73 && src[p + 4] === 0x65) {
          this.emit(p, p + 5);
          this.p = p + 5;
          return true;
        }
        throw UNSUPPORTED;
      case 0x6e: // null
        if (src[p + 1] === 0x75 && src[p + 2] === 0x6c && src[p + 3] === 0x6c) {
          this.p = p + 4;
          return false;
        }
        throw UNSUPPORTED;
      default:
        if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
        throw UNSUPPORTED;
    }
  }

  private string(): boolean {
    const src = this.src;
    const end = this.end;
    const start = this.p;
    const p = plainRun(src, start + 1, STRING_PLAIN);
    if (p >= end) throw UNSUPPORTED;
    const c = src[p];
    if (c === BACKSLASH) return this.escapedString(start);
    if (c !== QUOTE) throw UNSUPPORTED; // a control character
    this.p = p + 1;
    if (p === start + 1) return false;
    this.emit(start, p + 1);
    return true;
  }

  /**
   * A string with escapes. The short escapes (\" \\ \b \f \n \r \t) are what JSON.stringify writes
   * for those characters, so such a string is copied as it is; \/ and \u escapes are decoded and
   * written back the way JSON.stringify writes them.
   */
  private escapedString(start: number): boolean {
    const src = this.src;
    const end = this.end;
    let p = start + 1;
    let canonical = true;
    for (;;) {
      p = plainRun(src, p, STRING_PLAIN);
      if (p >= end) throw UNSUPPORTED;
      const c = src[p];
      if (c === QUOTE) break;
      if (c !== BACKSLASH) throw UNSUPPORTED;
      const e = src[p + 1];
      if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 0x62 &&
        e !== 0x66 &&
        e !== 0x6e &&
        e !== 0x72 &&
        e !== 0x74
      )
        canonical = false;
      p += 2;
    }
    this.p = p + 1;
    if (canonical) {
      this.emit(start, p + 1);
      return true;
    }
    const text = src.toString('utf8', start, p + 1);
    const rewritten = JSON.stringify(JSON.parse(text) as string);
    if (rewritten === text) this.emit(start, p + 1);
    else this.writeText(rewritten);
    return true;
  }

  /**
   * A number. Integers of up to 15 digits, and decimals of up to 15 significant digits without
   * trailing zeros in fixed notation's range, are what JSON.stringify writes for their value, so
   * they are copied; anything else is parsed (JSON.parse throws for what is not JSON) and written
   * back as JSON.stringify writes it, or removed when not finite.
   */
  private number(): boolean {
    const src = this.src;
    const start = this.p;
    let p = start;
    if (src[p] === MINUS) p++;
    const intStart = p;
    while (isDigit(src[p])) p++;
    const intDigits = p - intStart;
    const intZero = src[intStart] === ZERO;
    let copy = intDigits > 0 && (!intZero || intDigits === 1);
    let significant = intZero ? 0 : intDigits;
    if (src[p] === DOT) {
      p++;
      const fracStart = p;
      while (isDigit(src[p])) p++;
      const fracDigits = p - fracStart;
      let leadingZeros = 0;
      while (leadingZeros < fracDigits && src[fracStart + leadingZeros] === ZERO) leadingZeros++;
      significant += intZero ? fracDigits - leadingZeros : fracDigits;
      // No trailing zero; below 1e-6 JSON.stringify switches to exponent notation.
      copy &&= fracDigits > 0 && src[p - 1] !== ZERO && (!intZero || leadingZeros <= 5);
    } else if (intZero && intDigits === 1) {
      copy &&= p === intStart + 1 && intStart === start; // "0", not "-0"
    }
    if (src[p] === LOWER_E || src[p] === UPPER_E) {
      p++;
      if (src[p] === PLUS || src[p] === MINUS) p++;
      while (isDigit(src[p])) p++;
      copy = false;
    }
    if (p > this.end) throw UNSUPPORTED;
    this.p = p;
    if (copy && significant <= SAFE_DIGITS) {
      this.emit(start, p);
      return true;
    }
    const text = src.toString('latin1', start, p);
    const value = JSON.parse(text) as number;
    if (!Number.isFinite(value)) return false;
    const canonical = JSON.stringify(value);
    if (canonical === text) this.emit(start, p);
    else this.writeText(canonical);
    return true;
  }

  /** Past the opening bracket at p (written, one level deeper); returns the output mark before it. */
  private enter(): number {
    if (++this.depth > MAX_DEPTH) throw UNSUPPORTED;
    const open = this.mark();
    this.emit(this.p, this.p + 1);
    this.p++;
    if ((this.src[this.p] as number) <= SPACE) this.ws();
    return open;
  }

  private array(): boolean {
    const src = this.src;
    const end = this.end;
    const open = this.enter();
    let kept = 0;
    if (src[this.p] === RBRACKET) {
      this.p++;
    } else {
      let comma = -1;
      for (;;) {
        const before = this.mark();
        if (kept > 0) this.emit(comma, comma + 1);
        if (this.value()) kept++;
        else this.rollback(before);
        if ((src[this.p] as number) <= SPACE) this.ws();
        if (this.p >= end) throw UNSUPPORTED;
        const c = src[this.p];
        if (c === COMMA) {
          comma = this.p++;
        } else if (c === RBRACKET) {
          if (kept > 0) this.emit(this.p, this.p + 1);
          this.p++;
          break;
        } else throw UNSUPPORTED;
      }
    }
    this.depth--;
    if (kept === 0) this.rollback(open);
    return kept > 0;
  }

  private object(top: boolean): boolean {
    const src = this.src;
    const end = this.end;
    const open = this.enter();
    // The value of the top-level member `attributes` (depth 2 is a top-level member's own value).
    const capture = this.atAttributes && this.depth === 2;
    const base = this.mLen;
    let kept = 0;
    let sorted = true;
    // A cheap fingerprint of the key sequence (length, first and last byte of each key): objects
    // of the same shape recur (every engine result, every YARA match), so their key order is
    // looked up instead of sorted again, and then verified.
    let shape = 0;
    let prevKs = -1;
    let prevKe = -1;
    let firstKept = -1;
    if (src[this.p] !== RBRACE) {
      let comma = -1;
      for (;;) {
        if ((src[this.p] as number) <= SPACE) this.ws();
        const ks = this.p;
        if (ks >= end || src[ks] !== QUOTE) throw UNSUPPORTED;
        const q = plainRun(src, ks + 1, KEY_PLAIN);
        // Escapes, non-ASCII and control characters in keys leave the fast path.
        if (q >= end || src[q] !== QUOTE) throw UNSUPPORTED;
        const ke = q + 1;
        const first = src[ks + 1] as number;
        if (first <= NINE && first >= ZERO && allDigits(src, ks + 1, q)) throw UNSUPPORTED;
        if (prevKs >= 0) {
          const order = compareKeys(src, prevKs, prevKe, ks, ke);
          if (order === 0) throw UNSUPPORTED;
          if (order > 0) sorted = false;
        }
        prevKs = ks;
        prevKe = ke;
        shape = Math.imul(shape ^ (((ke - ks) << 16) | (first << 8) | (src[q - 1] as number)), 0x9e3779b1);
        this.p = ke;
        if ((src[ke] as number) <= SPACE) this.ws();
        if (src[this.p] !== COLON) throw UNSUPPORTED;
        const colon = this.p++;
        const before = this.mark();
        if (kept > 0) this.emit(comma, comma + 1);
        const memberStart = kept > 0 ? before + 1 : before;
        this.emit(ks, ke);
        this.emit(colon, colon + 1);
        const valueStart = memberStart + (ke - ks) + 1;
        if (top) this.atAttributes = isAttributesKey(src, ks, ke);
        if (this.value()) {
          if (kept === 0) firstKept = memberStart;
          kept++;
          this.pushMember(ks, ke, memberStart, valueStart, this.mark());
        } else {
          this.rollback(before);
          this.pushMember(ks, ke, REMOVED, REMOVED, REMOVED);
        }
        if ((src[this.p] as number) <= SPACE) this.ws();
        if (this.p >= end) throw UNSUPPORTED;
        const c = src[this.p];
        if (c === COMMA) {
          comma = this.p++;
        } else if (c === RBRACE) {
          break;
        } else throw UNSUPPORTED;
      }
    }
    // At the closing brace.
    const close = this.p++;
    this.depth--;
    if (kept === 0) {
      this.mLen = base;
      this.rollback(open);
      return false;
    }
    if (!sorted) this.reorder(base, firstKept, shape);
    this.emit(close, close + 1);
    if (top) this.collect(this.top, base, sorted, 0);
    else if (capture) this.collect(this.nested, base, sorted, open);
    this.mLen = base;
    return true;
  }

  private pushMember(ks: number, ke: number, start: number, valueStart: number, end: number): void {
    if (this.mLen + STRIDE > this.members.length) {
      const grown = new Int32Array(this.members.length * 2);
      grown.set(this.members);
      this.members = grown;
    }
    const m = this.members;
    const i = this.mLen;
    m[i] = ks;
    m[i + 1] = ke;
    m[i + 2] = start;
    m[i + 3] = valueStart;
    m[i + 4] = end;
    this.mLen = i + STRIDE;
  }

  /**
   * Rewrites the object's members (already in out, in input order) sorted by key, updating their
   * output positions; leaves the sorted member offsets in `order`. Duplicate keys leave the fast
   * path (JSON.parse keeps the last one, which may be empty).
   */
  private reorder(base: number, contentStart: number, shape: number): void {
    this.flush();
    const m = this.members;
    const src = this.src;
    const count = (this.mLen - base) / STRIDE;
    if (this.order.length < count) this.order = new Int32Array(Math.max(count, this.order.length * 2));
    const order = this.order;
    const known = this.shapes.get(shape);
    let ordered = false;
    if (known !== undefined && known.length === count) {
      // The order this shape had before, if it sorts these keys strictly (which also rules out
      // duplicates); a fingerprint collision just fails the check.
      ordered = true;
      for (let n = 0; n < count; n++) order[n] = base + (known[n] as number) * STRIDE;
      for (let n = 1; n < count && ordered; n++) {
        const a = order[n - 1] as number;
        const b = order[n] as number;
        if (compareKeys(src, m[a] as number, m[a + 1] as number, m[b] as number, m[b + 1] as number) >= 0)
          ordered = false;
      }
    }
    if (!ordered && count > INSERTION_SORT_MAX) {
      // Large objects: an O(n log n) sort (insertion moves grow with n²), duplicates side by side.
      const sorted = Array.from({ length: count }, (_, n) => base + n * STRIDE).sort((a, b) =>
        compareKeys(src, m[a] as number, m[a + 1] as number, m[b] as number, m[b + 1] as number),
      );
      sorted.forEach((i, n) => {
        const prev = sorted[n - 1];
        if (
          prev !== undefined &&
          compareKeys(src, m[prev] as number, m[prev + 1] as number, m[i] as number, m[i + 1] as number) === 0
        )
          throw UNSUPPORTED;
        order[n] = i;
      });
    } else if (!ordered) {
      // Binary insertion sort: no closure, no allocation, few key comparisons.
      for (let n = 0; n < count; n++) {
        const i = base + n * STRIDE;
        const ks = m[i] as number;
        const ke = m[i + 1] as number;
        let lo = 0;
        let hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const o = order[mid] as number;
          const cmp = compareKeys(src, m[o] as number, m[o + 1] as number, ks, ke);
          if (cmp === 0) throw UNSUPPORTED;
          if (cmp < 0) lo = mid + 1;
          else hi = mid;
        }
        for (let j = n; j > lo; j--) order[j] = order[j - 1] as number;
        order[lo] = i;
      }
    }
    if (!ordered) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      const permutation = new Int32Array(count);
      for (let n = 0; n < count; n++) permutation[n] = ((order[n] as number) - base) / STRIDE;
      this.shapes.set(shape, permutation);
    }
    // The members are copied past the end of the output, then back in key order: copyWithin on
    // one buffer costs less per call than Buffer#copy between two.
    const length = this.o - contentStart;
    this.ensure(length);
    const out = this.out;
    const parked = this.o;
    out.copyWithin(parked, contentStart, parked);
    let w = contentStart;
    let written = 0;
    for (let n = 0; n < count; n++) {
      const i = order[n] as number;
      const start = m[i + 2] as number;
      if (start === REMOVED) continue;
      const valueStart = m[i + 3] as number;
      const memberEnd = m[i + 4] as number;
      if (written++ > 0) out[w++] = COMMA;
      const from = parked + (start - contentStart);
      out.copyWithin(w, from, from + (memberEnd - start));
      m[i + 2] = w;
      m[i + 3] = w + (valueStart - start);
      w += memberEnd - start;
      m[i + 4] = w;
    }
    this.o = w;
    this.ps = this.pe;
  }

  /** Records the kept members of the object just closed into `into`, in key order, offsets minus `origin`. */
  private collect(into: MemberSpans, base: number, sorted: boolean, origin: number): void {
    const m = this.members;
    const count = (this.mLen - base) / STRIDE;
    if (into.spans.length < 4 * count) into.spans = new Int32Array(4 * count);
    const spans = into.spans;
    let k = 0;
    for (let n = 0; n < count; n++) {
      const i = sorted ? base + n * STRIDE : (this.order[n] as number);
      if (m[i + 2] === REMOVED) continue;
      spans[k] = m[i] as number;
      spans[k + 1] = m[i + 1] as number;
      spans[k + 2] = (m[i + 3] as number) - origin;
      spans[k + 3] = (m[i + 4] as number) - origin;
      k += 4;
    }
    into.count = k / 4;
  }
}

/**
 * The offset of the first byte from p on that `table` does not mark plain (1). Callers make sure
 * a plain run ends inside the buffer in valid JSON (a string or key ends with its quote): reading
 * past the end gives undefined, which stops the run but sends this load down V8's slow path.
 */
function plainRun(src: Buffer, p: number, table: Uint8Array): number {
  while (table[src[p] as number] === 1) p++;
  return p;
}

const ATTRIBUTES_KEY = Buffer.from('"attributes"', 'latin1');

/** True when the quoted key src[ks, ke) is "attributes". */
function isAttributesKey(src: Buffer, ks: number, ke: number): boolean {
  if (ke - ks !== ATTRIBUTES_KEY.length) return false;
  for (let i = 0; i < ATTRIBUTES_KEY.length; i++) if (src[ks + i] !== ATTRIBUTES_KEY[i]) return false;
  return true;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

/** Orders two ASCII keys (quoted spans in src) as JavaScript orders strings. */
function compareKeys(src: Buffer, a0: number, a1: number, b0: number, b1: number): number {
  const aLen = a1 - a0;
  const bLen = b1 - b0;
  const n = Math.min(aLen, bLen) - 1;
  for (let i = 1; i < n; i++) {
    const d = (src[a0 + i] as number) - (src[b0 + i] as number);
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

function allDigits(src: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = src[i] as number;
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}
