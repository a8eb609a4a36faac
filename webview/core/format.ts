// Figures as people read them in the ELBO panel.

export function formatNats(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toFixed(2);
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function formatRate(imagesPerSecond: number | null | undefined): string {
  if (imagesPerSecond === null || imagesPerSecond === undefined || !Number.isFinite(imagesPerSecond)) return '–';
  return imagesPerSecond >= 100 ? `${Math.round(imagesPerSecond)}` : imagesPerSecond.toFixed(1);
}

/** Active units by the usual criterion on KL per dimension (nats), when the engine gives none. */
export function countActive(klPerDim: readonly number[], threshold = 0.01): number {
  return klPerDim.filter((v) => v > threshold).length;
}
