// Density contours (issue 10, item 3): the binned, separably smoothed kernel density against the
// exact Gaussian KDE summed point by point, and the highest-density levels against the circles
// where a standard normal holds 39 %, 86 % and 99 % of its mass.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { densityGrid, massLevels, scottBandwidth } from '../../webview/core/density';
import { densityShapes, densityLevels, SHARES } from '../../webview/densityLayer';

function gaussianPoints(n: number, seed: number, scale: [number, number] = [1, 1], shift: [number, number] = [0, 0]): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[2 * i] = shift[0] + scale[0] * r * Math.cos(t);
    out[2 * i + 1] = shift[1] + scale[1] * r * Math.sin(t);
  }
  return out;
}

test('the grid density equals the exact Gaussian KDE at every node, to within the binning error', () => {
  // Two clusters of different spread, one partly outside the region (its tails must still count).
  const a = gaussianPoints(1500, 1, [0.6, 0.3], [-1, 0.5]);
  const b = gaussianPoints(500, 2, [0.2, 0.5], [2.2, -1]);
  const coords = new Float32Array(a.length + b.length);
  coords.set(a);
  coords.set(b, a.length);
  const skipped = new Set([3, 77, 1600]);
  const skip = (i: number) => skipped.has(i);
  const rect = { x0: -2.5, x1: 2, y0: -2, y1: 2 };
  const grid = densityGrid({ coords, skip, rect, cols: 91, rows: 81 });
  const [hx, hy] = grid.bandwidth;
  const { bandwidth, count } = scottBandwidth(coords, skip);
  assert.deepEqual(grid.bandwidth, bandwidth);
  assert.equal(count, 2000 - 3);
  let worst = 0;
  let peak = 0;
  for (let r = 0; r < grid.rows; r += 4)
    for (let c = 0; c < grid.cols; c += 4) {
      const x = grid.x0 + c * grid.dx;
      const y = grid.y0 + r * grid.dy;
      let exact = 0;
      for (let i = 0; i < coords.length / 2; i++) {
        if (skip(i)) continue;
        exact += Math.exp(-0.5 * (((x - coords[2 * i]) / hx) ** 2 + ((y - coords[2 * i + 1]) / hy) ** 2));
      }
      exact /= 2 * Math.PI * hx * hy;
      worst = Math.max(worst, Math.abs(grid.values[r * grid.cols + c] - exact));
      peak = Math.max(peak, exact);
    }
  assert.ok(peak > 100, `a dense region (${peak} points per unit area)`);
  assert.ok(worst / peak < 0.02, `worst difference ${worst} against a peak of ${peak}`);
});

test('the highest-density regions of standard normal points are the circles of radius 1, 2 and 3', () => {
  const coords = gaussianPoints(40_000, 5);
  const skip = () => false;
  const levels = densityLevels(coords, skip);
  assert.equal(levels.length, 3);
  assert.ok(levels[0] < levels[1] && levels[1] < levels[2], 'outermost (largest share) first, at the lowest level');
  const rings = densityShapes(coords, skip, { x0: -4, x1: 4, y0: -4, y1: 4 }, { width: 600, height: 600 }, levels);
  // Smoothing widens the density by the bandwidth: radii grow by √(1 + h²) (h ≈ 0.17 here).
  const [h] = scottBandwidth(coords, skip).bandwidth;
  const widen = Math.sqrt(1 + h * h);
  [3, 2, 1].forEach((radius, k) => {
    assert.equal(rings[k].length, 1, `one ring holds ${SHARES[2 - k]} of the mass`);
    const r = rings[k][0].map(([x, y]) => Math.hypot(x, y));
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const expected = radius * widen;
    assert.ok(Math.abs(mean - expected) / expected < 0.04, `radius ${mean.toFixed(3)} for the ${radius}-σ circle (${expected.toFixed(3)})`);
    assert.ok(Math.max(...r) - Math.min(...r) < 0.25 * radius + 0.15, `round: ${Math.min(...r)}…${Math.max(...r)}`);
  });
});

test('mass levels split the grid by share of mass', () => {
  const grid = {
    cols: 4,
    rows: 1,
    x0: 0,
    y0: 0,
    dx: 1,
    dy: 1,
    values: Float64Array.from([1, 2, 3, 4]),
    bandwidth: [1, 1] as [number, number],
    count: 4,
  };
  // 4 holds 40 %, 4 + 3 hold 70 %, all hold 100 %.
  assert.deepEqual(massLevels(grid, [0.4, 0.7, 1]), [1, 3, 4]);
  assert.deepEqual(massLevels(grid, [0.5]), [3]);
});
