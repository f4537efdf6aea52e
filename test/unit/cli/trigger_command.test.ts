import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinRelativeStart } from '../../../cli/trigger_command.js';

describe('trigger command line', () => {
  it('takes a relative start after --start as its value, not as an option', () => {
    assert.deepEqual(joinRelativeStart(['--start', '-7d']), ['--start=-7d']);
    assert.deepEqual(joinRelativeStart(['--filter', 'origin:hunting', '--start', '-12h', '--topic', 't']), [
      '--filter',
      'origin:hunting',
      '--start=-12h',
      '--topic',
      't',
    ]);
    assert.deepEqual(joinRelativeStart(['--start', '2026-01-01T00:00:00Z']), [
      '--start',
      '2026-01-01T00:00:00Z',
    ]);
    assert.deepEqual(
      joinRelativeStart(['--start', '--help']),
      ['--start', '--help'],
      'an option stays an option',
    );
    assert.deepEqual(joinRelativeStart(['--start']), ['--start']);
  });
});
