import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activateUrl, createParserBody, parseParser, parsersUrl } from '../../../../shared/chronicle/api.js';
import { logTypeUrl } from '../../../../shared/chronicle/resources.js';
import { ValidationError } from '../../../../shared/core/errors.js';

const TARGET = {
  baseUrl: 'https://eu-chronicle.googleapis.com',
  apiVersion: 'v1alpha',
  projectId: 'p1',
  region: 'eu',
  customerId: 'c1',
  logType: 'GTI_IOC_STREAM',
};
const PREFIX =
  'https://eu-chronicle.googleapis.com/v1alpha/projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM';

describe('Chronicle log type and parser calls', () => {
  it('builds the URLs from the same base, version and instance as logs:import', () => {
    assert.equal(logTypeUrl(TARGET, ''), PREFIX);
    assert.equal(parsersUrl(TARGET), `${PREFIX}/parsers`);
    assert.equal(activateUrl(TARGET, 'abc-123'), `${PREFIX}/parsers/abc-123:activate`);
  });

  it('sends the parser as secops-wrapper does: base64 cbn and validated_on_empty_logs', () => {
    assert.deepEqual(createParserBody('filter { }\nünï'), {
      cbn: Buffer.from('filter { }\nünï', 'utf8').toString('base64'),
      validated_on_empty_logs: true,
    });
  });

  it('reads a Parser, in either key case', () => {
    const name =
      'projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM/parsers/0f1e2d3c-aaaa-4bbb-8ccc-123456789abc';
    assert.deepEqual(
      parseParser(
        {
          name,
          state: 'ACTIVE',
          cbn: Buffer.from('filter {}').toString('base64'),
          create_time: '2026-01-01T00:00:00Z',
        },
        'GTI_IOC_STREAM',
      ),
      {
        name,
        id: '0f1e2d3c-aaaa-4bbb-8ccc-123456789abc',
        state: 'ACTIVE',
        text: 'filter {}',
        createTime: '2026-01-01T00:00:00Z',
      },
    );
    assert.equal(parseParser({ name }, 'GTI_IOC_STREAM').text, undefined, 'a list may leave the config out');
  });

  it('refuses a parser name that is not one of this log type (its id goes into the activate URL)', () => {
    for (const name of [
      undefined,
      'projects/p1/locations/eu/instances/c1/logTypes/OTHER/parsers/abc',
      'projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM/parsers/abc:delete',
      'projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM/parsers/../../x',
      'projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM/parsers/a%2Fb',
    ]) {
      assert.throws(() => parseParser({ name }, 'GTI_IOC_STREAM'), ValidationError, String(name));
    }
  });
});
