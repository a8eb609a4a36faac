// Nearest-neighbour queries in the latent space (src/engine/neighbours.ts): the time of one query
// over 100k and 1M encoded points, Euclidean and Bhattacharyya, against the plain way (every
// distance, then a full sort). The points are synthetic (uniform means, spread log-variances):
// the search cost does not depend on where the points are.
import { nearest } from '../src/engine/neighbours';
import { createRng } from '../src/engine/rng';

const QUERIES = 15;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fullSort(mu: Float32Array, dims: number, q: Float32Array, k: number): number[] {
  const count = mu.length / dims;
  const d = new Float64Array(count);
  for (let p = 0; p < count; p++) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += (mu[p * dims + j]! - q[j]!) ** 2;
    d[p] = s;
  }
  return Array.from(d.keys())
    .sort((a, b) => d[a]! - d[b]!)
    .slice(0, k);
}

export async function run(): Promise<string> {
  const rows: string[] = [];
  const dims = 8;
  for (const count of [100_000, 1_000_000]) {
    const rng = createRng(count);
    const mu = Float32Array.from({ length: count * dims }, () => rng.next() * 6 - 3);
    const logVar = Float32Array.from({ length: count * dims }, () => rng.next() * 4 - 3);
    const variance = logVar.map(Math.exp);
    const points = { dims, mu, logVar, variance };
    for (const metric of ['euclidean', 'bhattacharyya'] as const) {
      const times: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const p = Math.floor(rng.next() * count);
        const query = { mu: mu.subarray(p * dims, (p + 1) * dims), logVar: logVar.subarray(p * dims, (p + 1) * dims) };
        const t0 = performance.now();
        nearest(points, query, 10, metric, p);
        times.push(performance.now() - t0);
      }
      rows.push(
        `| ${count.toLocaleString('en-US')} | ${metric} | bounded heap (the engine) | ${median(times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`,
      );
    }
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = Math.floor(rng.next() * count);
      const t0 = performance.now();
      fullSort(mu, dims, mu.subarray(p * dims, (p + 1) * dims), 10);
      times.push(performance.now() - t0);
    }
    rows.push(
      `| ${count.toLocaleString('en-US')} | euclidean | every distance, then a full sort | ${median(times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`,
    );
  }
  return [
    '## Nearest neighbours in the latent space',
    '',
    `k = 10, ${dims}-D latents, ${QUERIES} queries per row (each an encoded point, left out of its own result); exact search, one thread.`,
    'The engine keeps exp(log σ²) of an encoding between queries, as the worker does. Goal: < 100 ms at 1M points.',
    '',
    '| points | distance | search | median ms | max ms |',
    '| ---: | --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n');
}
