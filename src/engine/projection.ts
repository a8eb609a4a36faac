// 2-D projections of latent points for the scatter: PCA (exact, plain TypeScript, with the
// fraction of variance each axis explains) and UMAP (umap-js, seeded).

import { UMAP } from 'umap-js';
import type { ProjectResult } from '../protocol/engine';
import { EngineError } from '../protocol/errors';
import { createRng } from './rng';

/** UMAP's neighbour search is quadratic-ish in umap-js; beyond this it takes minutes. */
export const UMAP_MAX_POINTS = 20_000;

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (small d: latent sizes). */
export function symmetricEigen(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * d + q]! - m[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p]!;
          const mkq = m[k * d + q]!;
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k]!;
          const mqk = m[q * d + k]!;
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i]!;
  // vectors: column i of v is the eigenvector of values[i]
  return { values, vectors: v };
}

/** Projects count × dims points onto their two principal axes (centred, signs made deterministic). */
export function pca(points: Float32Array, dims: number): ProjectResult {
  const n = points.length / dims;
  const coords = new Float32Array(n * 2);
  if (n === 0) return { coords, explained: [0, 0] };
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j]! += points[i * dims + j]!;
  for (let j = 0; j < dims; j++) mean[j]! /= n;
  const cov = new Float64Array(dims * dims);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dims; a++) {
      const xa = points[i * dims + a]! - mean[a]!;
      for (let b = a; b < dims; b++) cov[a * dims + b]! += xa * (points[i * dims + b]! - mean[b]!);
    }
  }
  for (let a = 0; a < dims; a++) {
    for (let b = a; b < dims; b++) {
      cov[a * dims + b]! /= Math.max(1, n - 1);
      cov[b * dims + a] = cov[a * dims + b]!;
    }
  }
  const { values, vectors } = symmetricEigen(cov, dims);
  const order = [...values.keys()].sort((x, y) => values[y]! - values[x]!);
  const total = values.reduce((s, x) => s + Math.max(0, x), 0);
  const axes: Float64Array[] = [];
  for (const idx of order.slice(0, 2)) {
    const axis = new Float64Array(dims);
    let largest = 0;
    for (let k = 0; k < dims; k++) {
      axis[k] = vectors[k * dims + idx]!;
      if (Math.abs(axis[k]!) > Math.abs(largest)) largest = axis[k]!;
    }
    if (largest < 0) for (let k = 0; k < dims; k++) axis[k] = -axis[k]!;
    axes.push(axis);
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < axes.length; c++) {
      let s = 0;
      for (let k = 0; k < dims; k++) s += (points[i * dims + k]! - mean[k]!) * axes[c]![k]!;
      coords[i * 2 + c] = s;
    }
  }
  const frac = (i: number) => (total > 0 && order[i] !== undefined ? Math.max(0, values[order[i]!]!) / total : 0);
  return { coords, explained: [frac(0), frac(1)] };
}

export async function umap(points: Float32Array, dims: number, seed = 42, signal?: AbortSignal): Promise<ProjectResult> {
  const n = points.length / dims;
  if (n > UMAP_MAX_POINTS) {
    throw new EngineError(
      'bad-request',
      `UMAP is limited to ${UMAP_MAX_POINTS} points here and ${n} were given; use PCA or pick two latent dimensions as axes.`,
    );
  }
  const coords = new Float32Array(n * 2);
  if (n < 3) return pca(points, dims);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(points.subarray(i * dims, (i + 1) * dims)));
  const layout = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), random: createRng(seed).next });
  // fitAsync yields between epochs, so the worker keeps answering (and can be cancelled).
  const embedding = await layout.fitAsync(rows, () => !signal?.aborted);
  if (signal?.aborted) throw new EngineError('cancelled', 'The projection was cancelled.');
  embedding.forEach((p, i) => {
    coords[i * 2] = p[0] ?? 0;
    coords[i * 2 + 1] = p[1] ?? 0;
  });
  return { coords };
}

export async function project(
  points: Float32Array,
  dims: number,
  method: 'pca' | 'umap',
  seed?: number,
  signal?: AbortSignal,
): Promise<ProjectResult> {
  if (!Number.isInteger(dims) || dims < 1 || points.length % dims !== 0) {
    throw new EngineError('bad-request', `Cannot project ${points.length} values as points of ${dims} dimensions.`);
  }
  return method === 'umap' ? umap(points, dims, seed, signal) : pca(points, dims);
}
