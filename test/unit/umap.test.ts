// The UMAP of the scatter: its exact neighbour graph against brute force, NN-descent's against the exact one, and layouts that keep
// clusters apart and neighbourhoods together (trustworthiness), the same for the same seed,
// reported slice by slice, and stopped when asked.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../src/engine/rng';
import { knnGraph, knnPart } from '../../src/engine/umap/knn';
import { nnDescent } from '../../src/engine/umap/nnDescent';
import { layoutQuality } from '../../src/engine/umap/quality';
import { umapLayout } from '../../src/engine/umap/umap';
import { B, powB } from '../../src/engine/umap/sgd';

function blobs(n: number, dims: number, clusters: number, seed: number): { points: Float32Array; label: Int32Array } {
  const rng = createRng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dims }, () => rng.next() * 20 - 10));
  const points = new Float32Array(n * dims);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    label[i] = i % clusters;
    for (let d = 0; d < dims; d++) points[i * dims + d] = centres[i % clusters]![d]! + (rng.next() - 0.5) * 2;
  }
  return { points, label };
}

test('the neighbour graph is the exact k nearest of every point, nearest first, without the point itself', async () => {
  for (const dims of [2, 8, 40]) {
    const { points } = blobs(700, dims, 5, dims);
    const g = await knnGraph(points, dims, 12);
    for (const q of [0, 123, 699]) {
      const brute = Array.from({ length: 700 }, (_, p) => {
        let s = 0;
        for (let d = 0; d < dims; d++) s += (points[p * dims + d]! - points[q * dims + d]!) ** 2;
        return { p, d: Math.sqrt(s) };
      })
        .filter((x) => x.p !== q)
        .sort((a, b) => a.d - b.d)
        .slice(0, 12);
      assert.deepEqual(
        Array.from(g.index.subarray(q * 12, q * 12 + 12)),
        brute.map((b) => b.p),
        `${dims}-D, point ${q}`,
      );
      brute.forEach((b, r) => assert.ok(Math.abs(g.distance[q * 12 + r]! - b.d) < 1e-4));
    }
    // Two threads each answer one half of the queries: together, the same graph.
    const halves = { k: 12, index: new Int32Array(700 * 12), distance: new Float32Array(700 * 12) };
    await knnPart(points, dims, halves, { part: 1, parts: 2 });
    await knnPart(points, dims, halves, { part: 0, parts: 2 });
    assert.deepEqual(halves, g);
  }
});

test('NN-descent (the neighbour graph above 20k points) finds nearly all the exact neighbours, with their true distances', async () => {
  for (const dims of [2, 8, 32]) {
    const { points } = blobs(6_000, dims, 10, 100 + dims);
    const k = 15;
    const [approx, exact] = [await nnDescent(points, dims, k, { seed: 7 }), await knnGraph(points, dims, k)];
    let found = 0;
    for (let q = 0; q < 6_000; q++) {
      const row = Array.from(approx.index.subarray(q * k, (q + 1) * k));
      assert.ok(!row.includes(q) && new Set(row).size === k, `${dims}-D, point ${q}: ${row}`);
      const dist = approx.distance.subarray(q * k, (q + 1) * k);
      row.forEach((p, r) => {
        let s = 0;
        for (let d = 0; d < dims; d++) s += (points[p * dims + d]! - points[q * dims + d]!) ** 2;
        assert.ok(Math.abs(dist[r]! - Math.sqrt(s)) < 1e-4, 'the distance of the point listed');
        if (r > 0) assert.ok(dist[r]! >= dist[r - 1]!, 'nearest first');
      });
      const truth = new Set(exact.index.subarray(q * k, (q + 1) * k));
      found += row.filter((p) => truth.has(p)).length;
    }
    assert.ok(found / (6_000 * k) > 0.97, `${dims}-D: recall ${found / (6_000 * k)}`);
  }
  // Many equal points (one leaf the tree cannot split) and a few others: each gets k neighbours.
  const same = new Float32Array(2 * 2_100);
  for (let i = 2_000; i < 2_100; i++) same.set([i, -i], 2 * i);
  const g = await nnDescent(same, 2, 10);
  assert.equal(g.distance[0], 0);
  assert.ok(g.index.every((p) => p >= 0));
});

