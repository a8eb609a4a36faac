// Paths between two latent points: linear (lerp) and spherical (slerp). Slerp keeps the norm
// profile of Gaussian samples, so midpoints do not fall into the low-density centre of N(0, I).

export type InterpolationKind = 'lerp' | 'slerp';

export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  checkSameLength(a, b);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  checkSameLength(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  if (na === 0 || nb === 0) return lerp(a, b, t);
  const cos = Math.min(1, Math.max(-1, dot / (na * nb)));
  const omega = Math.acos(cos);
  const sin = Math.sin(omega);
  // Nearly parallel (or opposite) vectors: the great circle is undefined or unstable.
  if (sin < 1e-6) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sin;
  const wb = Math.sin(t * omega) / sin;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** `steps` latents from a to b inclusive, row-major steps × dims. */
export function interpolationLatents(a: ArrayLike<number>, b: ArrayLike<number>, steps: number, kind: InterpolationKind): Float32Array {
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`interpolation: steps must be an integer ≥ 2, got ${steps}`);
  const dims = a.length;
  const out = new Float32Array(steps * dims);
  const f = kind === 'lerp' ? lerp : slerp;
  for (let s = 0; s < steps; s++) out.set(f(a, b, s / (steps - 1)), s * dims);
  return out;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`interpolation: endpoints differ in size (${a.length} vs ${b.length})`);
}
