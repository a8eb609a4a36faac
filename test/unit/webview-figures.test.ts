// The explorer's per-image figures: the colour range, the ramp's indices and readable span, the
// worst images. Pure functions of webview/core/figures.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RAMP_STEPS, colourRange, contrast, rampColours, rampIndex, rampSpan, topK } from '../../webview/core/figures';

test('colourRange runs from the 1st to the 99th percentile and says when values lie beyond', () => {
  const values = Array.from({ length: 201 }, (_, i) => i);
  values[200] = 1e6;
  const r = colourRange(values)!;
  assert.deepEqual(r, { lo: 2, hi: 198, clippedLo: true, clippedHi: true });
  assert.deepEqual(colourRange([5, NaN, 5]), { lo: 5, hi: 5, clippedLo: false, clippedHi: false });
  assert.equal(colourRange([NaN]), null);
});

test('rampIndex keeps 0 for missing values and spreads the range over 1…RAMP_STEPS', () => {
  const idx = rampIndex([0, 10, 5, NaN, -3, 99], { lo: 0, hi: 10, clippedLo: false, clippedHi: false });
  assert.deepEqual(Array.from(idx), [1, RAMP_STEPS, 1 + Math.round(0.5 * (RAMP_STEPS - 1)), 0, 1, RAMP_STEPS]);
});

test('the ramp keeps 3:1 contrast with dark, light and black backgrounds at both ends', () => {
  for (const bg of [
    [30, 30, 30],
    [255, 255, 255],
    [0, 0, 0],
  ]) {
    const span = rampSpan(bg);
    assert.ok(span[1] - span[0] >= 0.5, `${span} on ${bg}`);
    const colours = rampColours(span);
    assert.equal(colours.length, RAMP_STEPS);
    for (const end of [colours[0], colours[RAMP_STEPS - 1]]) assert.ok(contrast(end, bg) >= 3, `${end} on ${bg}`);
  }
});

test('topK gives the largest finite values first, ties in point order', () => {
  assert.deepEqual(topK([3, 9, NaN, 9, 1, 7], 3), [1, 3, 5]);
  assert.deepEqual(topK([1, 2], 5), [1, 0]);
  assert.deepEqual(topK([], 3), []);
});
