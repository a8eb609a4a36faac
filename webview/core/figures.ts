// Per-image figures the points can be coloured by (the encoding's ELBO terms and the posterior's
// spread), their colour range, the continuous ramp that stays readable on the theme's background,
// and the worst images by a figure. Pure: no DOM.

import { interpolateViridis } from 'd3-scale-chromatic';
import { formatNats } from './format';
import { parseColour } from './palette';
import type { PointData } from './pointSet';

export type Figure = 'negElbo' | 'reconstruction' | 'kl' | 'meanSigma';
/** 'folder': each shown folder its own colour (train beside test). */
export type ColourBy = 'label' | 'folder' | Figure;

export const FIGURES: readonly { key: Figure; name: string; unit: string }[] = [
  { key: 'negElbo', name: '−ELBO', unit: 'nats' },
  { key: 'reconstruction', name: 'Reconstruction', unit: 'nats' },
  { key: 'kl', name: 'KL', unit: 'nats' },
  { key: 'meanSigma', name: 'Mean σ', unit: '' },
];

/** How many ramp colours: colour index 0 is "no value", 1…RAMP_STEPS the ramp from low to high. */
export const RAMP_STEPS = 255;

/** One value per point, or null when the points do not carry this figure (or carry it for other points). */
export function figureValues(points: PointData | null, figure: Figure): Float32Array | null {
  if (!points) return null;
  const n = points.labels.length;
  const fits = (a: Float32Array | undefined): a is Float32Array => a !== undefined && a.length === n;
  if (figure === 'meanSigma') return fits(points.meanSigma) ? points.meanSigma : null;
  const terms = points.terms;
  if (!terms || !fits(terms.reconstruction) || !fits(terms.kl)) return null;
  if (figure === 'reconstruction') return terms.reconstruction;
  if (figure === 'kl') return terms.kl;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = terms.reconstruction[i] + terms.kl[i];
  return out;
}

/** The figures these points carry, in menu order. */
export function availableFigures(points: PointData | null): Figure[] {
  return FIGURES.map((f) => f.key).filter((k) => figureValues(points, k) !== null);
}

export interface ColourRange {
  lo: number;
  hi: number;
  /** Whether some values lie below lo / above hi (drawn in the end colours). */
  clippedLo: boolean;
  clippedHi: boolean;
}

/**
 * From the 1st to the 99th percentile of the finite values, so one outlier cannot turn every other
 * point the same colour (the tooltip and the worst list give exact figures). Null without values.
 */
export function colourRange(values: ArrayLike<number>): ColourRange | null {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) kept.push(values[i]);
  const finite = Float64Array.from(kept).sort();
  const n = finite.length;
  if (n === 0) return null;
  const at = (p: number) => {
    const h = (n - 1) * p;
    const i = Math.floor(h);
    return i + 1 < n ? finite[i] + (h - i) * (finite[i + 1] - finite[i]) : finite[i];
  };
  const lo = at(0.01);
  const hi = at(0.99);
  return { lo, hi, clippedLo: finite[0] < lo, clippedHi: finite[n - 1] > hi };
}

/** Colour index per point: 0 for a missing value, else 1…RAMP_STEPS by where it falls in the range. */
export function rampIndex(values: ArrayLike<number>, range: ColourRange | null): Uint8Array {
  const out = new Uint8Array(values.length);
  if (!range) return out;
  const span = range.hi - range.lo;
  for (let i = 0; i < out.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const t = span > 0 ? Math.min(1, Math.max(0, (v - range.lo) / span)) : 0.5;
    out[i] = 1 + Math.round(t * (RAMP_STEPS - 1));
  }
  return out;
}

/** WCAG relative luminance of an sRGB colour (0–255 channels). */
export function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: readonly number[], b: readonly number[]): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const viridis = (t: number) => parseColour(interpolateViridis(t))!;

/**
 * The stretch [t0, t1] of viridis (perceptually uniform, ordered by lightness) whose colours keep
 * 3:1 contrast with the background, the least WCAG asks of graphics: its dark end is cut on dark
 * themes, its light end on light ones. At least half the ramp is kept, whatever the background.
 */
export function rampSpan(background: readonly number[], minContrast = 3): [number, number] {
  const dark = luminance(background) < luminance(viridis(0.5));
  const ok = (t: number) => contrast(viridis(t), background) >= minContrast;
  if (dark) {
    let t0 = 0;
    while (t0 < 0.5 && !ok(t0)) t0 += 0.01;
    return [Math.min(0.5, t0), 1];
  }
  let t1 = 1;
  while (t1 > 0.5 && !ok(t1)) t1 -= 0.01;
  return [0, Math.max(0.5, t1)];
}

/** RAMP_STEPS colours from low to high over the span of viridis. */
export function rampColours([t0, t1]: [number, number]): [number, number, number][] {
  return Array.from({ length: RAMP_STEPS }, (_, i) => viridis(t0 + ((t1 - t0) * i) / (RAMP_STEPS - 1)));
}

/** Indices of the k points with the largest finite values, largest first (ties by point order). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (top.length === k && v <= values[top[k - 1]])) continue;
    let at = top.length;
    while (at > 0 && values[top[at - 1]] < v) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}

/** A point's figures in one line, e.g. "−ELBO 86.0 = rec. 80.0 + KL 6.00 nats · mean σ 0.12". */
export function describeFigures(points: PointData, i: number): string {
  const parts: string[] = [];
  const rec = figureValues(points, 'reconstruction');
  const kl = figureValues(points, 'kl');
  if (rec && kl && Number.isFinite(rec[i] + kl[i])) {
    parts.push(`−ELBO ${formatNats(rec[i] + kl[i])} = rec. ${formatNats(rec[i])} + KL ${formatNats(kl[i])} nats`);
  }
  const sigma = figureValues(points, 'meanSigma');
  if (sigma && Number.isFinite(sigma[i])) parts.push(`mean σ ${formatFigure(sigma[i])}`);
  return parts.join(' · ');
}

/** A figure for the colour bar and lists: nats as the ELBO panel shows them, σ with 3 significant digits. */
export function formatFigure(v: number, figure: Figure = 'meanSigma'): string {
  if (figure !== 'meanSigma') return formatNats(v);
  return Number.isFinite(v) ? v.toPrecision(3) : '–';
}
