import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitPage } from '../../../shared/gti_page.js';

const split = (text: string) => splitPage(Buffer.from(text, 'utf8'));
const texts = (items: readonly Buffer[] | undefined) => items?.map((b) => b.toString('utf8'));

describe('splitPage', () => {
  it('hands out each data item as its exact bytes and parses the other members', () => {
    const page = split(
      '{"data":[{"id":"a","s":"x]}\\"{["},{"id":"b","n":[1,{"c":2}]}],"meta":{"cursor":"CUR","count":2},"links":{"next":"https://x/?cursor=CUR"}}',
    );
    assert.deepEqual(texts(page.items), ['{"id":"a","s":"x]}\\"{["}', '{"id":"b","n":[1,{"c":2}]}']);
    assert.deepEqual(page.members, {
      meta: { cursor: 'CUR', count: 2 },
      links: { next: 'https://x/?cursor=CUR' },
    });
  });

  it('reads pretty-printed bodies, members in any order, and items of any kind', () => {
    const page = split(
      '\n{\n  "meta" : { "cursor" : "c" } ,\n  "data" : [\n    { "a" : 1 } ,\n    7 ,\n    "s\\\\" , null\n  ]\n}\n',
    );
    assert.deepEqual(texts(page.items), ['{ "a" : 1 }', '7', '"s\\\\"', 'null']);
    assert.deepEqual(page.members, { meta: { cursor: 'c' } });
  });

  it('reports a body without a data array, and an empty one', () => {
    assert.equal(split('{"error":{"code":"X"}}').items, undefined);
    assert.equal(split('{"data":{"a":1}}').items, undefined);
    assert.deepEqual(split('{"data":[],"meta":{}}').items, []);
    assert.deepEqual(split('{}').members, {});
  });

  it('throws SyntaxError for what is not a JSON object', () => {
    for (const text of [
      '',
      '[]',
      '{"data":[{"a":1}',
      '{"data":[{"a":"x}]}',
      '{"data":[1,]}',
      '{"meta":{}} x',
      '{"data" [1]}',
      '{"meta":{"a":}}',
    ])
      assert.throws(() => split(text), SyntaxError, JSON.stringify(text));
  });

  it('decodes invalid UTF-8 the way a text body would, so items stay valid UTF-8', () => {
    const body = Buffer.concat([Buffer.from('{"data":[{"s":"a'), Buffer.from([0xff]), Buffer.from('"}]}')]);
    assert.deepEqual(texts(splitPage(body).items), ['{"s":"a\ufffd"}']);
  });
});
