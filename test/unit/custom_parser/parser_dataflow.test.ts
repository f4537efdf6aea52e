/**
 * Fields are set before they are read, on every path through custom_parser/ioc_stream.parser.
 *
 * On a real instance a condition that reads a field which was never set fails the whole log ("… not
 * found in state data"; Google's "Tips and troubleshooting when writing parsers"), and conditions take
 * no on_error; a filter without on_error that reads a missing field fails it as well. The JSON filter
 * sets only the fields a log contains, so optional IOC Stream attributes are never certain. These
 * checks run a static dataflow (test/helpers/cbn_dataflow.ts) over the parser; the first describe
 * shows on small parsers that the analysis tells those cases apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCbn } from '../../helpers/cbn.js';
import { assignedBeforeRead, type UnsetRead } from '../../helpers/cbn_dataflow.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const statements = parseCbn(readFileSync(join(DIR, 'ioc_stream.parser'), 'utf8'));

const show = (reads: readonly UnsetRead[]) => reads.map((r) => `line ${r.line} (${r.via}): ${r.path}`);

/** Paths of the unset condition reads in a parser body. */
function unsetInConditions(body: string): string[] {
  return assignedBeforeRead(parseCbn(`filter {\n${body}\n}`)).conditionReads.map((r) => r.path);
}

function unsetInFilters(body: string): string[] {
  return assignedBeforeRead(parseCbn(`filter {\n${body}\n}`)).unprotectedReads.map((r) => r.path);
}

const COND = 'if [x] == "a" { statedump {} }';

describe('assigned-before-read analysis', () => {
  test('json sets nothing certain; an initialised temporary and an on_error flag are set', () => {
    assert.deepEqual(unsetInConditions(`json { source => "message" on_error => "e" } ${COND}`), ['x']);
    assert.deepEqual(
      unsetInConditions(
        `json { source => "message" on_error => "e" } mutate { replace => { "x" => "" } } ${COND} if [e] { statedump {} }`,
      ),
      [],
    );
  });

  test('a replace that may fail (on_error) sets nothing; without on_error it sets its field', () => {
    assert.deepEqual(unsetInConditions(`mutate { replace => { "x" => "%{y}" } on_error => "e" } ${COND}`), [
      'x',
    ]);
    assert.deepEqual(unsetInConditions(`mutate { replace => { "x" => "%{y}" } } ${COND}`), []);
    assert.deepEqual(unsetInFilters('mutate { replace => { "x" => "%{y}" } }'), ['y']);
    assert.deepEqual(unsetInFilters('mutate { replace => { "x" => "%{y}" } on_error => "e" }'), []);
  });

  test('a field set in one branch only is not set after the if; set in every branch, it is', () => {
    assert.deepEqual(
      unsetInConditions(`if [message] == "1" { mutate { replace => { "x" => "" } } } ${COND}`),
      ['x'],
    );
    assert.deepEqual(
      unsetInConditions(
        `if [message] == "1" { mutate { replace => { "x" => "" } } } else { mutate { replace => { "x" => "b" } } } ${COND}`,
      ),
      [],
    );
    assert.deepEqual(
      unsetInConditions(
        `if [message] == "1" { mutate { replace => { "x" => "" } } } else if [message] == "2" { mutate { replace => { "x" => "" } } } ${COND}`,
      ),
      ['x'],
    );
  });

  test('a branch that drops the log does not fall through', () => {
    assert.deepEqual(
      unsetInConditions(
        `if [message] == "" { drop { tag => "T" } } else { mutate { replace => { "x" => "" } } } ${COND}`,
      ),
      [],
    );
  });

  test('remove_field unsets, rename moves, rename and merge of an unset field set nothing', () => {
    assert.deepEqual(
      unsetInConditions(`mutate { replace => { "x" => "" } } mutate { remove_field => ["x"] } ${COND}`),
      ['x'],
    );
    assert.deepEqual(
      unsetInConditions(
        'mutate { replace => { "_f.v" => "" } } mutate { rename => { "_f" => "_g" } } if [_g][v] == "" { statedump {} } if [_f][v] == "" { statedump {} }',
      ),
      ['_f.v'],
    );
    assert.deepEqual(
      unsetInConditions(
        `mutate { rename => { "y" => "x" } } mutate { merge => { "z" => "y" } } if [x] == "" or [z] == "" { statedump {} }`,
      ),
      ['x', 'z'],
    );
  });

  test('loop variables are set inside the loop only; what the body removes is unset on the next pass', () => {
    assert.deepEqual(
      unsetInConditions('for t in tags { if [t] == "a" { statedump {} } } if [t] == "a" { statedump {} }'),
      ['t'],
    );
    assert.deepEqual(unsetInConditions('for s in sources { if [s][type] == "a" { statedump {} } }'), [
      's.type',
    ]);
    assert.deepEqual(
      unsetInConditions(
        'mutate { replace => { "_l.v" => "" } } for t in tags { if [_l][v] == "" { statedump {} } mutate { remove_field => ["_l"] } }',
      ),
      ['_l.v'],
    );
  });
});

describe('custom parser: fields are set before they are read', () => {
  const result = assignedBeforeRead(statements);

  test('every field a condition reads is set on every path before it', () => {
    assert.deepEqual(show(result.conditionReads), []);
  });

  test('every field a filter without on_error reads is set on every path before it', () => {
    assert.deepEqual(show(result.unprotectedReads), []);
  });
});
