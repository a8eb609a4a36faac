// Figures as people read them in the ELBO panel.

// One rule for nats in the panel, the status bar and the notifications.
export { formatNats } from '../../src/protocol/trainingFigures';

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
