// Requests over a run's encodings: neighbours (the k encoded images nearest to an image in the
// model's full latent space) and exportCsv (an encoding as a table). Encodings read for a query stay in memory (with their
// variances) until their file changes, so the next query over a large folder is only the search.

import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { NeighbourResult } from '../../protocol/engine';
import { EngineError } from '../../protocol/errors';
import { loadFiles } from '../data';
import { nearest } from '../neighbours';
import { withRun } from '../runStore/cache';
import { ENCODINGS_DIR, encodingSlug, listEncodings, readEncoding, type StoredEncoding } from '../runStore/encodings';
import { badRequest, writingTo, type Handler } from './context';
import { encodingsCsv, type CsvPart } from '../csvExport';
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

export const handleExportCsv: Handler<'exportCsv'> = async (req) => {
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
  let table: string;
  try {
    table = encodingsCsv(parts);
  } catch (e) {
    throw badRequest((e as Error).message);
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
  return { path, rows: parts.reduce((n, p) => n + (p.names?.length ?? p.encoding.files.length), 0) };
};
