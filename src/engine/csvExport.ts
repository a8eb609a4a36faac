// An encoding as CSV, one row per image: where it is, its label, its posterior (μ, log σ²) and its
// ELBO terms — for pandas, a spreadsheet or any tool that reads a table.

import type { StoredEncoding } from './runStore/encodings';

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : '');

/** The header and one line per point, each ending in \n. */
export function encodingCsv(enc: StoredEncoding): string {
  const d = enc.dims;
  const header = [
    'file',
    'folder',
    'label',
    ...Array.from({ length: d }, (_, i) => `z${i + 1}`),
    ...Array.from({ length: d }, (_, i) => `logvar${i + 1}`),
    'reconstruction',
    'kl',
    'elbo',
    'mean_sigma',
  ];
  const lines = [header.join(',')];
  enc.files.forEach((f, p) => {
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
        ...mu,
        ...Array.from(lv, num),
        num(rec),
        num(kl),
        num(-rec - kl),
        num(sigma / d),
      ].join(','),
    );
  });
  return lines.join('\n') + '\n';
}
