// Principal component analysis of count × dims points to two axes, for latents above 2-D.
// Fast for 100k × small d: one pass for the covariance, then a Jacobi eigen-solve on d × d.

export interface Pca2 {
  /** count × 2 projected coordinates. */
  coords: Float32Array;
  /** Fraction of the total variance each axis explains. */
  explained: [number, number];
  mean: Float64Array;
  /** The two unit principal directions, each of length dims. */
  axes: [Float64Array, Float64Array];
}

export function pca2(points: Float32Array, count: number, dims: number): Pca2 {
  if (points.length !== count * dims) {
    throw new Error(`pca2: expected ${count}×${dims} = ${count * dims} values, got ${points.length}`);
  }
  const mean = new Float64Array(dims);
  for (let i = 0; i < count; i++) for (let j = 0; j < dims; j++) mean[j] += points[i * dims + j];
  for (let j = 0; j < dims; j++) mean[j] /= Math.max(count, 1);
  const cov = new Float64Array(dims * dims);
  const row = new Float64Array(dims);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dims; j++) row[j] = points[i * dims + j] - mean[j];
    for (let a = 0; a < dims; a++) {
      const ra = row[a];
      for (let b = a; b < dims; b++) cov[a * dims + b] += ra * row[b];
    }
  }
  const denom = Math.max(count - 1, 1);
  for (let a = 0; a < dims; a++) {
    for (let b = a; b < dims; b++) {
      cov[a * dims + b] /= denom;
      cov[b * dims + a] = cov[a * dims + b];
    }
  }
  const { values, vectors } = symmetricEigen(cov, dims);
  const order = Array.from(values.keys()).sort((p, q) => values[q] - values[p]);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const axes = [0, 1].map((k) => {
    const axis = new Float64Array(dims);
    const col = order[Math.min(k, dims - 1)];
    for (let j = 0; j < dims; j++) axis[j] = vectors[j * dims + col];
    // A fixed sign (largest component positive) keeps the picture stable between runs.
    let big = 0;
    for (let j = 0; j < dims; j++) if (Math.abs(axis[j]) > Math.abs(axis[big])) big = j;
    if (axis[big] < 0) for (let j = 0; j < dims; j++) axis[j] = -axis[j];
    return axis;
  }) as [Float64Array, Float64Array];
  const coords = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    let x = 0;
    let y = 0;
    for (let j = 0; j < dims; j++) {
      const v = points[i * dims + j] - mean[j];
      x += v * axes[0][j];
      y += v * axes[1][j];
    }
    coords[i * 2] = x;
    coords[i * 2 + 1] = y;
  }
  const share = (k: number) => (total > 0 && dims > k ? Math.max(values[order[k]], 0) / total : 0);
  return { coords, explained: [share(0), share(1)], mean, axes };
}

/** The latent point that projects to (x, y) and lies in the plane of the two axes. */
export function pcaInverse(pca: Pca2, x: number, y: number): Float32Array {
  const z = new Float32Array(pca.mean.length);
  for (let j = 0; j < z.length; j++) z[j] = pca.mean[j] + x * pca.axes[0][j] + y * pca.axes[1][j];
  return z;
}

/** Cyclic Jacobi rotations; exact enough and simple for the small matrices of latent spaces. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = Array.from({ length: n }, (_, i) => a[i * n + i]);
  return { values, vectors: v };
}
