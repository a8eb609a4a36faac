// Loaded models per run folder, so decode/sample/encode requests do not reload them every time.
// An entry is reloaded when run.json points at another checkpoint (training went on); a stale
// entry's tensors are disposed once no request uses it any more.

import { resolve } from 'node:path';
import type { RunManifest } from '../../protocol/model';
import { vaeFromLayers, type VaeModel } from '../model/model';
import { EngineError } from '../../protocol/errors';
import { loadCheckpoint, readManifest } from './runStore';

interface Entry {
  checkpoint: string;
  manifest: RunManifest;
  vae: Promise<VaeModel>;
  users: number;
  stale: boolean;
}

const entries = new Map<string, Entry>();

export interface LoadedRun {
  runDir: string;
  manifest: RunManifest;
  vae: VaeModel;
}

function disposeEntry(entry: Entry): void {
  entry.vae.then(
    (vae) => {
      vae.encoder.dispose();
      vae.decoder.dispose();
    },
    () => undefined,
  );
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
    const vae = loadCheckpoint(dir, manifest, false).then(({ encoder, decoder }) => {
      try {
        return vaeFromLayers(encoder, decoder, manifest.model, manifest.preprocessing, manifest.labels.length);
      } catch (err) {
        encoder.dispose();
        decoder.dispose();
        throw new EngineError('corrupt-run', `${dir}: ${(err as Error).message}`);
      }
    });
    entry = { checkpoint: manifest.checkpoint ?? '', manifest, vae, users: 0, stale: false };
    entries.set(dir, entry);
    vae.catch(() => {
      if (entries.get(dir) === entry) entries.delete(dir);
    });
  }
  const current = entry;
  current.users++;
  try {
    return await fn({ runDir: dir, manifest: current.manifest, vae: await current.vae });
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
