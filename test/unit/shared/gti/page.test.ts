import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cleanObject } from '../../../../shared/gti/clean.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import { entityViewFromNotification } from '../../../../shared/gti/entity_view.js';
import { splitPage, TAIL_MEMBER_MAX_BYTES, tailMember } from '../../../../shared/gti/page.js';
import type { PageItem } from '../../../../shared/gti/page_item.js';
import { demoDataset } from '../../../../sim/dataset.js';

const split = (text: string) => splitPage(Buffer.from(text, 'utf8'), new JsonCleaner());
const view = (item: PageItem) =>
  item.kind === 'cleaned'
    ? { kind: item.kind, id: item.id, date: item.date, json: item.cleaned.toString('utf8') }
    : { kind: item.kind, json: item.raw.toString('utf8') };

const notification = (id: string, extra = '') =>
  `{"type":"file","id":"f-${id}"${extra},"context_attributes":{"notification_date":${id.length},"notification_id":"${id}"}}`;
const reference = (text: string) => JSON.stringify(cleanObject(JSON.parse(text) as Record<string, unknown>));

describe('splitPage', () => {
  it('cleans each notification from the body bytes and keeps every cleaned item', () => {
    const items = [
      notification('n1', ',"attributes":{"b":"x]}\\"{[","a":null,"c":[]}'),
      notification('n22', ',"attributes":{"names":["z","",null],"size":1.50}'),
    ];
    const page = split(
      `{"data":[${items.join(',')}],"meta":{"cursor":"CUR","count":2},"links":{"next":"https://x/?cursor=CUR"}}`,
    );
    assert.deepEqual(page.items?.map(view), [
      { kind: 'cleaned', id: 'n1', date: 2, json: reference(items[0] as string) },
      { kind: 'cleaned', id: 'n22', date: 3, json: reference(items[1] as string) },
    ]);
    assert.deepEqual(page.members, {
      meta: { cursor: 'CUR', count: 2 },
      links: { next: 'https://x/?cursor=CUR' },
    });
  });

  it('keeps what the byte cleaner leaves to the object path as its exact raw bytes', () => {
    const duplicate = notification('n1', ',"attributes":{"size":1,"size":2}');
    const noId = '{"type":"file","id":"f","context_attributes":{"notification_date":5}}';
    const page = split(`{"data":[${duplicate}, 7 ,"s\\\\",null,${noId},${notification('n2')}]}`);
    assert.deepEqual(page.items?.map(view), [
      { kind: 'raw', json: duplicate },
      { kind: 'raw', json: '7' },
      { kind: 'raw', json: '"s\\\\"' },
      { kind: 'raw', json: 'null' },
      { kind: 'raw', json: noId },
      { kind: 'cleaned', id: 'n2', date: 2, json: reference(notification('n2')) },
    ]);
  });

  it('reads pretty-printed bodies with members in any order', () => {
    const pretty = JSON.stringify(JSON.parse(notification('n1', ',"attributes":{"b":2,"a":1}')), null, 4);
    const page = split(
      `\n{\n  "meta" : { "cursor" : "c" } ,\n  "data" : [\n    ${pretty} ,\n    ${pretty}\n  ]\n}\n`,
    );
    assert.deepEqual(
      page.items?.map((i) => view(i).json),
      [reference(pretty), reference(pretty)],
    );
    assert.deepEqual(page.members, { meta: { cursor: 'c' } });
  });

  it('reports a body without a data array, and an empty one', () => {
    assert.equal(split('{"error":{"code":"X"}}').items, undefined);
    assert.equal(split('{"data":{"a":1}}').items, undefined);
    assert.deepEqual(split('{"data":[],"meta":{}}').items, []);
    assert.deepEqual(split('{}').members, {});
    const odd = split('{"__proto__":{"cursor":"x"},"data":[]}').members;
    assert.equal((odd as { cursor?: unknown }).cursor, undefined);
    assert.deepEqual(Object.keys(odd), ['__proto__']);
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
      `{"data":[${notification('n1')}`,
    ])
      assert.throws(() => split(text), SyntaxError, JSON.stringify(text));
  });

  it('decodes invalid UTF-8 the way a text body would, so items stay valid UTF-8', () => {
    const text = notification('n1', ',"s":"a\u0000"').replace('\\u0000', '');
    const [before, after] = text.split('\u0000') as [string, string];
    const body = Buffer.concat([
      Buffer.from(`{"data":[${before}`),
      Buffer.from([0xff]),
      Buffer.from(`${after}]}`),
    ]);
    const [item] = splitPage(body, new JsonCleaner()).items ?? [];
    assert.ok(item);
    assert.equal(view(item).json, reference(`${before}\ufffd${after}`));
  });

  it('with entity views, takes each cleaned item view from the cleaner: the view of the object path', () => {
    const dataset = demoDataset();
    const items = Array.from({ length: dataset.size }, (_, i) => dataset.get(i));
    const body = Buffer.from(JSON.stringify({ data: items }));
    const cleaner = new JsonCleaner();
    const withViews = splitPage(body, cleaner, { entityViews: true }).items ?? [];
    const without = splitPage(body, cleaner).items ?? [];
    assert.equal(withViews.length, items.length);
    let cleaned = 0;
    withViews.forEach((item, i) => {
      if (item.kind !== 'cleaned') return;
      cleaned += 1;
      assert.deepEqual(
        item.view,
        entityViewFromNotification(items[i] as (typeof items)[number]),
        `item ${i}`,
      );
    });
    assert.ok(cleaned > items.length / 2, `${cleaned} items on the fast path`);
    assert.ok(
      without.every((item) => item.kind === 'raw' || item.view === undefined),
      'no views unless asked',
    );
  });
});

