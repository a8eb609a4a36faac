// Nearest neighbours in the latent space against brute force: the same points in the same order,
// for both distances, with the query's own point left out when asked.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nearest } from '../../src/engine/neighbours';
import { createRng } from '../../src/engine/rng';

function points(count: number, dims: number, seed: number) {
  const rng = createRng(seed);
  const mu = Float32Array.from({ length: count * dims }, () => rng.next() * 4 - 2);
  const logVar = Float32Array.from({ length: count * dims }, () => rng.next() * 3 - 2.5);
  return { dims, mu, logVar };
}

function bhattacharyya(mu1: ArrayLike<number>, lv1: ArrayLike<number>, mu2: ArrayLike<number>, lv2: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < mu1.length; d++) {
    const v1 = Math.exp(lv1[d]!);
    const v2 = Math.exp(lv2[d]!);
    const v = (v1 + v2) / 2;
    s += (mu1[d]! - mu2[d]!) ** 2 / (8 * v) + 0.5 * Math.log(v / Math.sqrt(v1 * v2));
  }
  return s;
}

test('the k nearest by Euclidean distance between means are brute force’s, nearest first', () => {
  const p = points(3000, 8, 1);
  const rng = createRng(9);
  for (let q = 0; q < 20; q++) {
    const query = Float32Array.from({ length: 8 }, () => rng.next() * 4 - 2);
    const brute = Array.from({ length: 3000 }, (_, i) => {
      let s = 0;
      for (let d = 0; d < 8; d++) s += (p.mu[i * 8 + d]! - query[d]!) ** 2;
      return { i, dist: Math.sqrt(s) };
    }).sort((a, b) => a.dist - b.dist);
    const r = nearest(p, { mu: query }, 10);
    assert.deepEqual(
      r.index,
      brute.slice(0, 10).map((b) => b.i),
    );
    r.distance.forEach((d, j) => assert.ok(Math.abs(d - brute[j]!.dist) < 1e-5));
  }
});

test('the Bhattacharyya distance between diagonal Gaussians: brute force’s order; 0 for the same posterior', () => {
  const p = points(2000, 6, 2);
  for (const qi of [0, 17, 1999]) {
    const qm = p.mu.subarray(qi * 6, qi * 6 + 6);
    const ql = p.logVar.subarray(qi * 6, qi * 6 + 6);
    const brute = Array.from({ length: 2000 }, (_, i) => ({
      i,
      dist: bhattacharyya(p.mu.subarray(i * 6, i * 6 + 6), p.logVar.subarray(i * 6, i * 6 + 6), qm, ql),
    })).sort((a, b) => a.dist - b.dist);
    assert.equal(brute[0]!.i, qi);
    assert.ok(Math.abs(brute[0]!.dist) < 1e-6);
    const withSelf = nearest(p, { mu: qm, logVar: ql }, 5, 'bhattacharyya');
    assert.deepEqual(
      withSelf.index,
      brute.slice(0, 5).map((b) => b.i),
    );
    const without = nearest(p, { mu: qm, logVar: ql }, 5, 'bhattacharyya', qi);
    assert.deepEqual(
      without.index,
      brute.slice(1, 6).map((b) => b.i),
    );
    without.distance.forEach((d, j) => assert.ok(Math.abs(d - brute[j + 1]!.dist) < 1e-4, `${d} vs ${brute[j + 1]!.dist}`));
  }
});

test('wide posteriors are nearer than sharp ones at the same distance between means', () => {
  const p = { dims: 1, mu: Float32Array.from([1, 1]), logVar: Float32Array.from([Math.log(4), Math.log(0.01)]) };
  // Query: mean 0, as wide as the first point.
  const r = nearest(p, { mu: [0], logVar: [Math.log(4)] }, 2, 'bhattacharyya');
  assert.deepEqual(r.index, [0, 1]);
  // Euclidean cannot tell them apart (ties keep index order).
  assert.deepEqual(nearest(p, { mu: [0] }, 2).distance, [1, 1]);
});

test('k larger than the points gives them all; a query’s own index is never among its neighbours', () => {
  const p = points(5, 3, 3);
  assert.equal(nearest(p, { mu: [0, 0, 0] }, 50).index.length, 5);
  const r = nearest(p, { mu: p.mu.subarray(6, 9) }, 50, 'euclidean', 2);
  assert.equal(r.index.length, 4);
  assert.ok(!r.index.includes(2));
});

test('CSV fields with a comma, a quote or a line break are quoted, quotes doubled', async () => {
  const { csvField } = await import('../../src/engine/csvExport');
  assert.equal(csvField('/data/cats/a.png'), '/data/cats/a.png');
  assert.equal(csvField('/data/a,b.png'), '"/data/a,b.png"');
  assert.equal(csvField('say "cheese".png'), '"say ""cheese"".png"');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
});