test('clusters in the latent space stay apart in the layout, neighbourhoods are kept, a seed gives the same layout', async () => {
  const { points, label } = blobs(1500, 8, 6, 3);
  const slices: number[] = [];
  const layout = await umapLayout(points, 8, { seed: 7, epochs: 200, onLayout: (_c, epoch) => void slices.push(epoch) });
  const q = layoutQuality(points, 8, layout, 10, 200);
  assert.ok(q.trustworthiness > 0.95, `trustworthiness ${q.trustworthiness}`);
  // Each point's nearest neighbour in the layout is of its own cluster.
  let same = 0;
  for (let i = 0; i < 1500; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < 1500; j++) {
      if (j === i) continue;
      const d = (layout[i * 2]! - layout[j * 2]!) ** 2 + (layout[i * 2 + 1]! - layout[j * 2 + 1]!) ** 2;
      if (d < bestD) [best, bestD] = [j, d];
    }
    if (label[best] === label[i]) same++;
  }
  assert.ok(same / 1500 > 0.99, `${same} of 1500 nearest in the layout share the cluster`);
  // The layout was reported as it converged, ending with the last epoch.
  assert.ok(slices.length >= 10 && slices.at(-1) === 200 && slices.every((e, i) => i === 0 || e > slices[i - 1]!));
  const again = await umapLayout(points, 8, { seed: 7, epochs: 200 });
  assert.deepEqual(again, layout);
});

test('a pause that throws stops the layout (a cancel)', async () => {
  const { points } = blobs(400, 4, 3, 5);
  let calls = 0;
  await assert.rejects(
    umapLayout(points, 4, {
      pause: async () => {
        if (++calls === 3) throw new Error('stopped');
      },
    }),
    /stopped/,
  );
});

test('above ~5,000 points a second thread shares the layout, the clusters still come out apart, a seed gives the same layout', async () => {
  const { points, label } = blobs(6000, 8, 6, 11);
  const layout = await umapLayout(points, 8, { seed: 3, epochs: 60, threads: 2 });
  // Each thread writes only its own points and reads the other's from a snapshot: no races.
  assert.deepEqual(await umapLayout(points, 8, { seed: 3, epochs: 60, threads: 2 }), layout);
  assert.equal(layout.length, 12000);
  assert.ok(layout.every(Number.isFinite));
  // Cluster centres in the layout: every point is nearer its own cluster's centre than any other's.
  const centres = Array.from({ length: 6 }, () => [0, 0, 0]);
  for (let i = 0; i < 6000; i++) {
    const c = centres[label[i]!]!;
    c[0] += layout[i * 2]!;
    c[1] += layout[i * 2 + 1]!;
    c[2]++;
  }
  let right = 0;
  for (let i = 0; i < 6000; i++) {
    const d = centres.map((c) => (layout[i * 2]! - c[0]! / c[2]!) ** 2 + (layout[i * 2 + 1]! - c[1]! / c[2]!) ** 2);
    if (d.indexOf(Math.min(...d)) === label[i]) right++;
  }
  assert.ok(right / 6000 > 0.99, `${right} of 6000 points nearest their own cluster's centre`);
});

test("the layout's d^(2b) agrees with Math.pow within 3e-5 over every distance a layout can hold", () => {
  let worst = 0;
  for (let e = -120; e <= 120; e += 0.01) {
    const x = Math.pow(2, e) * (1 + Math.sin(e * 977) * 0.4999);
    worst = Math.max(worst, Math.abs(powB(x) / Math.pow(x, B) - 1));
  }
  assert.ok(worst < 3e-5, `largest relative error ${worst}`);
  // Exact powers of two sit at the end of the fitted interval, where such a fit is least exact.
  for (let e = -100; e <= 100; e++) assert.ok(Math.abs(powB(2 ** e) / Math.pow(2 ** e, B) - 1) < 3e-5, `2^${e}`);
});
