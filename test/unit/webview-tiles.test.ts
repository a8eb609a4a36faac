import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTiles, drawPlan } from '../../webview/core/tiles';

/** Two dense clusters, a few lone outliers and a NaN. */
function cloud(n: number): Float32Array {
  let seed = 3;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const c = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    c[2 * i] = k * 4 + (random() - 0.5);
    c[2 * i + 1] = (random() - 0.5) * 2;
  }
  c[0] = 20;
  c[1] = 15; // a lone outlier far from both clusters
  c[2] = NaN;
  return c;
}

test('every finite point is in exactly one tile, and the tile contains it', () => {
  const c = cloud(50_000);
  const t = buildTiles(c, 16, 16);
  assert.equal(t.order.length, 50_000 - 1, 'the NaN point is left out');
  assert.deepEqual([...new Set(t.order)].length, t.order.length, 'no point twice');
  for (let tile = 0; tile < t.cols * t.rows; tile++) {
    const [col, row] = [tile % t.cols, Math.floor(tile / t.cols)];
    for (let k = t.start[tile]; k < t.start[tile + 1]; k++) {
      const i = t.order[k];
      assert.equal(Math.min(t.cols - 1, Math.floor((c[2 * i] - t.x0) * t.sx)), col);
      assert.equal(Math.min(t.rows - 1, Math.floor((c[2 * i + 1] - t.y0) * t.sy)), row);
    }
  }
});

test('a prefix of a tile samples its whole index range, not its first points', () => {
  const n = 100_000;
  const c = new Float32Array(2 * n).fill(0.5); // all in one tile
  c[0] = 0;
  c[1] = 0;
  c[2 * n - 2] = 1;
  c[2 * n - 1] = 1;
  const t = buildTiles(c, 1, 1);
  const prefix = Array.from(t.order.subarray(0, 1000));
  const firstHalf = prefix.filter((i) => i < n / 2).length;
  assert.ok(firstHalf > 400 && firstHalf < 600, `${firstHalf} of 1000 from the first half`);
});

test('within budget every point in view is drawn once at weight 1; over budget a weighted sample keeps every tile', () => {
  const c = cloud(200_000);
  const t = buildTiles(c, 32, 32);
  const all = { x0: -10, x1: 30, y0: -10, y1: 30 };
  const full = drawPlan(t, all, 1e9);
  assert.equal(full.drawn, t.order.length);
  assert.ok(full.weight.every((w) => w === 1));
  const sampled = drawPlan(t, all, 20_000);
  assert.ok(sampled.drawn >= 20_000 && sampled.drawn < 21_000, `drew ${sampled.drawn}`);
  // Weighted, the sample stands for every point in view.
  const represented = sampled.count.reduce((s, m, k) => s + m * sampled.weight[k], 0);
  assert.ok(Math.abs(represented - t.order.length) < 1e-6 * t.order.length, `${represented} stand for ${t.order.length}`);
  // The lone outlier's tile is drawn, with its one point.
  const lone = sampled.first.some((f, k) => sampled.count[k] === 1 && t.order[f] === 0);
  assert.ok(lone, 'the outlier is kept');
  // Zoomed into one cluster: only its tiles are considered.
  const zoomed = drawPlan(t, { x0: 3.6, x1: 4.4, y0: -0.4, y1: 0.4 }, 1e9);
  assert.ok(zoomed.inView < 200_000 / 2 && zoomed.inView > 0, `${zoomed.inView} in view`);
  for (let k = 0; k < zoomed.first.length; k++) {
    for (let j = zoomed.first[k]; j < zoomed.first[k] + zoomed.count[k]; j++) assert.ok(c[2 * t.order[j]] > 3, 'only the right cluster');
  }
  assert.equal(drawPlan(t, { x0: 100, x1: 110, y0: 0, y1: 1 }, 1e9).drawn, 0, 'nothing in view, nothing drawn');
});
