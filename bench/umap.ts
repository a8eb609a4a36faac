// UMAP for the scatter (src/engine/umap/): time and layout quality at 2k, 10k and 100k points,
// side by side with umap-js (what the engine used before) where it finishes in reasonable time.
// The points are synthetic 8-D latents: 10 anisotropic, overlapping Gaussian clusters.
import { UMAP } from 'umap-js';
import { createRng } from '../src/engine/rng';
import { layoutQuality } from '../src/engine/umap/quality';
import { knnGraph } from '../src/engine/umap/knn';
import { nnDescent } from '../src/engine/umap/nnDescent';
import { EXACT_KNN_MAX, umapLayout } from '../src/engine/umap/umap';

const DIMS = 8;

function latents(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const centres = Array.from({ length: 10 }, () => Array.from({ length: DIMS }, () => rng.next() * 6 - 3));
  const scales = Array.from({ length: 10 }, () => Array.from({ length: DIMS }, () => 0.3 + rng.next()));
  const out = new Float32Array(n * DIMS);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    for (let d = 0; d < DIMS; d++) {
      // Box–Muller normal draws.
      const r = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      out[i * DIMS + d] = centres[c]![d]! + scales[c]![d]! * r;
    }
  }
  return out;
}

/** Points the quality figures are measured on: each costs a sort of all the points. */
const sampleFor = (n: number) => (n <= 10_000 ? 1_500 : 300);

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t) / 1000 };
}

export async function run(): Promise<string> {
  const rows: string[] = [];
  for (const n of [2_000, 10_000, 100_000]) {
    const points = latents(n, n);
    const exact = await timed(() => knnGraph(points, DIMS, 15));
    let graph = `neighbour graph ${exact.seconds.toFixed(1)}, exact`;
    if (n > EXACT_KNN_MAX) {
      // What the layout uses above EXACT_KNN_MAX, and how many of the exact neighbours it finds.
      const approx = await timed(() => nnDescent(points, DIMS, 15, { seed: 42 }));
      let found = 0;
      for (let p = 0; p < n; p++) {
        const truth = new Set(exact.value.index.subarray(p * 15, (p + 1) * 15));
        for (const q of approx.value.index.subarray(p * 15, (p + 1) * 15)) if (truth.has(q)) found++;
      }
      graph = `neighbour graph ${approx.seconds.toFixed(1)} by NN-descent, ${((100 * found) / (n * 15)).toFixed(1)} % of the exact neighbours; exact: ${exact.seconds.toFixed(1)}`;
    }
    // The median of three runs (the machine's speed drifts by a third from minute to minute).
    const runs: { value: Float32Array; seconds: number }[] = [];
    for (let r = 0; r < 3; r++) runs.push(await timed(() => umapLayout(points, DIMS, { seed: 42 })));
    const ours = [...runs].sort((a, b) => a.seconds - b.seconds)[runs.length >> 1]!;
    const seconds =
      runs.length > 1
        ? `${ours.seconds.toFixed(1)} (median of ${runs.map((r) => r.seconds.toFixed(1)).join(', ')}; ${graph})`
        : `${ours.seconds.toFixed(1)} (${graph})`;
    const q = layoutQuality(points, DIMS, ours.value, 10, sampleFor(n));
    rows.push(`| ${n.toLocaleString('en-US')} | Latent Atlas | ${seconds} | ${q.trustworthiness.toFixed(3)} | ${q.recall.toFixed(3)} |`);
    if (n <= 10_000) {
      const data = Array.from({ length: n }, (_, i) => Array.from(points.subarray(i * DIMS, (i + 1) * DIMS)));
      const theirs = await timed(() => new UMAP({ nComponents: 2, nNeighbors: 15, random: createRng(42).next }).fit(data));
      const tq = layoutQuality(points, DIMS, Float32Array.from(theirs.value.flat()), 10, sampleFor(n));
      rows.push(
        `| ${n.toLocaleString('en-US')} | umap-js 1.4 | ${theirs.seconds.toFixed(1)} | ${tq.trustworthiness.toFixed(3)} | ${tq.recall.toFixed(3)} |`,
      );
    } else {
      rows.push(`| ${n.toLocaleString('en-US')} | umap-js 1.4 | not run (its neighbour search alone takes minutes here) | | |`);
    }
  }
  return [
    '## UMAP of the latent points',
    '',
    `${DIMS}-D latents (10 overlapping Gaussian clusters), 15 neighbours: the exact graph (k-d tree) up to ${EXACT_KNN_MAX.toLocaleString('en-US')} points, NN-descent above. Latent Atlas: 500 epochs up to 2k points, 200 above, a second`,
    'thread for the layout above ~5k points (each thread owns half the points; d^(2b) from a table and a polynomial); umap-js: its defaults',
    '(500 epochs up to 10k), one thread. Quality on 1,500 sampled points (300 at 100k) with exact ranks over all points: trustworthiness',
    '(1 = no false neighbours in the layout) and',
    "the share of each point's 10 nearest latent neighbours that are among its 10 nearest in the layout. Goals: 10k ≤ 2 s, 100k ≤ 20 s.",
    '',
    '| points | implementation | seconds | trustworthiness | 10-NN recall |',
    '| ---: | --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}
