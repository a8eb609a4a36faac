// Requests over a run's encodings: neighbours (the k encoded images nearest to an image in the
// model's full latent space) and exportCsv (an encoding as a table). Encodings read for a query stay in memory (with their
// variances) until their file changes, so the next query over a large folder is only the search.

import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CsvMap, NeighbourResult } from '../../protocol/engine';
import { pca2 } from '../../protocol/pca';
import { umap } from '../projection';
import { EngineError } from '../../protocol/errors';
import { loadFiles } from '../data';
import { nearest } from '../neighbours';
import { withRun } from '../runStore/cache';
import { ENCODINGS_DIR, encodingSlug, listEncodings, readEncoding, type StoredEncoding } from '../runStore/encodings';
import { badRequest, writingTo, type Handler } from './context';
import { encodingsCsv, rowsOf, type CsvPart } from '../csvExport';
import { writeFileAtomic } from '../runStore/fs';

interface Held {
  stamp: string;
  encoding: StoredEncoding;
  variance: Float32Array;
}

/** Encodings kept for queries, by their .json path; a few folders at most. */
const held = new Map<string, Held>();
const HELD_MAX = 8;

async function heldEncoding(runDir: string, folder: string): Promise<Held | null> {
  const json = join(runDir, ENCODINGS_DIR, `${encodingSlug(folder)}.json`);
  const stat = await fs.stat(json).catch(() => null);
  if (!stat) return null;
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = held.get(json);
  if (known?.stamp === stamp) return known;
  const encoding = await readEncoding(runDir, folder);
  if (!encoding) return null;
  const entry = { stamp, encoding, variance: encoding.logVar.map(Math.exp) };
  held.delete(json);
  held.set(json, entry);
  while (held.size > HELD_MAX) held.delete(held.keys().next().value!);
  return entry;
}

export const handleNeighbours: Handler<'neighbours'> = (req) =>
  withRun(req.runDir, async ({ runDir, manifest, codec }) => {
    if (!Number.isInteger(req.k) || req.k < 1 || req.k > 1000) throw badRequest(`neighbours: k must be from 1 to 1000, got ${req.k}.`);
    const folders = (req.folders ?? (await listEncodings(runDir))).map((f) => resolve(f));
    const encodings: Held[] = [];
    for (const folder of folders) {
      const e = await heldEncoding(runDir, folder);
      // Points of another checkpoint are not in this model's latent space.
      if (e && e.encoding.checkpoint === (manifest.checkpoint ?? '')) encodings.push(e);
    }
    if (encodings.length === 0) {
      throw new EngineError('bad-request', `"${manifest.name}" has no up-to-date encoding to search: encode a folder with it first.`);
    }
    const file = resolve(req.file);
    const dims = codec.latentSize;
    // The query: the file's stored point when it is encoded, else encoded now.
    let query: { mu: Float32Array; logVar: Float32Array } | null = null;
    let inEncoding = false;
    for (const e of encodings) {
      const i = e.encoding.files.findIndex((f) => f.path === file);
      if (i >= 0) {
        query = { mu: e.encoding.mu.slice(i * dims, (i + 1) * dims), logVar: e.encoding.logVar.slice(i * dims, (i + 1) * dims) };
        inEncoding = true;
        break;
      }
    }
    if (!query) {
      const loaded = await loadFiles([file], manifest.preprocessing, { labelNames: manifest.labels });
      if (loaded.count === 0) throw new EngineError('bad-request', `Cannot read ${file}: ${loaded.skipped[0]?.reason ?? 'not an image'}.`);
      query = await codec.encode(loaded.images, 1, loaded.labels);
    }
    if (req.metric === 'bhattacharyya' && query.logVar.some(Number.isNaN)) {
      throw badRequest(`"${manifest.name}" gives no posterior spread (log σ²), so only the euclidean distance applies.`);
    }
    const found: NeighbourResult['neighbours'] = [];
    for (const e of encodings) {
      const enc = e.encoding;
      const self = enc.files.findIndex((f) => f.path === file);
      const r = nearest({ dims, mu: enc.mu, logVar: enc.logVar, variance: e.variance }, query, req.k, req.metric, self);
      r.index.forEach((i, j) => {
        const f = enc.files[i]!;
        found.push({ file: f.path, folder: enc.folder, label: f.label >= 0 ? enc.labelNames[f.label]! : null, distance: r.distance[j]! });
      });
    }
    found.sort((a, b) => a.distance - b.distance);
    return { file, inEncoding, mu: query.mu, neighbours: found.slice(0, req.k) };
  });

export const handleExportCsv: Handler<'exportCsv'> = async (req, { signal }) => {
  const runDir = resolve(req.runDir);
  if (req.parts.length === 0) throw badRequest('exportCsv: no folders to export.');
  const parts: CsvPart[] = [];
  for (const part of req.parts) {
    const folder = resolve(part.folder);
    const encoding = await readEncoding(runDir, folder);
    if (!encoding) throw new EngineError('bad-request', `${runDir} has no encoding of ${folder}: encode the folder with this model first.`);
    if (part.coords && (!part.names || part.coords.length !== part.names.length * 2))
      throw badRequest(`exportCsv: ${folder}: two coordinates per named image are needed.`);
    parts.push({ encoding, ...(part.names ? { names: part.names } : {}), ...(part.coords ? { coords: part.coords } : {}) });
  }
  let map: { kind: CsvMap; explained?: [number, number] } | undefined;
  let table: string;
  try {
    if (req.map && !parts.some((p) => p.coords)) map = await mapColumns(parts, req.map, signal);
    table = encodingsCsv(parts);
  } catch (e) {
    // A name the encoding does not hold or latents of two sizes; a cancelled layout stays cancelled.
    throw e instanceof EngineError ? e : badRequest((e as Error).message);
  }
  const path = resolve(req.path);
  await writingTo(
    path,
    () => 'export again',
    async () => {
      await fs.mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, table);
    },
  );
  return { path, rows: parts.reduce((n, p) => n + (p.names?.length ?? p.encoding.files.length), 0), ...(map ? { map } : {}) };
};

/**
 * Gives every part map coordinates computed over all rows of the table together (the explorer's
 * maps of the same points, when it shows these folders): the first two latent coordinates (always,
 * for a latent of 2-D or less), the rows' two principal axes, or a UMAP layout of their posterior means.
 */
async function mapColumns(parts: CsvPart[], kind: CsvMap, signal: AbortSignal): Promise<{ kind: CsvMap; explained?: [number, number] }> {
  const d = parts[0]!.encoding.dims;
  const rows = parts.map(rowsOf);
  const count = rows.reduce((n, r) => n + r.length, 0);
  const mu = new Float32Array(count * d);
  let at = 0;
  parts.forEach((part, k) => {
    for (const p of rows[k]!) mu.set(part.encoding.mu.subarray(p * d, (p + 1) * d), d * at++);
  });
  let coords: Float32Array;
  let explained: [number, number] | undefined;
  if (kind === 'latent' || d <= 2) {
    // A 2-D latent is its own map, as in the explorer.
    kind = 'latent';
    coords = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) for (let c = 0; c < Math.min(2, d); c++) coords[2 * i + c] = mu[i * d + c]!;
  } else if (kind === 'pca') {
    ({ coords, explained } = pca2(mu, count, d));
  } else {
    coords = (await umap(mu, d, 42, signal)).coords;
  }
  at = 0;
  parts.forEach((part, k) => {
    part.coords = coords.slice(2 * at, 2 * (at + rows[k]!.length));
    at += rows[k]!.length;
  });
  return { kind, ...(explained ? { explained } : {}) };
}
