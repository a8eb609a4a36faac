// The film of a run: where a fixed subset of its training images sat in the latent space at each
// epoch end, so the map can replay training. `film/index.json` names the subset and lists the
// epochs with a frame; `film/epoch-NNNN.f32` holds a frame's posterior means, raw little-endian
// float32, count × dims. A frame file is written in full (atomically) before index.json lists it,
// so a crash or a full disk never leaves a listed frame half-written.

import { promises as fs } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../protocol/errors';
import { readIfExists, writeFileAtomic } from './fs';

export const FILM_DIR = 'film';
export const FILM_INDEX = 'index.json';
export const FILM_FORMAT = 'latent-atlas-film';
export const FILM_VERSION = 1;

/** film/index.json. */
export interface FilmIndex {
  format: typeof FILM_FORMAT;
  version: typeof FILM_VERSION;
  /** The subset's images relative to the training folder, '/'-separated (the demo set: its names). */
  files: string[];
  /** Label index per image into labelNames (−1 = none). */
  labels: number[];
  labelNames: string[];
  /** Latent dimensions per point. */
  dims: number;
  /** Epochs with a frame file, ascending (0 = before training). */
  epochs: number[];
}

export function frameName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}.f32`;
}

export function filmIndexPath(runDir: string): string {
  return join(runDir, FILM_DIR, FILM_INDEX);
}

export function framePath(runDir: string, epoch: number): string {
  return join(runDir, FILM_DIR, frameName(epoch));
}

function corrupt(path: string, what: string): EngineError {
  return new EngineError(
    'corrupt-run',
    `${path} ${what}. The film of the run cannot be read; remove its film folder (training writes a new one when resumed).`,
  );
}

/** The run's film index, or null when the run has none (trained before films, or imported). */
export async function readFilmIndex(runDir: string): Promise<FilmIndex | null> {
  const path = filmIndexPath(runDir);
  const raw = await readIfExists(path);
  if (!raw) return null;
  let index: FilmIndex;
  try {
    index = JSON.parse(raw.toString('utf8')) as FilmIndex;
  } catch (err) {
    throw corrupt(path, `is not valid JSON (${(err as Error).message})`);
  }
  if (index?.format !== FILM_FORMAT) throw corrupt(path, `is not a film index (format "${String(index?.format)}")`);
  if (index.version !== FILM_VERSION) {
    throw corrupt(
      path,
      `has version ${String(index.version)}, which this version of Latent Atlas does not read (it reads ${FILM_VERSION})`,
    );
  }
  const ok =
    Array.isArray(index.files) &&
    Array.isArray(index.labels) &&
    index.labels.length === index.files.length &&
    Array.isArray(index.labelNames) &&
    Number.isInteger(index.dims) &&
    index.dims > 0 &&
    Array.isArray(index.epochs) &&
    index.epochs.every((e) => Number.isInteger(e) && e >= 0);
  if (!ok) throw corrupt(path, 'lacks fields or has fields of the wrong kind (files, labels, labelNames, dims, epochs)');
  return index;
}

async function writeIndex(runDir: string, index: FilmIndex): Promise<void> {
  await writeFileAtomic(filmIndexPath(runDir), JSON.stringify(index) + '\n');
}

/**
 * Starts a film (replacing any earlier one): index.json with no frames yet. Frame files of an
 * earlier film are removed only after the new index is in place, so no index ever lists them.
 */
export async function startFilm(runDir: string, subset: Omit<FilmIndex, 'format' | 'version' | 'epochs'>): Promise<FilmIndex> {
  const index: FilmIndex = { format: FILM_FORMAT, version: FILM_VERSION, ...subset, epochs: [] };
  await fs.mkdir(join(runDir, FILM_DIR), { recursive: true });
  await writeIndex(runDir, index);
  for (const name of await fs.readdir(join(runDir, FILM_DIR))) {
    if (name.endsWith('.f32')) await fs.rm(join(runDir, FILM_DIR, name), { force: true });
  }
  return index;
}

/** Keeps only the frames of epochs up to `epochs` (a run resumed from an earlier checkpoint). */
export async function truncateFilm(runDir: string, index: FilmIndex, epochs: number): Promise<FilmIndex> {
  if (index.epochs.every((e) => e <= epochs)) return index;
  const kept: FilmIndex = { ...index, epochs: index.epochs.filter((e) => e <= epochs) };
  await writeIndex(runDir, kept);
  return kept;
}

function toLittleEndian(mu: Float32Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(mu.buffer, mu.byteOffset, mu.byteLength);
  const out = Buffer.alloc(mu.byteLength);
  for (let i = 0; i < mu.length; i++) out.writeFloatLE(mu[i]!, i * 4);
  return out;
}

function fromLittleEndian(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (endianness() === 'LE') new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** Writes one frame, then lists it in index.json; returns the index as written. */
export async function writeFrame(runDir: string, index: FilmIndex, epoch: number, mu: Float32Array): Promise<FilmIndex> {
  if (mu.length !== index.files.length * index.dims) {
    throw new Error(`A film frame holds ${mu.length} values; ${index.files.length} images × ${index.dims} dimensions were expected.`);
  }
  await writeFileAtomic(framePath(runDir, epoch), toLittleEndian(mu));
  const next: FilmIndex = { ...index, epochs: [...index.epochs.filter((e) => e !== epoch), epoch].sort((a, b) => a - b) };
  await writeIndex(runDir, next);
  return next;
}

/** Reads one listed frame, checking its size against the index. */
export async function readFrame(runDir: string, index: FilmIndex, epoch: number): Promise<Float32Array> {
  const path = framePath(runDir, epoch);
  const bytes = await readIfExists(path);
  if (!bytes) throw corrupt(path, `is missing, yet ${filmIndexPath(runDir)} lists epoch ${epoch}`);
  const expected = index.files.length * index.dims * 4;
  if (bytes.length !== expected) throw corrupt(path, `holds ${bytes.length} bytes; ${expected} were expected`);
  return fromLittleEndian(bytes);
}
