import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erfc, gaussianGrid, gridSizeFor, inverseNormalCdf, regularGrid, traversalLatents } from '../../webview/core/grid';

test('inverseNormalCdf matches known quantiles of N(0, 1)', () => {
  const known: [number, number][] = [
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.025, -1.959963984540054],
    [0.8413447460685429, 1],
    [0.001, -3.090232306167813],
    [0.05, -1.6448536269514722],
  ];
  for (const [p, z] of known) assert.ok(Math.abs(inverseNormalCdf(p) - z) < 1e-6, `Φ⁻¹(${p}) = ${inverseNormalCdf(p)}, expected ${z}`);
  assert.equal(inverseNormalCdf(0), -Infinity);
  assert.throws(() => inverseNormalCdf(1.5), /p must be in \[0, 1\]/);
  // Round trip through the CDF.
  for (const p of [0.01, 0.2, 0.6, 0.99]) assert.ok(Math.abs(0.5 * erfc(-inverseNormalCdf(p) / Math.SQRT2) - p) < 1e-6);
});

test('regularGrid puts cell centres over the rectangle, top row first', () => {
  const g = regularGrid({ x0: 0, x1: 4, y0: 0, y1: 2 }, 4, 2);
  assert.equal(g.length, 16);
  assert.deepEqual(Array.from(g.slice(0, 2)), [0.5, 1.5]); // top-left
  assert.deepEqual(Array.from(g.slice(14, 16)), [3.5, 0.5]); // bottom-right
});

test('gaussianGrid is symmetric and spaced by equal prior mass', () => {
  const n = 5;
  const g = gaussianGrid(n);
  const xs = Array.from({ length: n }, (_, c) => g[c * 2]);
  assert.ok(Math.abs(xs[2]) < 1e-9);
  assert.ok(Math.abs(xs[0] + xs[4]) < 1e-6);
  assert.ok(Math.abs(xs[0] - inverseNormalCdf(0.05)) < 1e-6);
  // Top row has the largest y.
  assert.ok(g[1] > g[n * (n - 1) * 2 + 1]);
  // Cells widen away from the centre.
  assert.ok(xs[1] - xs[0] > xs[2] - xs[1]);
});

test('traversalLatents varies one dimension per row around the centre', () => {
  const t = traversalLatents([1, 2, 3], 3, 2);
  assert.equal(t.length, 3 * 3 * 3);
  assert.deepEqual(Array.from(t.slice(0, 9)), [-1, 2, 3, 1, 2, 3, 3, 2, 3]);
  assert.deepEqual(Array.from(t.slice(18, 27)), [1, 2, 1, 1, 2, 3, 1, 2, 5]);
});

test('gridSizeFor clamps the tile count', () => {
  assert.deepEqual(gridSizeFor(800, 400, 40), { cols: 20, rows: 10 });
  assert.deepEqual(gridSizeFor(10000, 10, 40), { cols: 24, rows: 2 });
});
