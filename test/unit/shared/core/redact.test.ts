import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeErrorBody } from '../../../../shared/core/http.js';
import { createLogger } from '../../../../shared/core/logger.js';
import { excerpt, REDACTED, redact, registerSecret, Secret } from '../../../../shared/core/redact.js';
import {
  assertNoSecretFragment,
  fakeAccessToken,
  fakeGtiKey,
  findSecretFragment,
} from '../../../helpers/secrets.js';

/** Offsets around every cut the code makes (300 for error text, 500 and 1,024 for attributes) and then some. */
const OFFSETS = [
  0, 1, 7, 40, 99, 150, 199, 200, 230, 250, 260, 275, 287, 288, 289, 290, 295, 298, 299, 300, 301, 450, 499,
  500, 900, 1020,
];

describe('the secrets test helper', () => {
  it('finds any 12-character piece of a secret and nothing shorter', () => {
    const key = fakeGtiKey();
    assert.equal(key.length, 64);
    assert.ok(fakeAccessToken().length >= 240);
    assert.deepEqual(findSecretFragment(`x${key.slice(30, 42)}y`, key), { secretOffset: 30, textOffset: 1 });
    assert.equal(findSecretFragment(`x${key.slice(30, 41)}y${key.slice(50, 61)}`, key), undefined);
    assert.throws(() => assertNoSecretFragment({ nested: [key.slice(5, 20)] }, key, 'object'), /object:/);
  });
});

describe('redaction', () => {
  it('removes a registered secret whole and in parts of 12 characters or more', () => {
    const token = new Secret(fakeAccessToken()).reveal();
    const text = `a ${token} b ${token.slice(0, 40)} c ${token.slice(100, 112)} d ${token.slice(200, 211)}`;
    const out = redact(text);
    assertNoSecretFragment(out, token, 'redacted text');
    assert.ok(out.startsWith(`a ${REDACTED} b ${REDACTED} c ${REDACTED} d `));
    // An 11-character piece is not a fragment by the definition the suite checks.
    assert.ok(out.endsWith(token.slice(200, 211)));
  });

  it('recognises a secret as JSON writes it', () => {
    const odd = 'pa"ss\\word-with-quote-1234567';
    registerSecret(odd);
    const lines: string[] = [];
    createLogger({ format: 'json', sink: { write: (l: string) => lines.push(l) } }).error('x', { odd });
    assertNoSecretFragment(lines.join(''), [odd, JSON.stringify(odd).slice(1, -1)], 'json log line');
  });

  it('redacts before it cuts: a secret straddling the cut leaves no piece behind', () => {
    const key = new Secret(fakeGtiKey()).reveal();
    const token = new Secret(fakeAccessToken()).reveal();
    for (const secret of [key, token]) {
      for (const offset of OFFSETS) {
        const text = `${'w'.repeat(offset)}${secret} and more text after it ${'z'.repeat(600)}`;
        assertNoSecretFragment(excerpt(text, 300), secret, `excerpt at offset ${offset}`);
        assert.ok(excerpt(text, 300).length <= 300);
      }
    }
  });

  it('describes an API error body without a piece of any key or token, at any offset of message or details', () => {
    const key = new Secret(fakeGtiKey()).reveal();
    const token = new Secret(fakeAccessToken()).reveal();
    for (const secret of [key, token]) {
      for (const offset of OFFSETS) {
        const pad = 'p'.repeat(offset);
        const bodies = [
          JSON.stringify({
            error: { code: 400, message: `${pad}${secret} rest`, status: 'INVALID_ARGUMENT' },
          }),
          // No message: the whole body is described, details included.
          JSON.stringify({ error: { code: 400, status: 'X', details: [{ reason: `${pad}${secret}` }] } }),
          `<html>${pad}${secret}</html>`,
        ];
        for (const body of bodies) {
          assertNoSecretFragment(describeErrorBody(body).message, secret, `offset ${offset}`);
        }
      }
    }
  });
});
