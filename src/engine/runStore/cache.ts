// Loaded models per run folder, so decode/sample/encode requests do not reload them every time.
// An entry is reloaded when run.json points at another checkpoint (training went on, or an
// imported model's files changed); a stale entry's model is disposed once no request uses it.

import { resolve } from 'node:path';
import type { RunManifest } from '../../protocol/model';
import { vaeFromLayers, type VaeModel } from '../model/model';
import { tfjsCodec, type Codec } from '../model/codec';
import { loadImportedCodec } from '../imported/importedCodec';
import { EngineError } from '../../protocol/errors';
import { loadCheckpoint, readManifest } from './runStore';

interface Entry {
  checkpoint: string;
  manifest: RunManifest;
  model: Promise<{ codec: Codec; vae: VaeModel | null }>;
  users: number;
  stale: boolean;
}

const entries = new Map<string, Entry>();

export interface LoadedRun {
  runDir: string;
  manifest: RunManifest;
  codec: Codec;
  /** The tfjs model of a run trained here; null for a model trained elsewhere (inference only). */
  vae: VaeModel | null;
}

function disposeEntry(entry: Entry): void {
  entry.model.then(
    ({ codec }) => codec.dispose(),
    () => undefined,
  );
}

async function loadModel(dir: string, manifest: RunManifest): Promise<{ codec: Codec; vae: VaeModel | null }> {
  if (manifest.imported) return { codec: await loadImportedCodec(dir, manifest), vae: null };
  const { encoder, decoder } = await loadCheckpoint(dir, manifest, false);
  try {
    const vae = vaeFromLayers(encoder, decoder, manifest.model, manifest.preprocessing, manifest.labels.length);
    return { codec: tfjsCodec(vae), vae };
  } catch (err) {
    encoder.dispose();
    decoder.dispose();
    throw new EngineError('corrupt-run', `${dir}: ${(err as Error).message}`);
  }
}

/** Runs `fn` with the run's current model loaded; the model stays valid until `fn` settles. */
export async function withRun<T>(runDir: string, fn: (run: LoadedRun) => Promise<T>): Promise<T> {
  const dir = resolve(runDir);
  const manifest = await readManifest(dir);
  let entry = entries.get(dir);
  if (!entry || entry.checkpoint !== manifest.checkpoint) {
    if (entry) {
      entry.stale = true;
      if (entry.users === 0) disposeEntry(entry);
    }
    const model = loadModel(dir, manifest);
    entry = { checkpoint: manifest.checkpoint ?? '', manifest, model, users: 0, stale: false };
    entries.set(dir, entry);
    model.catch(() => {
      if (entries.get(dir) === entry) entries.delete(dir);
    });
  }
  const current = entry;
  current.users++;
  try {
    return await fn({ runDir: dir, manifest: current.manifest, ...(await current.model) });
  } finally {
    current.users--;
    if (current.stale && current.users === 0) disposeEntry(current);
  }
}

/** Forgets (and disposes) the cached model of a run, e.g. before it is rewritten. */
export function forgetRun(runDir: string): void {
  const dir = resolve(runDir);
  const entry = entries.get(dir);
  if (!entry) return;
  entries.delete(dir);
  entry.stale = true;
  if (entry.users === 0) disposeEntry(entry);
}
