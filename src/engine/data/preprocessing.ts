// Preprocessing defaults chosen from the data, and checks on preprocessing a caller gives.
import type { Preprocessing } from '../../protocol/model';
import { probeImage, type ImageProbe } from './decode';
import { EngineError } from '../../protocol/errors';

/** Images larger than this are brought down to it by default (small models train in minutes). */
export const DEFAULT_MAX_SIDE = 64;
const SAMPLE_SIZE = 200;
const FITS = new Set(['cover', 'contain', 'fill']);

export function validatePreprocessing(pre: Preprocessing): Preprocessing {
  const side = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1 || v > 1024) {
      throw new EngineError('bad-request', `Preprocessing ${name} must be a whole number of pixels from 1 to 1024, not ${v}.`);
    }
  };
  side(pre.width, 'width');
  side(pre.height, 'height');
  if (pre.channels !== 1 && pre.channels !== 3) {
    throw new EngineError('bad-request', `Preprocessing channels must be 1 (grey) or 3 (colour), not ${String(pre.channels)}.`);
  }
  if (!FITS.has(pre.fit)) throw new EngineError('bad-request', `Preprocessing fit must be cover, contain or fill, not ${String(pre.fit)}.`);
  return { width: pre.width, height: pre.height, channels: pre.channels, fit: pre.fit };
}

/** Up to `n` items spread evenly over the list (a folder sorted by label is sampled across labels). */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

/** The files choosePreprocessing looks at, out of a folder's sorted list: its choice depends on these alone. */
export function probeSample<T>(items: T[]): T[] {
  return spread(items, SAMPLE_SIZE);
}

async function probeAll(paths: string[], concurrency: number): Promise<ImageProbe[]> {
  const out: (ImageProbe | null)[] = new Array(paths.length).fill(null);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, paths.length) }, async () => {
      while (next < paths.length) {
        const i = next++;
        out[i] = await probeImage(paths[i]);
      }
    }),
  );
  return out.filter((p): p is ImageProbe => p !== null);
}

/**
 * Fills the missing fields: width/height = the most common size among up to 200 sampled images
 * when it is at most 64×64, else 64×64; channels = 1 when every sampled image is grey, else 3;
 * fit = 'cover'.
 */
export async function choosePreprocessing(paths: string[], given: Partial<Preprocessing> = {}, concurrency = 2): Promise<Preprocessing> {
  const needSize = given.width === undefined && given.height === undefined;
  const needChannels = given.channels === undefined;
  const probes = needSize || needChannels ? await probeAll(spread(paths, SAMPLE_SIZE), concurrency) : [];

  let width = given.width ?? given.height;
  let height = given.height ?? given.width;
  if (needSize) {
    const counts = new Map<string, { w: number; h: number; n: number }>();
    for (const p of probes) {
      const key = `${p.width}x${p.height}`;
      const c = counts.get(key) ?? { w: p.width, h: p.height, n: 0 };
      c.n++;
      counts.set(key, c);
    }
    let best: { w: number; h: number; n: number } | undefined;
    for (const c of counts.values()) if (!best || c.n > best.n) best = c;
    const small = best && best.w <= DEFAULT_MAX_SIDE && best.h <= DEFAULT_MAX_SIDE;
    width = small ? best!.w : DEFAULT_MAX_SIDE;
    height = small ? best!.h : DEFAULT_MAX_SIDE;
  }
  const channels = given.channels ?? (probes.length > 0 && probes.every((p) => p.grey) ? 1 : 3);
  return validatePreprocessing({ width: width!, height: height!, channels, fit: given.fit ?? 'cover' });
}
