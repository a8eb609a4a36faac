// The run folder: run.json (the manifest), checkpoints of encoder, decoder and optimiser state,
// history.jsonl, and encodings/ (see runStore-encodings.ts).
//
// Commit protocol of a checkpoint: write checkpoints/.tmp-epoch-NNNN-xxxx/ completely (every file
// fsynced), rename it to checkpoints/epoch-NNNN, then atomically replace run.json so its
// `checkpoint` field points at it — that rename is the commit point — and only then remove older
// checkpoints beyond the last two. A crash at any moment leaves run.json pointing at a complete
// checkpoint; anything newer or half-written is ignored on load and cleaned by the next writer.

import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EngineErrorCode } from '../protocol/engine';
import type { EpochSummary, RunManifest } from '../protocol/model';
import type { LayersModel } from './tf';
import type { OptimizerWeight } from './trainer';
import { TEMP_PREFIX, exists, readIfExists, syncDir, writeFileAtomic } from './runStore-fs';
import { loadLayersModel, loadOptimizerState, saveLayersModel, saveOptimizerState } from './runStore-layers';

export const RUN_FILE = 'run.json';
export const HISTORY_FILE = 'history.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const RUN_FORMAT = 'latent-atlas-run';
export const RUN_VERSION = 1;
/** Checkpoints kept after a commit: the new one and the one before it. */
const KEEP_CHECKPOINTS = 2;

