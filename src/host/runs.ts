// Run names, run discovery and the checks on what a person types. Pure Node (no 'vscode'),
// so it is unit-tested directly.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { RunManifest } from '../protocol/model';
import { parseHistory } from '../protocol/epochHistory';
import { MODEL_MANIFEST_FILE, type ModelManifest } from '../protocol/importedModel';
import { runNameProblem } from '../protocol/runName';
import { runSettings, settingsLine, type Setting } from '../protocol/runSettings';
import type { ComparedEpoch } from '../protocol/webview';

export interface RunSummary {
  runDir: string;
  name: string;
  state: RunManifest['state'];
  epochsCompleted: number;
  epochs: number;
  latentSize: number;
  updatedAt: string;
  /** −ELBO of the last epoch (validation when present), nats per image. */
  negElbo: number | null;
  /** false when the run has no checkpoint yet (nothing to load). */
  loadable: boolean;
  /** Set for a model trained elsewhere: the kind of its files. */
  imported?: 'onnx' | 'tfjs';
  /** Its settings (see protocol/runSettings), as every place shows them. */
  settings: Setting[];
}

const MAX_NAME = 64;

/** A folder name made safe as a run name: letters, digits, '-', '_' and '.', never leading '.'. */
export function sanitizeRunName(raw: string): string {
  const cleaned = raw
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_NAME);
  if (!cleaned) return 'run';
  // A name the run store refuses (a Windows device name such as "con") gets a suffix.
  return runNameProblem(cleaned) ? `${cleaned}-run` : cleaned;
}

/** `base`, or `base-2`, `base-3`, … — the first that is not taken. */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The default run name for a data folder (or the demo set): its name, unique in the run location. */
export function defaultRunName(dataFolder: string | null, taken: ReadonlySet<string>): string {
  return uniqueName(sanitizeRunName(dataFolder ? basename(dataFolder) : 'demo'), taken);
}

/** Why a typed run name cannot be used, or undefined when it can (for an input box). */
export function checkRunName(name: string, taken: ReadonlySet<string>): string | undefined {
  const trimmed = name.trim();
  if (trimmed === '') return 'Give the run a name.';
  if (trimmed.length > MAX_NAME) return `Use at most ${MAX_NAME} characters.`;
  if (!/^[\w][\w.-]*$/.test(trimmed)) return "Use letters, digits, '-', '_' or '.', starting with a letter or digit.";
  const problem = runNameProblem(trimmed);
  if (problem) return `This name cannot be used: ${problem}.`;
  if (taken.has(trimmed)) return `A run named "${trimmed}" already exists here; choose another name.`;
  return undefined;
}

/** Why a typed sample count cannot be used, or undefined when it can. */
export function checkSampleCount(text: string, max = 1000): string | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return `Type a whole number from 1 to ${max}.`;
  const n = Number(t);
  if (n < 1 || n > max) return `Type a whole number from 1 to ${max}.`;
  return undefined;
}

/** The folder that holds runs: `runFolder` relative to the workspace folder, or absolute as set. */
export function runRoot(workspaceFolder: string, runFolder: string): string {
  return isAbsolute(runFolder) ? runFolder : resolve(workspaceFolder, runFolder);
}

/** True when `child` is `parent` or lies inside it (after resolving '..'). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Names of the sub-folders of `root` (empty when it does not exist): the run names taken there. */
export async function takenNames(root: string): Promise<Set<string>> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  } catch {
    return new Set();
  }
}

