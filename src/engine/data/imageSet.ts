// A saved set of decoded images that belong together (an interpolation's lerp and slerp strips, a
// batch of samples): one number per set, each row named, and optionally one sheet image of the
// whole set, a row per method. Nothing is ever overwritten.

import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageBatch } from '../../protocol/engine';
import { writeNewFileAtomic } from '../runStore/fs';
import { encodePng } from './png';

/** Pixels between the images of a sheet, and their value (white sets dark images apart). */
const GAP = 2;
const GAP_VALUE = 255;

/** The images of `batch` laid out in `rows` equal rows (row-major order), as one image. */
export function composeSheet(batch: ImageBatch, rows: number): ImageBatch {
  const { width: w, height: h, channels: c } = batch;
  if (!Number.isInteger(rows) || rows < 1 || batch.count % rows !== 0) {
    throw new Error(`composeSheet: ${batch.count} images do not make ${rows} equal rows.`);
  }
  const cols = batch.count / rows;
  const width = cols * w + (cols - 1) * GAP;
  const height = rows * h + (rows - 1) * GAP;
  const pixels = new Uint8Array(width * height * c).fill(GAP_VALUE);
  const image = w * h * c;
  for (let i = 0; i < batch.count; i++) {
    const x0 = (i % cols) * (w + GAP);
    const y0 = Math.floor(i / cols) * (h + GAP);
    for (let y = 0; y < h; y++) {
      const from = i * image + y * w * c;
      pixels.set(batch.pixels.subarray(from, from + w * c), ((y0 + y) * width + x0) * c);
    }
  }
  return { count: 1, width, height, channels: c, pixels };
}

export interface ImageSetOptions {
  /** Names of the equal rows the images form, in order; without them, one unnamed row. */
  rows?: string[];
  /** Also write the whole set as one image. */
  sheet?: boolean;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Writes the batch as set number k, the first free one: `<stem>-00k.png` (the sheet) and
 * `<stem>-00k-<row>-01.png`, … (`<stem>-00k-01.png` without row names). A set number is taken by
 * any file already named after it; the set's first file claims it, so two writers never share one.
 */
export async function writeImageSet(
  batch: ImageBatch,
  dir: string,
  stem: string,
  opts: ImageSetOptions = {},
): Promise<{ files: string[]; sheet?: string }> {
  const rows = opts.rows?.length ? opts.rows : null;
  const rowCount = rows?.length ?? 1;
  if (batch.count === 0 || batch.count % rowCount !== 0) {
    throw new Error(`${batch.count} images do not make ${rowCount} equal rows (${rows?.join(', ')}).`);
  }
  const perRow = batch.count / rowCount;
  const digits = Math.max(2, String(perRow).length);
  const bytes = batch.width * batch.height * batch.channels;
  const members: Buffer[] = [];
  for (let i = 0; i < batch.count; i++) {
    members.push(await encodePng(batch.pixels.subarray(i * bytes, (i + 1) * bytes), batch.width, batch.height, batch.channels));
  }
  const sheet = opts.sheet ? composeSheet(batch, rowCount) : null;
  const sheetPng = sheet ? await encodePng(sheet.pixels, sheet.width, sheet.height, sheet.channels) : null;
  const absDir = resolve(dir);
  await fs.mkdir(absDir, { recursive: true });
  const existing = new Set(await fs.readdir(absDir));
  const taken = (prefix: string) => [...existing].some((f) => f === `${prefix}.png` || f.startsWith(`${prefix}-`));
  for (let set = 1; ; set++) {
    const prefix = `${stem}-${pad(set, 3)}`;
    if (taken(prefix)) continue;
    const names = members.map((_, i) => {
      const index = pad((i % perRow) + 1, digits);
      return rows ? `${prefix}-${rows[Math.floor(i / perRow)]}-${index}.png` : `${prefix}-${index}.png`;
    });
    const writes: [string, Buffer][] = names.map((n, i) => [join(absDir, n), members[i]!]);
    if (sheetPng) writes.unshift([join(absDir, `${prefix}.png`), sheetPng]);
    try {
      await writeNewFileAtomic(writes[0]![0], writes[0]![1]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      existing.add(`${prefix}.png`);
      continue; // another writer claimed this number first
    }
    for (const [path, png] of writes.slice(1)) await writeNewFileAtomic(path, png);
    return sheetPng ? { files: writes.slice(1).map(([p]) => p), sheet: writes[0]![0] } : { files: writes.map(([p]) => p) };
  }
}
