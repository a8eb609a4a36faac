// What the Images tab shows, kept in the webview state so that it is drawn again when the page is
// rebuilt (VS Code discards a hidden webview): pixels as base64 (the state is JSON), the latents
// a shown strip or sample set came from (to save it later), and the file a reconstruction is of.

import type { ImageBatch } from '../../src/protocol/engine';
import type { ElboTerms } from '../../src/protocol/model';

export interface StoredBatch {
  count: number;
  width: number;
  height: number;
  channels: 1 | 3;
  /** The raw pixels, base64. */
  pixels: string;
}

/** Latents (row-major) and the conditioning label a batch was decoded from. */
export interface DecodedFrom {
  latents: number[];
  label?: number;
}

export interface ShownImages {
  strip: (DecodedFrom & { steps: number; images: StoredBatch }) | null;
  samples: (DecodedFrom & { images: StoredBatch }) | null;
  reconstruction: { folder: string; name: string; original: StoredBatch; reconstruction: StoredBatch; terms: ElboTerms | null } | null;
  /**
   * A decoded grid; `save` (absent in states saved before grids could be saved) is what a save
   * writes: the latents, the kind's file stem and a name per row (a traversal's dimensions).
   */
  grid: { title: string; cols: number; images: StoredBatch; save?: GridSave } | null;
}

/** What saving a shown grid writes: its latents and label, the file stem, and one name per row. */
export interface GridSave extends DecodedFrom {
  baseName: 'traversal' | 'manifold';
  rows: string[];
}

export const NO_IMAGES: ShownImages = { strip: null, samples: null, reconstruction: null, grid: null };

export function storeBatch(batch: ImageBatch): StoredBatch {
  return { count: batch.count, width: batch.width, height: batch.height, channels: batch.channels, pixels: toBase64(batch.pixels) };
}

/** The batch back; null when the stored one is damaged (wrong size, not base64). */
export function loadBatch(stored: StoredBatch): ImageBatch | null {
  const pixels = fromBase64(stored.pixels);
  if (!pixels || pixels.length !== stored.count * stored.width * stored.height * stored.channels) return null;
  return { count: stored.count, width: stored.width, height: stored.height, channels: stored.channels, pixels };
}

export function toBase64(bytes: Uint8Array): string {
  let text = '';
  // fromCharCode takes its arguments on the stack: a chunk at a time.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array | null {
  try {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------------
// Restoring: anything damaged is dropped, part by part.

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function restoreBatch(v: unknown): StoredBatch | null {
  if (!isObject(v) || typeof v.pixels !== 'string') return null;
  if (!positiveInt(v.count) || !positiveInt(v.width) || !positiveInt(v.height) || (v.channels !== 1 && v.channels !== 3)) return null;
  const stored: StoredBatch = { count: v.count, width: v.width, height: v.height, channels: v.channels, pixels: v.pixels };
  return loadBatch(stored) ? stored : null;
}

function restoreDecodedFrom(v: Raw): DecodedFrom | null {
  if (!Array.isArray(v.latents) || v.latents.length === 0 || !v.latents.every(finite)) return null;
  const label = Number.isInteger(v.label) && (v.label as number) >= 0 ? (v.label as number) : undefined;
  return { latents: [...(v.latents as number[])], ...(label === undefined ? {} : { label }) };
}

function restoreTerms(v: unknown): ElboTerms | null {
  if (!isObject(v) || !finite(v.reconstruction) || !finite(v.kl) || !finite(v.elbo) || !finite(v.bitsPerDim)) return null;
  return { reconstruction: v.reconstruction, kl: v.kl, elbo: v.elbo, bitsPerDim: v.bitsPerDim };
}

export function restoreShownImages(raw: unknown): ShownImages {
  const out: ShownImages = { ...NO_IMAGES };
  if (!isObject(raw)) return out;
  const { strip, samples, reconstruction: recon, grid } = raw;
  if (isObject(strip) && positiveInt(strip.steps)) {
    const from = restoreDecodedFrom(strip);
    const images = restoreBatch(strip.images);
    if (from && images && images.count === 2 * strip.steps) out.strip = { ...from, steps: strip.steps, images };
  }
  if (isObject(samples)) {
    const from = restoreDecodedFrom(samples);
    const images = restoreBatch(samples.images);
    if (from && images) out.samples = { ...from, images };
  }
  if (isObject(recon) && typeof recon.folder === 'string' && typeof recon.name === 'string') {
    const original = restoreBatch(recon.original);
    const reconstruction = restoreBatch(recon.reconstruction);
    if (original && reconstruction) {
      out.reconstruction = { folder: recon.folder, name: recon.name, original, reconstruction, terms: restoreTerms(recon.terms) };
    }
  }
  if (isObject(grid) && typeof grid.title === 'string' && positiveInt(grid.cols)) {
    const images = restoreBatch(grid.images);
    if (images) out.grid = { title: grid.title, cols: grid.cols, images };
  }
  return out;
}
