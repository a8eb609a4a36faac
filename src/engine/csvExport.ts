// Encodings as CSV, one row per image: where it is, its label, where the explorer drew it (when a
// selection is exported from the map), its posterior (μ, log σ²) and its ELBO terms — for pandas,
// a spreadsheet or any tool that reads a table.

import { relative, sep } from 'node:path';
import type { StoredEncoding } from './runStore/encodings';

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : '');

/** Rows of one encoding: every image, or the named ones (paths relative to the folder, '/'-separated) in that order. */
export interface CsvPart {
  encoding: StoredEncoding;
  names?: readonly string[];
  /** Two map coordinates per row of this part (its named images, or every image), in the same order. */
  coords?: Float32Array;
}

/** Point indices of a part's rows, in order. */
export function rowsOf(part: CsvPart): number[] {
  return part.names ? indicesOf(part.encoding, part.names) : part.encoding.files.map((_, p) => p);
}

/** Point indices of `names` in the encoding; throws naming the first name it does not hold. */
function indicesOf(enc: StoredEncoding, names: readonly string[]): number[] {
  const index = new Map<string, number>();
  enc.files.forEach((f, p) => index.set(relative(enc.folder, f.path).split(sep).join('/'), p));
  return names.map((n) => {
    const p = index.get(n);
    if (p === undefined) throw new Error(`${n} is not in the encoding of ${enc.folder}: encode the folder again and export again.`);
    return p;
  });
}

/**
 * The header and one line per point, each ending in \n. Columns: file, folder, label, then map_x and
 * map_y when every part carries map coordinates, then z1…zd, logvar1…logvard, reconstruction, kl,
 * elbo (nats) and mean_sigma. Every part must have the same latent size (one model).
 */
export function encodingsCsv(parts: readonly CsvPart[]): string {
  const d = parts[0]?.encoding.dims ?? 0;
  for (const part of parts)
    if (part.encoding.dims !== d)
      throw new Error(`${part.encoding.folder} has ${part.encoding.dims} latent dimensions, not ${d}: one model per table.`);
  const rows = parts.map(rowsOf);
  const withMap = parts.length > 0 && parts.every((p, k) => p.coords?.length === rows[k]!.length * 2);
  const header = [
    'file',
    'folder',
    'label',
    ...(withMap ? ['map_x', 'map_y'] : []),
    ...Array.from({ length: d }, (_, i) => `z${i + 1}`),
    ...Array.from({ length: d }, (_, i) => `logvar${i + 1}`),
    'reconstruction',
    'kl',
    'elbo',
    'mean_sigma',
  ];
  const lines = [header.join(',')];
  parts.forEach(({ encoding: enc, coords }, k) => {
    rows[k]!.forEach((p, row) => {
      const f = enc.files[p]!;
      const mu = Array.from(enc.mu.subarray(p * d, (p + 1) * d), num);
      const lv = enc.logVar.subarray(p * d, (p + 1) * d);
      let sigma = 0;
      for (const v of lv) sigma += Math.exp(0.5 * v);
      const rec = enc.terms ? enc.terms.reconstruction[p]! : Number.NaN;
      const kl = enc.terms ? enc.terms.kl[p]! : Number.NaN;
      lines.push(
        [
          csvField(f.path),
          csvField(enc.folder),
          csvField(f.label >= 0 ? enc.labelNames[f.label]! : ''),
          ...(withMap ? [num(coords![2 * row]!), num(coords![2 * row + 1]!)] : []),
          ...mu,
          ...Array.from(lv, num),
          num(rec),
          num(kl),
          num(-rec - kl),
          num(sigma / d),
        ].join(','),
      );
    });
  });
  return lines.join('\n') + '\n';
}
