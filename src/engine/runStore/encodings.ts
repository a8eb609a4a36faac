// encodings/<slug>.json + <slug>.bin: the posterior means and log-variances of every image of one
// encoded folder (and, from version 2, each image's ELBO terms), with each file's size and mtime
// so a re-run encodes only new or changed files. Version 1 files (no terms) are still read.
// The .bin is written first, then the .json that names its length and sha256 is renamed into
// place; a .bin that does not match its .json (crash between the two) counts as no encoding.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileProblem } from '../../protocol/engine';
import { readIfExists, writeFileAtomic } from './fs';

export const ENCODINGS_DIR = 'encodings';
const ENCODING_FORMAT = 'latent-atlas-encoding';
const ENCODING_VERSION = 2;

export interface EncodedFile {
  /** Absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
  /** Label index into labelNames, −1 for none. */
  label: number;
}

export interface StoredEncoding {
  folder: string;
  /** The checkpoint the points were computed with; another checkpoint invalidates them all. */
  checkpoint: string;
  dims: number;
  labelNames: string[];
  files: EncodedFile[];
  mu: Float32Array;
  logVar: Float32Array;
  /**
   * Per image, nats: −log p(x|z) at one draw z ~ q(z|x) (seeded by the file's path, so the same
   * file gets the same draw), and KL(q(z|x) ‖ p(z)). Null when the model cannot give them (an
   * imported autoencoder, a Gaussian decoder without σ) or the encoding was written by version 1.
   */
  terms: { reconstruction: Float32Array; kl: Float32Array } | null;
  skipped: FileProblem[];
  updatedAt: string;
}

interface EncodingJson {
  format: typeof ENCODING_FORMAT;
  version: number;
  folder: string;
  checkpoint: string;
  dims: number;
  labelNames: string[];
  /** Paths relative to `folder` when inside it, else absolute. */
  files: { path: string; size: number; mtimeMs: number; label: number }[];
  skipped: FileProblem[];
  /**
   * mu (count × dims float32, little-endian) then logVar, in the .bin; with `terms` (version 2),
   * then the reconstruction term and the KL of each image (count float32 each).
   */
  bin: { bytes: number; sha256: string };
  terms?: boolean;
  updatedAt: string;
}

/** A file-name-safe, stable name for a folder: its base name and a hash of its absolute path. */
export function encodingSlug(folder: string): string {
  const abs = resolve(folder);
  const base =
    basename(abs)
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .slice(0, 40) || 'root';
  return `${base}-${createHash('sha256').update(abs).digest('hex').slice(0, 10)}`;
}

function toStored(folder: string, p: string): string {
  const rel = relative(folder, p);
  return rel && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel) ? rel.split(sep).join('/') : p;
}

export async function writeEncoding(runDir: string, enc: StoredEncoding): Promise<void> {
  const dir = join(runDir, ENCODINGS_DIR);
  await fs.mkdir(dir, { recursive: true });
  const slug = encodingSlug(enc.folder);
  const parts = [enc.mu, enc.logVar, ...(enc.terms ? [enc.terms.reconstruction, enc.terms.kl] : [])];
  const bin = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    bin.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  const json: EncodingJson = {
    format: ENCODING_FORMAT,
    version: ENCODING_VERSION,
    folder: resolve(enc.folder),
    checkpoint: enc.checkpoint,
    dims: enc.dims,
    labelNames: enc.labelNames,
    files: enc.files.map((f) => ({ path: toStored(enc.folder, f.path), size: f.size, mtimeMs: f.mtimeMs, label: f.label })),
    skipped: enc.skipped,
    bin: { bytes: bin.byteLength, sha256: createHash('sha256').update(bin).digest('hex') },
    terms: enc.terms !== null,
    updatedAt: enc.updatedAt,
  };
  await writeFileAtomic(join(dir, `${slug}.bin`), bin);
  await writeFileAtomic(join(dir, `${slug}.json`), JSON.stringify(json));
}

/** The stored encoding of a folder, or null when there is none (or it is damaged or outdated). */
export async function readEncoding(runDir: string, folder: string): Promise<StoredEncoding | null> {
  return readEncodingFile(join(runDir, ENCODINGS_DIR, encodingSlug(folder)));
}

async function readEncodingFile(stem: string): Promise<StoredEncoding | null> {
  const rawJson = await readIfExists(`${stem}.json`);
  const bin = await readIfExists(`${stem}.bin`);
  if (rawJson === null || bin === null) return null;
  let json: EncodingJson;
  try {
    json = JSON.parse(rawJson.toString('utf8')) as EncodingJson;
  } catch {
    return null;
  }
  if (json.format !== ENCODING_FORMAT || json.version < 1 || json.version > ENCODING_VERSION) return null;
  if (bin.byteLength !== json.bin.bytes || createHash('sha256').update(bin).digest('hex') !== json.bin.sha256) return null;
  const n = json.files.length * json.dims;
  const count = json.files.length;
  const withTerms = json.version >= 2 && json.terms === true;
  if (bin.byteLength !== (n * 2 + (withTerms ? count * 2 : 0)) * 4) return null;
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return {
    folder: json.folder,
    checkpoint: json.checkpoint,
    dims: json.dims,
    labelNames: json.labelNames,
    files: json.files.map((f) => ({ ...f, path: isAbsolute(f.path) ? f.path : join(json.folder, f.path) })),
    mu: floats.slice(0, n),
    logVar: floats.slice(n, 2 * n),
    terms: withTerms ? { reconstruction: floats.slice(2 * n, 2 * n + count), kl: floats.slice(2 * n + count, 2 * n + 2 * count) } : null,
    skipped: json.skipped,
    updatedAt: json.updatedAt,
  };
}

/** Absolute paths of the folders encoded with this run. */
export async function listEncodings(runDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(join(runDir, ENCODINGS_DIR));
  } catch {
    return [];
  }
  const folders: string[] = [];
  for (const e of entries.filter((x) => x.endsWith('.json')).sort()) {
    try {
      const json = JSON.parse(await fs.readFile(join(runDir, ENCODINGS_DIR, e), 'utf8')) as EncodingJson;
      if (json.format === ENCODING_FORMAT) folders.push(json.folder);
    } catch {
      // a damaged encoding is not listed; encoding the folder again rewrites it
    }
  }
  return folders;
}
