// The run folder: run.json (the manifest), checkpoints of encoder, decoder and optimiser state,
// history.jsonl, and encodings/ (see encodings.ts).
//
// Commit protocol of a checkpoint: write checkpoints/.tmp-epoch-NNNN-xxxx/ completely (every file
// fsynced), rename it to checkpoints/epoch-NNNN, then atomically replace run.json so its
// `checkpoint` field points at it — that rename is the commit point — and only then remove older
// checkpoints beyond the last two. A crash at any moment leaves run.json pointing at a complete
// checkpoint; anything newer or half-written is ignored on load and cleaned by the next writer.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { EpochSummary, RunManifest } from '../../protocol/model';
import type { LayersModel } from '../tf';
import type { OptimizerWeight } from '../model/trainer';
import { TEMP_PREFIX, exists, readIfExists, syncDir, writeFileAtomic } from './fs';
import { loadLayersModel, loadOptimizerState, saveLayersModel, saveOptimizerState } from './layers';
import { parseHistory } from '../../protocol/epochHistory';
import { RUN_FILE, runNameMessage } from '../../protocol/runName';
import { EngineError } from '../../protocol/errors';
import { MODEL_MANIFEST_FILE } from '../../protocol/importedModel';
import { importedRunManifest, readModelManifest } from '../imported/modelManifest';

export { RUN_FILE };
export const HISTORY_FILE = 'history.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const RUN_FORMAT = 'latent-atlas-run';
export const RUN_VERSION = 1;
/** Checkpoints kept after a commit: the new one and the one before it. */
const KEEP_CHECKPOINTS = 2;

export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

function checkRunName(name: string, parent: string): void {
  const message = runNameMessage(name, parent);
  if (message) throw new EngineError('bad-request', message);
}

/** The folder of the run `name` inside `parent`; refuses names that would leave `parent`. */
export function runFolder(parent: string, name: string): string {
  checkRunName(name, parent);
  return join(parent, name);
}

