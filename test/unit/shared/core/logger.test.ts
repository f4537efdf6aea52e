import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../../../shared/core/logger.js';
import { Secret } from '../../../../shared/core/redact.js';

function capture() {
  const lines: string[] = [];
  return { lines, sink: { write: (line: string) => lines.push(line) } };
}

describe('logger', () => {
  it('writes one JSON line per event with severity, message and fields', () => {
    const { lines, sink } = capture();
    const log = createLogger({ format: 'json', sink, fields: { fn: 'x' } });
    log.warn('retrying', { attempt: 2 });
    assert.equal(lines.length, 1);
    const parsed = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(parsed.severity, 'WARNING');
    assert.equal(parsed.message, 'retrying');
    assert.equal(parsed.attempt, 2);
    assert.equal(parsed.fn, 'x');
  });

  it('filters by level and writes readable text lines', () => {
    const { lines, sink } = capture();
    const log = createLogger({ level: 'warn', format: 'text', sink });
    log.info('hidden');
    log.error('shown', { status: 403 });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /ERROR shown status=403/);
  });

  it('redacts every registered secret, wherever it appears', () => {
    const secret = new Secret('logger-secret-value-91f2');
    const { lines, sink } = capture();
    const log = createLogger({ format: 'json', sink });
    log.error(`failed with ${secret.reveal()}`, { header: `x-apikey: ${secret.reveal()}`, key: secret });
    assert.ok(!lines.join('').includes(secret.reveal()));
    assert.match(lines[0] ?? '', /\[REDACTED\]/);
  });
});
