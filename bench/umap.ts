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
    const ours = await timed(() => umapLayout(points, DIMS, { seed: 42 }));
    const q = layoutQuality(points, DIMS, ours.value);
    rows.push(
      `| ${n.toLocaleString('en-US')} | Latent Atlas | ${ours.seconds.toFixed(1)} (${graph}) | ${q.trustworthiness.toFixed(3)} | ${q.recall.toFixed(3)} |`,
    );
    if (n <= 10_000) {
      const data = Array.from({ length: n }, (_, i) => Array.from(points.subarray(i * DIMS, (i + 1) * DIMS)));
      const theirs = await timed(() => new UMAP({ nComponents: 2, nNeighbors: 15, random: createRng(42).next }).fit(data));
      const tq = layoutQuality(points, DIMS, Float32Array.from(theirs.value.flat()));
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
    'thread for the layout above ~5k points; umap-js: its defaults (500 epochs up to 10k), one thread.',
    'Quality on 300 sampled points with exact ranks over all points: trustworthiness (1 = no false neighbours in the layout) and',
    "the share of each point's 10 nearest latent neighbours that are among its 10 nearest in the layout. Goals: 10k ≤ 2 s, 100k ≤ 20 s.",
    '',
    '| points | implementation | seconds | trustworthiness | 10-NN recall |',
    '| ---: | --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}