/** Creates the run folder; refuses a folder that already holds anything, and unsafe run names. */
export async function createRun(runDir: string, manifest: RunManifest): Promise<void> {
  // The name came from a person (CLI --name, an input box): it must not lead out of the parent.
  checkRunName(manifest.name, dirname(runDir));
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

/**
 * Reads and checks run.json. When its `checkpoint` folder is missing (deleted, or lost to a crash
 * of the file system) but an earlier checkpoint is left, the returned manifest falls back to that
 * one (epochs, step and last summary as of then) and `warn` says so; the next resume commits it.
 */
export async function readManifest(runDir: string, warn?: (message: string) => void): Promise<RunManifest> {
  const path = join(runDir, RUN_FILE);
  const raw = await readIfExists(path).catch((err: Error) => {
    throw new EngineError('not-a-run', `Cannot read ${path}: ${err.message}`);
  });
  if (raw === null) {
    // A model trained elsewhere, described by latent-atlas-model.json, is read as a run.
    const imported = await readModelManifest(runDir);
    if (imported) return importedRunManifest(runDir, imported);
    const why = (await exists(runDir)) ? `it has no ${RUN_FILE}` : 'it does not exist';
    throw new EngineError(
      'not-a-run',
      `${runDir} is not a Latent Atlas run folder: ${why}. Pick the folder that holds run.json (a run trained here) or ${MODEL_MANIFEST_FILE} (a model trained elsewhere).`,
    );
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
  const manifest = parsed as RunManifest;
  if (!manifest.checkpoint || (await exists(join(runDir, manifest.checkpoint)))) return manifest;
  const previous = await previousCheckpoint(runDir, manifest.checkpoint);
  if (!previous) {
    warn?.(
      `The checkpoint ${join(runDir, manifest.checkpoint)} named in ${path} is missing and no earlier one is left; the model cannot be loaded. Train the run again.`,
    );
    return manifest;
  }
  const epoch = Number(previous.slice('epoch-'.length));
  const fallback: RunManifest = { ...manifest, checkpoint: `${CHECKPOINTS_DIR}/${previous}`, epochsCompleted: epoch };
  const summary = (await readHistory(runDir, fallback)).find((s) => s.epoch === epoch);
  fallback.step = summary?.step ?? Math.round((manifest.step * epoch) / Math.max(1, manifest.epochsCompleted));
  fallback.last = summary ? { ...summary, curve: undefined } : null;
  warn?.(
    `The checkpoint ${join(runDir, manifest.checkpoint)} named in ${path} is missing; using the previous one, ` +
      `${fallback.checkpoint} (epoch ${epoch}). Epochs after it are lost; resume the run to train them again.`,
  );
  return fallback;
}

/** The newest checkpoint folder older than `checkpoint` (a run-relative path), or null. */
async function previousCheckpoint(runDir: string, checkpoint: string): Promise<string | null> {
  const current = checkpoint.split('/').pop()!;
  let entries: string[];
  try {
    entries = await fs.readdir(join(runDir, CHECKPOINTS_DIR));
  } catch {
    return null;
  }
  const epochOf = (name: string) => Number(name.slice('epoch-'.length));
  const older = entries.filter((e) => /^epoch-\d{4,}$/.test(e) && epochOf(e) < epochOf(current)).sort((a, b) => epochOf(a) - epochOf(b));
  return older.pop() ?? null;
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
  if (!(await exists(dir))) {
    throw new EngineError(
      'corrupt-run',
      `The checkpoint folder ${dir} named in ${join(runDir, RUN_FILE)} is missing and no earlier checkpoint is left in ` +
        `${join(runDir, CHECKPOINTS_DIR)}; the model is lost. Train the run again.`,
    );
  }
  try {
    const encoder = await loadLayersModel(join(dir, 'encoder'));
    const decoder = await loadLayersModel(join(dir, 'decoder'));
    const optimizer = withOptimizer ? await loadOptimizerState(join(dir, 'optimizer')) : null;
    return { encoder, decoder, optimizer };
  } catch (err) {
    // A damaged checkpoint is not repaired behind the person's back; removing it makes readers
    // fall back to the previous one (see readManifest).
    const previous = await previousCheckpoint(runDir, manifest.checkpoint);
    const fix = previous
      ? `Remove the folder ${dir} to go back to the previous checkpoint (${CHECKPOINTS_DIR}/${previous}), or train the run again.`
      : 'Train the run again (no earlier checkpoint is left).';
    throw new EngineError('corrupt-run', `The checkpoint ${dir} cannot be loaded: ${(err as Error).message} ${fix}`);
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

/** The committed epoch summaries in order (see parseHistory for the lines that are skipped). */
export async function readHistory(runDir: string, manifest: RunManifest, warn?: (message: string) => void): Promise<EpochSummary[]> {
  const path = join(runDir, HISTORY_FILE);
  const raw = await readIfExists(path);
  if (raw === null) return [];
  return parseHistory(raw.toString('utf8'), manifest.epochsCompleted, (line) =>
    warn?.(`${path}, line ${line}, is not a complete epoch summary; it is ignored.`),
  );
}

/**
 * Rewrites history.jsonl to exactly the committed epochs (before a resume appends to it): good
 * lines only, so a damaged line can never outlive, or replace, the good record of its epoch.
 */
export async function normaliseHistory(runDir: string, manifest: RunManifest, warn?: (message: string) => void): Promise<EpochSummary[]> {
  const history = await readHistory(runDir, manifest, warn);
  await writeFileAtomic(join(runDir, HISTORY_FILE), history.map((s) => JSON.stringify(s) + '\n').join(''));
  return history;
}

const LOCK_FILE = 'training.lock';
/**
 * A lock that does not parse is taken to be mid-write (it is created empty, then filled) for this
 * long; older, it is a leftover of a crash at that moment. Same for a takeover marker.
 */
const LOCK_GRACE_MS = 5000;

interface TrainingLock {
  pid: number;
  host: string;
  since: string;
  /** Random per acquisition: tells this lock from an older one of the same pid (pids are reused). */
  token?: string;
}

/** Tokens of locks this process has taken (or is taking), and the one held per run folder. */
const ownTokens = new Set<string>();
const heldTokens = new Map<string, string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface FoundLock {
  raw: string;
  ino: number;
  lock: TrainingLock | null;
  stale: boolean;
}

/** The lock file as it is now, and whether its holder is gone; null when there is none. */
async function readLock(path: string): Promise<FoundLock | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // Content and identity of one and the same file, even if the name is replaced meanwhile.
  let raw: string;
  let stat: import('node:fs').Stats;
  try {
    stat = await handle.stat();
    raw = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  let lock: TrainingLock | null = null;
  try {
    const parsed = JSON.parse(raw) as TrainingLock;
    if (typeof parsed?.pid === 'number' && typeof parsed.host === 'string') lock = parsed;
  } catch {
    // empty or half-written
  }
  let stale: boolean;
  if (!lock) stale = Date.now() - stat.mtimeMs > LOCK_GRACE_MS;
  // A lock from another machine (a shared folder) cannot be checked: it counts as held.
  else if (lock.host !== hostname()) stale = false;
  // Our own pid: held if this process took it, else left by an earlier process with the same pid.
  else if (lock.pid === process.pid) stale = !(lock.token !== undefined && ownTokens.has(lock.token));
  else stale = !isAlive(lock.pid);
  return { raw, ino: stat.ino, lock, stale };
}

/** The live process training this run right now (this one included), or null (no lock, or the locker has died). */
export async function trainingOwner(runDir: string): Promise<TrainingLock | null> {
  const found = await readLock(join(runDir, LOCK_FILE));
  return found?.lock && !found.stale ? found.lock : null;
}

/** Creates the lock file only if there is none ('wx'): of two racing processes exactly one wins. */
async function createLock(path: string, lock: TrainingLock): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(lock) + '\n');
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(path, { force: true });
    throw err;
  }
  await handle.close();
  await syncDir(dirname(path));
  return true;
}

/**
 * Removes a stale lock, race-safely: takers of one stale lock first race for a marker named after
 * it ('wx', one wins), and the winner deletes the lock only if it is still that very file — so a
 * slow taker can never delete the lock a faster one has just written. Returns false while another
 * process is taking it over. A marker left by a taker that died mid-way is passed over once it is
 * older than LOCK_GRACE_MS (the next generation of the marker is used; none is ever deleted early).
 */
async function removeStaleLock(runDir: string, path: string, found: FoundLock): Promise<boolean> {
  const key = createHash('sha256').update(`${found.ino}\n${found.raw}`).digest('hex').slice(0, 16);
  const prefix = `${TEMP_PREFIX}${LOCK_FILE}-takeover-${key}-`;
  for (let generation = 0; ;) {
    try {
      await (await fs.open(join(runDir, `${prefix}${generation}`), 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const marker = await fs.stat(join(runDir, `${prefix}${generation}`)).catch(() => null);
      if (marker && Date.now() - marker.mtimeMs < LOCK_GRACE_MS) return false;
      if (marker) generation++;
    }
  }
  const now = await readLock(path);
  if (now && now.stale && now.ino === found.ino && now.raw === found.raw) await fs.rm(path, { force: true });
  // Markers of this stale lock are done with: any later taker re-reads the lock and finds it changed.
  for (const e of await fs.readdir(runDir)) if (e.startsWith(prefix)) await fs.rm(join(runDir, e), { force: true });
  return true;
}

/** Marks the run as trained by this process; refuses when another live process holds it. */
export async function acquireTrainingLock(runDir: string): Promise<void> {
  const path = join(runDir, LOCK_FILE);
  const lock: TrainingLock = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  ownTokens.add(lock.token!);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await createLock(path, lock)) {
        heldTokens.set(resolve(runDir), lock.token!);
        return;
      }
      const found = await readLock(path);
      if (found === null) continue; // released in between: race for it again
      if (!found.stale) {
        const owner = found.lock;
        throw new EngineError(
          'bad-request',
          owner
            ? `The run ${runDir} is being trained by process ${owner.pid} on ${owner.host} (since ${owner.since}); ` +
                `stop that training first, or delete ${path} if that process is gone.`
            : `Another process is starting to train the run ${runDir} right now (${path} was just created); stop that training first.`,
        );
      }
      // A dead process's lock (this host): taken over; while another taker is at it, wait a moment.
      if (!(await removeStaleLock(runDir, path, found))) await new Promise((r) => setTimeout(r, 20));
    }
    throw new EngineError('bad-request', `Could not take ${path}: other processes keep taking it; try again.`);
  } catch (err) {
    ownTokens.delete(lock.token!);
    throw err;
  }
}

/** Deletes the lock if this process holds it; another process's lock (a loser's release) stays. */
export async function releaseTrainingLock(runDir: string): Promise<void> {
  const path = join(runDir, LOCK_FILE);
  const token = heldTokens.get(resolve(runDir));
  if (token === undefined) return;
  heldTokens.delete(resolve(runDir));
  try {
    const found = await readLock(path);
    if (found?.lock?.token === token) await fs.rm(path, { force: true });
  } finally {
    ownTokens.delete(token);
  }
}
