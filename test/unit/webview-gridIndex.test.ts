import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { GridIndex, nearestByScan } from '../../webview/core/gridIndex';
import { LatestOnly } from '../../webview/core/latestOnly';

/** Deterministic clustered points with a few far outliers, duplicates and a NaN. */
function cloud(n: number): Float32Array {
  let seed = 7;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const c = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const k = i % 5;
    c[2 * i] = k * 3 + (random() - 0.5) * (k + 1);
    c[2 * i + 1] = Math.sin(k) * 4 + (random() - 0.5) * 0.5;
  }
  c[0] = 500;
  c[1] = -800; // outliers far outside the central range
  c[2] = -1e6;
  c[3] = 3;
  c[4] = c[10];
  c[5] = c[11]; // a duplicate of point 5
  c[6] = NaN;
  return c;
}

function bruteNearest(c: Float32Array, x: number, y: number, r: number, accept: (i: number) => boolean): number | null {
  let best: number | null = null;
  let bestD2 = r * r;
  for (let i = 0; i < c.length / 2; i++) {
    const d2 = (c[2 * i] - x) ** 2 + (c[2 * i + 1] - y) ** 2;
    if ((d2 < bestD2 || (d2 === bestD2 && (best === null || i < best))) && accept(i)) {
      bestD2 = d2;
      best = i;
    }
  }
  return best;
}

test('GridIndex finds exactly the nearest accepted point within the radius, as a full scan does', () => {
  const c = cloud(20_000);
  // Built in small steps, as the webview does between frames; the result must not depend on it.
  const steps = GridIndex.buildInSteps(c, 4, 1000);
  let pauses = 0;
  let r = steps.next();
  for (; !r.done; r = steps.next()) pauses++;
  const index = r.value;
  assert.ok(pauses >= 40, `the build pauses between chunks (${pauses})`);
  assert.ok(index.cols * index.rows > 1000, `a real grid, not one cell (${index.cols}×${index.rows})`);
  const hidden = (i: number) => i % 7 !== 3;
  let seed = 99;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  let found = 0;
  for (let q = 0; q < 600; q++) {
    const x = -3 + random() * 18;
    const y = -6 + random() * 12;
    const radius = [0.01, 0.05, 0.3, 2][q % 4];
    const accept = q % 2 ? hidden : () => true;
    const got = index.nearest(x, y, radius, accept);
    const want = bruteNearest(c, x, y, radius, accept);
    assert.equal(got, want, `query (${x}, ${y}) radius ${radius}`);
    assert.equal(nearestByScan(c, x, y, radius, accept), want, `scan fallback, query (${x}, ${y}) radius ${radius}`);
    if (got !== null) found++;
  }
  assert.ok(found > 60, `most queries hit something (${found})`);
  // Outliers far outside the grid's range are still found, and duplicates resolve to the lower index.
  assert.equal(index.nearest(500, -800, 1), 0);
  assert.equal(index.nearest(-1e6, 3, 1), 1);
  assert.equal(index.nearest(c[10], c[11], 0.001), 2);
  assert.equal(index.nearest(0, 0, -1), null);
});

test('GridIndex copes with no points and with all points on one spot', () => {
  assert.equal(GridIndex.build(new Float32Array(0)).nearest(0, 0, 10), null);
  const same = GridIndex.build(new Float32Array([1, 1, 1, 1, 1, 1]));
  assert.equal(same.nearest(1.5, 1, 1), 0);
  assert.equal(
    same.nearest(1, 1, 1, (i) => i === 2),
    2,
  );
});

test('LatestOnly gives a request up after its timeout, so the next view is decoded', () => {
  // Node's fake clock: the gate's own setTimeout runs, but time moves only when the test says.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const sent: [number, string][] = [];
    const timedOut: number[] = [];
    let next = 1;
    const gate = new LatestOnly<string>(
      (id, p) => sent.push([id, p]),
      () => next++,
      { timeoutMs: 15_000, onTimeout: (id) => timedOut.push(id) },
    );
    gate.request('a');
    gate.request('b');
    mock.timers.tick(14_000);
    assert.deepEqual(sent, [[1, 'a']], 'still waiting for the answer to a');
    mock.timers.tick(1_000);
    // 'a' never answered: its slot freed and the waiting wish 'b' went out.
    assert.deepEqual(timedOut, [1]);
    assert.deepEqual(sent, [
      [1, 'a'],
      [2, 'b'],
    ]);
    assert.equal(gate.settle(1), false, 'a late answer to the abandoned request is not drawn');
    assert.equal(gate.settle(2), true);
    mock.timers.tick(30_000);
    assert.deepEqual(timedOut, [1], 'an answered request never times out');
    // With nothing waiting, a timed-out slot lets the next wish go at once.
    gate.request('c');
    mock.timers.tick(15_000);
    assert.equal(gate.busy, false);
    gate.request('d');
    assert.deepEqual(sent.slice(-2), [
      [3, 'c'],
      [4, 'd'],
    ]);
    assert.equal(gate.settle(4), true);
  } finally {
    mock.timers.reset();
  }
});