describe('tailMember', () => {
  const tail = (text: string, key = 'meta') => tailMember(Buffer.from(text, 'utf8'), key);

  it('reads a member after the data array from the end, without reading the items', () => {
    // The items are not valid JSON: only the tail is read.
    const body = `{"data":[{"broken":],"meta":{"count":40,"cursor":"C2"},"links":{"next":"https://x/?cursor=C2"}}`;
    assert.deepEqual(tail(body), { count: 40, cursor: 'C2' });
    assert.deepEqual(tail(body, 'links'), { next: 'https://x/?cursor=C2' });
  });

  it('follows strings with escaped quotes, brackets and backslashes, and pretty-printed bodies', () => {
    const meta = { cursor: 'a\\"}],{\\', n: [1, { x: '"' }], t: true, z: null, e: -1.5e3 };
    const body = `{ "data" : [ ${notification('n1')} ] ,\n  "meta" :\n ${JSON.stringify(meta, null, 2)} ,\n "links" : { "self" : "\\\\" } \n}\n`;
    assert.deepEqual(tail(body), meta);
  });

  it('gives the last of a repeated member, as splitPage does', () => {
    const body = '{"data":[],"meta":{"cursor":"old"},"meta":{"cursor":"new"}}';
    assert.deepEqual(tail(body), split(body).members.meta);
  });

  it('gives nothing when the member is not after the data array, or the tail cannot be read', () => {
    for (const body of [
      '{"meta":{"cursor":"c"},"data":[1,2]}',
      '{"data":[1,2]}',
      '{"data":[1,2],"links":{}}',
      '{"data":[1],"meta":{"cursor":"c"}',
      '{"data":[1],"meta":{"cursor":"c"}} x',
      '{"data":[1],"meta" {"cursor":"c"}}',
      '{"data":[1],"meta":{"cursor":"c}}',
      '[1,{"meta":{}}]',
      '',
      '{}',
    ])
      assert.equal(tail(body), undefined, body);
  });

  it('reads at most TAIL_MEMBER_MAX_BYTES from the end', () => {
    const pad = 'x'.repeat(TAIL_MEMBER_MAX_BYTES);
    assert.equal(tail(`{"data":[],"meta":{"cursor":"c"},"links":{"pad":"${pad}"}}`), undefined);
    assert.deepEqual(tail(`{"data":[],"meta":{"cursor":"c"},"links":{"pad":"${pad.slice(100)}"}}`), {
      cursor: 'c',
    });
  });

  it('agrees with splitPage on any member that follows the data array', () => {
    const member = fc.tuple(fc.constantFrom('meta', 'links', 'x', '__proto__', 'm\u00e9ta'), fc.jsonValue());
    fc.assert(
      fc.property(
        fc.array(member, { maxLength: 3 }),
        fc.array(member, { maxLength: 4 }),
        fc.array(fc.jsonValue(), { maxLength: 3 }),
        fc.constantFrom(0, 2),
        (before, after, data, indent) => {
          const text = (v: unknown) => JSON.stringify(v, null, indent);
          const members = [
            ...before.map(([k, v]) => `${text(k)}: ${text(v)}`),
            `"data": ${text(data)}`,
            ...after.map(([k, v]) => `${text(k)}: ${text(v)}`),
          ];
          const body = `{${members.join(',\n')}}`;
          const whole = split(body).members;
          for (const key of ['meta', 'links', 'x', '__proto__']) {
            const found = tail(body, key);
            if (after.some(([k]) => k === key)) assert.deepEqual(found, whole[key], body);
            else assert.equal(found, undefined, body);
          }
        },
      ),
    );
  });
});
