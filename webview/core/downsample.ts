// Thinning long training series for drawing: thousands of steps become at most ~2 points per
// pixel column, and the minimum and maximum of each bucket survive so spikes stay visible.

/** Indices into a series of `length` to draw, at most about `maxPoints`, always first and last. */
export function minMaxIndices(values: ArrayLike<number>, maxPoints: number): number[] {
  const n = values.length;
  if (n <= maxPoints || maxPoints < 4) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor((maxPoints - 2) / 2);
  const out: number[] = [0];
  const span = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor(b * span);
    const end = Math.min(n - 1, 1 + Math.floor((b + 1) * span));
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (values[i] < values[lo]) lo = i;
      if (values[i] > values[hi]) hi = i;
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(n - 1);
  return out;
}