/** An error with an engine error code and a message in plain words. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** Creates the run folder; refuses a folder that already holds anything. */
export async function createRun(runDir: string, manifest: RunManifest): Promise<void> {
  try {
    const entries = await fs.readdir(runDir);
    if (entries.length > 0) {
      throw new EngineError(
        'run-exists',
        `The run folder ${runDir} already exists and is not empty; choose another run name or remove that folder.`,
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(runDir, { recursive: true });
  await writeManifest(runDir, manifest);
}

export async function readManifest(runDir: string): Promise<RunManifest> {
  const path = join(runDir, RUN_FILE);
  const raw = await readIfExists(path).catch((err: Error) => {
    throw new EngineError('not-a-run', `Cannot read ${path}: ${err.message}`);
  });
  if (raw === null) {
    const why = (await exists(runDir)) ? `it has no ${RUN_FILE}` : 'it does not exist';
    throw new EngineError('not-a-run', `${runDir} is not a Latent Atlas run folder: ${why}. Pick the folder that holds run.json.`);
  }
  let parsed: Partial<RunManifest>;
  try {
    parsed = JSON.parse(raw.toString('utf8')) as Partial<RunManifest>;
  } catch (err) {
    throw new EngineError('corrupt-run', `${path} is not valid JSON (${(err as Error).message}); the run cannot be opened.`);
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== RUN_FORMAT) {
    throw new EngineError('not-a-run', `${path} is not a Latent Atlas run manifest (its "format" is not "${RUN_FORMAT}").`);
  }
  if (parsed.version !== RUN_VERSION) {
    throw new EngineError(
      'corrupt-run',
      `${path} has format version ${String(parsed.version)}, but this Latent Atlas reads version ${RUN_VERSION}; ` +
        'open it with the Latent Atlas version that wrote it, or update Latent Atlas.',
    );
  }
  for (const key of ['name', 'model', 'training', 'preprocessing', 'labels', 'state'] as const) {
    if (parsed[key] === undefined) {
      throw new EngineError('corrupt-run', `${path} lacks the "${key}" field; the run cannot be opened.`);
    }
  }
  return parsed as RunManifest;
}

export async function writeManifest(runDir: string, manifest: RunManifest): Promise<void> {
  await writeFileAtomic(join(runDir, RUN_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

export interface Checkpoint {
  encoder: LayersModel;
  decoder: LayersModel;
}

/**
 * Writes a checkpoint for `manifest.epochsCompleted` and commits it by replacing run.json with
 * `manifest` (its `checkpoint` field set here). Returns the manifest as committed.
 */
export async function saveCheckpoint(
  runDir: string,
  models: Checkpoint,
  optimizer: OptimizerWeight[],
  manifest: RunManifest,
): Promise<RunManifest> {
  const dir = join(runDir, CHECKPOINTS_DIR);
  await fs.mkdir(dir, { recursive: true });
  const name = checkpointName(manifest.epochsCompleted);
  const tmp = join(dir, `${TEMP_PREFIX}${name}-${process.pid}-${Date.now()}`);
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await saveLayersModel(models.encoder, join(tmp, 'encoder'));
    await saveLayersModel(models.decoder, join(tmp, 'decoder'));
    await saveOptimizerState(optimizer, join(tmp, 'optimizer'));
    await syncDir(tmp);
    const final = join(dir, name);
    // A folder of that name not referenced by run.json is an uncommitted leftover of a crash.
    await fs.rm(final, { recursive: true, force: true });
    await fs.rename(tmp, final);
    await syncDir(dir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const committed: RunManifest = { ...manifest, checkpoint: `${CHECKPOINTS_DIR}/${name}`, updatedAt: new Date().toISOString() };
  await writeManifest(runDir, committed);
  await pruneCheckpoints(runDir, committed);
  return committed;
}

/**
 * Removes temporary folders and every checkpoint except the committed one and those before it,
 * keeping KEEP_CHECKPOINTS in all. Only the process writing the run may call this.
 */
export async function pruneCheckpoints(runDir: string, manifest: RunManifest): Promise<void> {
  const dir = join(runDir, CHECKPOINTS_DIR);
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return;
  }
  const current = manifest.checkpoint ? manifest.checkpoint.split('/').pop()! : null;
  const committed = entries
    .filter((e) => /^epoch-\d{4,}$/.test(e) && current !== null && e <= current)
    .sort()
    .slice(-KEEP_CHECKPOINTS);
  for (const e of entries) {
    if (!committed.includes(e)) await fs.rm(join(dir, e), { recursive: true, force: true });
  }
}

/** Loads the encoder, decoder and (optionally) optimiser state of the committed checkpoint. */
export async function loadCheckpoint(
  runDir: string,
  manifest: RunManifest,
  withOptimizer: boolean,
): Promise<Checkpoint & { optimizer: OptimizerWeight[] | null }> {
  if (!manifest.checkpoint) {
    throw new EngineError(
      'corrupt-run',
      `The run ${runDir} has no saved model yet: training stopped before its first epoch ended. Train it again.`,
    );
  }
  const dir = join(runDir, manifest.checkpoint);
  try {
    const encoder = await loadLayersModel(join(dir, 'encoder'));
    const decoder = await loadLayersModel(join(dir, 'decoder'));
    const optimizer = withOptimizer ? await loadOptimizerState(join(dir, 'optimizer')) : null;
    return { encoder, decoder, optimizer };
  } catch (err) {
    throw new EngineError('corrupt-run', `The checkpoint ${dir} cannot be loaded: ${(err as Error).message}`);
  }
}

/** Appends one epoch to history.jsonl (call before committing that epoch's checkpoint). */
export async function appendHistory(runDir: string, summary: EpochSummary): Promise<void> {
  const path = join(runDir, HISTORY_FILE);
  const handle = await fs.open(path, 'a+');
  try {
    // A torn last line (crash mid-append) must not swallow this one.
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.appendFile(prefix + JSON.stringify(summary) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The epoch summaries in order. Lines that do not parse (a torn last line) are skipped; epochs
 * beyond the committed checkpoint (written just before a crash) are dropped; a repeated epoch
 * (after a resume) keeps its latest line.
 */
export async function readHistory(runDir: string, manifest: RunManifest): Promise<EpochSummary[]> {
  const raw = await readIfExists(join(runDir, HISTORY_FILE));
  if (raw === null) return [];
  const byEpoch = new Map<number, EpochSummary>();
  for (const line of raw.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as EpochSummary;
      if (typeof s.epoch === 'number' && s.epoch <= manifest.epochsCompleted) byEpoch.set(s.epoch, s);
    } catch {
      // torn line: ignored
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Rewrites history.jsonl to exactly the committed epochs (before a resume appends to it). */
export async function normaliseHistory(runDir: string, manifest: RunManifest): Promise<EpochSummary[]> {
  const history = await readHistory(runDir, manifest);
  await writeFileAtomic(join(runDir, HISTORY_FILE), history.map((s) => JSON.stringify(s) + '\n').join(''));
  return history;
}

const LOCK_FILE = 'training.lock';

interface TrainingLock {
  pid: number;
  host: string;
  since: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process training this run right now, or null (no lock, or the locker has died). */
export async function trainingOwner(runDir: string): Promise<TrainingLock | null> {
  const raw = await readIfExists(join(runDir, LOCK_FILE));
  if (raw === null) return null;
  try {
    const lock = JSON.parse(raw.toString('utf8')) as TrainingLock;
    // A lock from another machine (a shared folder) cannot be checked: it counts as held.
    if (lock.host !== hostname()) return lock;
    return isAlive(lock.pid) && lock.pid !== process.pid ? lock : null;
  } catch {
    return null;
  }
}

/** Marks the run as trained by this process; refuses when another live process holds it. */
export async function acquireTrainingLock(runDir: string): Promise<void> {
  const owner = await trainingOwner(runDir);
  if (owner) {
    throw new EngineError(
      'bad-request',
      `The run ${runDir} is being trained by process ${owner.pid} on ${owner.host} (since ${owner.since}); ` +
        `stop that training first, or delete ${join(runDir, LOCK_FILE)} if that process is gone.`,
    );
  }
  const lock: TrainingLock = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  await writeFileAtomic(join(runDir, LOCK_FILE), JSON.stringify(lock) + '\n');
}

export async function releaseTrainingLock(runDir: string): Promise<void> {
  await fs.rm(join(runDir, LOCK_FILE), { force: true });
}