/** A folder with latent-atlas-model.json (a model trained elsewhere); null when it has none (the engine checks it fully). */
async function readImportedSummary(runDir: string): Promise<RunSummary | null> {
  let m: Partial<ModelManifest>;
  let updated: Date;
  try {
    const path = join(runDir, MODEL_MANIFEST_FILE);
    m = JSON.parse(await readFile(path, 'utf8')) as Partial<ModelManifest>;
    updated = (await stat(path)).mtime;
  } catch {
    return null;
  }
  if (m?.format !== 'latent-atlas-model') return null;
  const imported = typeof m.encoder === 'string' && m.encoder.toLowerCase().endsWith('.onnx') ? 'onnx' : 'tfjs';
  const latentSize = typeof m.latentSize === 'number' ? m.latentSize : 0;
  return {
    runDir,
    name: typeof m.name === 'string' ? m.name : basename(runDir),
    state: 'complete',
    epochsCompleted: 0,
    epochs: 0,
    latentSize,
    updatedAt: updated.toISOString(),
    negElbo: null,
    loadable: true,
    imported,
    settings: runSettings({ imported: { format: imported }, model: { latentSize } }),
  };
}

/** Reads the run.json of a folder (or its latent-atlas-model.json); null when it is neither. */
export async function readRunSummary(runDir: string): Promise<RunSummary | null> {
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunManifest;
  } catch {
    return readImportedSummary(runDir);
  }
  if (manifest?.format !== 'latent-atlas-run') return null;
  const last = manifest.last;
  const terms = last ? (last.validation ?? last.train) : null;
  return {
    runDir,
    name: manifest.name ?? basename(runDir),
    state: manifest.state,
    epochsCompleted: manifest.epochsCompleted ?? 0,
    epochs: manifest.training?.epochs ?? 0,
    latentSize: manifest.model?.latentSize ?? 0,
    updatedAt: manifest.updatedAt ?? '',
    negElbo: terms ? -terms.elbo : null,
    loadable: manifest.checkpoint !== null && manifest.checkpoint !== undefined,
    settings: runSettings(manifest),
  };
}

/** Every run directly inside each of `roots` plus the given run.json paths, newest first, no duplicates. */
export async function findRuns(roots: string[], runJsonPaths: string[] = []): Promise<RunSummary[]> {
  const dirs = new Set<string>(runJsonPaths.map((p) => resolve(p, '..')));
  for (const root of roots) {
    try {
      for (const e of await readdir(root, { withFileTypes: true })) if (e.isDirectory()) dirs.add(join(root, e.name));
    } catch {
      // a run location that does not exist yet holds no runs
    }
  }
  const runs = (await Promise.all([...dirs].map(readRunSummary))).filter((r): r is RunSummary => r !== null);
  return runs.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
}

/** One line describing a run for a quick pick: its state and last −ELBO, then its settings. */
export function describeRun(run: RunSummary): string {
  if (run.imported) return settingsLine(run.settings);
  const figures = run.negElbo === null ? 'no epoch yet' : `−ELBO ${run.negElbo.toFixed(1)} nats`;
  return `${run.state}, ${figures} · ${settingsLine(run.settings)}`;
}

/**
 * A run's per-epoch figures for the Training view's comparison: its run.json and the committed
 * epochs of its history.jsonl. Null for a folder without run.json (a model trained elsewhere) and
 * for a run without a completed epoch: there is no curve to draw.
 */
export async function readRunEpochs(runDir: string): Promise<{ name: string; settings: Setting[]; epochs: ComparedEpoch[] } | null> {
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunManifest;
  } catch {
    return null;
  }
  if (manifest?.format !== 'latent-atlas-run' || !manifest.epochsCompleted) return null;
  let text = '';
  try {
    text = await readFile(join(runDir, 'history.jsonl'), 'utf8');
  } catch {
    // no history yet: only the last epoch's figures, from run.json
  }
  const history = parseHistory(text, manifest.epochsCompleted);
  const epochs = history.length ? history : manifest.last ? [manifest.last] : [];
  if (!epochs.length) return null;
  return {
    name: manifest.name ?? basename(runDir),
    settings: runSettings(manifest),
    epochs: epochs.map((e) => ({ epoch: e.epoch, train: e.train, validation: e.validation })),
  };
}
