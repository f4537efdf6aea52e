import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createProgressBar,
  ratePerSecond,
  renderBar,
  renderProgressLine,
} from '../../../cli/progress_bar.js';

describe('progress bar', () => {
  it('renders proportional bars', () => {
    assert.equal(renderBar(0, 10, 10), '[----------]');
    assert.equal(renderBar(5, 10, 10), '[#####-----]');
    assert.equal(renderBar(12, 10, 10), '[##########]');
    assert.equal(renderBar(0, 0, 4), '[####]');
  });
  it('computes the rate', () => {
    assert.equal(ratePerSecond(50, 2000), 25);
    assert.equal(ratePerSecond(50, 0), 0);
  });
  it('shows counts, skips zero extras, and the rate', () => {
    assert.equal(
      renderProgressLine('moved', { done: 40, total: 100, extra: { scanned: 120, failed: 0 } }, 4000),
      '[##########--------------] moved 40/100 · scanned 120 · 10.0 msg/s',
    );
    assert.equal(
      renderProgressLine('moved', { done: 3, total: undefined, extra: {} }, 1000),
      'moved 3 · 3.0 msg/s',
    );
  });
  it('throttles lines when not a terminal', () => {
    const lines: string[] = [];
    let t = 0;
    const bar = createProgressBar({ write: (s: string) => lines.push(s) }, 'moved', true, () => t);
    bar.update({ done: 1, total: undefined, extra: {} });
    t = 500;
    bar.update({ done: 2, total: undefined, extra: {} });
    t = 2500;
    bar.update({ done: 3, total: undefined, extra: {} });
    bar.done();
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^progress: moved 3/);
  });
});
