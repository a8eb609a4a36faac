import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pca2, pcaInverse, symmetricEigen } from '../../src/protocol/pca';

test('symmetricEigen recovers the eigenvalues of a known symmetric matrix', () => {
  // [[2,1],[1,2]] has eigenvalues 3 and 1.
  const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
  assert.deepEqual(values.map((v) => Math.round(v * 1e9) / 1e9).sort(), [1, 3]);
  const big = values[0] > values[1] ? 0 : 1;
  assert.ok(Math.abs(Math.abs(vectors[big]) - Math.SQRT1_2) < 1e-9);
});

test('PCA finds the direction of largest variance and reports variance explained', () => {
  // Points along (1, 1, 0) with spread 10, plus small noise in z.
  const n = 200;
  const pts = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = (i / n - 0.5) * 10;
    pts[i * 3] = t + 1;
    pts[i * 3 + 1] = t - 2;
    pts[i * 3 + 2] = (i % 2 ? 0.1 : -0.1) + 5;
  }
  const p = pca2(pts, n, 3);
  assert.ok(Math.abs(p.axes[0][0] - Math.SQRT1_2) < 1e-6 && Math.abs(p.axes[0][1] - Math.SQRT1_2) < 1e-6);
  assert.ok(Math.abs(Math.abs(p.axes[1][2]) - 1) < 1e-6, 'second axis is z');
  assert.ok(p.explained[0] > 0.99 && p.explained[0] + p.explained[1] > 0.999999);
  // Projected coordinates are centred.
  let mx = 0;
  for (let i = 0; i < n; i++) mx += p.coords[i * 2];
  assert.ok(Math.abs(mx / n) < 1e-4);
  // Back-projection lands in the plane and projects to the same spot.
  const z = pcaInverse(p, 2, 0.05);
  const x = (z[0] - p.mean[0]) * p.axes[0][0] + (z[1] - p.mean[1]) * p.axes[0][1] + (z[2] - p.mean[2]) * p.axes[0][2];
  assert.ok(Math.abs(x - 2) < 1e-5);
});

test('PCA rejects a point array of the wrong size', () => {
  assert.throws(() => pca2(new Float32Array(5), 2, 3), /expected 2×3 = 6 values, got 5/);
});

test('PCA of 100k × 8 points finishes and keeps the order of points', () => {
  const n = 100_000;
  const d = 8;
  const pts = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) pts[i * d + j] = Math.sin(i * (j + 1) * 0.37) * (j + 1);
  const p = pca2(pts, n, d);
  assert.equal(p.coords.length, n * 2);
  assert.ok(p.explained[0] >= p.explained[1]);
});
