// Shared by the worker, run-store-atomicity and CLI tests: small image folders and an engine
// client that runs the real worker from source (through tsx), so no build is needed.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngineClient } from '../../src/client/engineClient';
import { writeDemoFolder } from '../../src/engine/data';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type ModelConfig, type TrainingConfig } from '../../src/protocol/model';
import type { RequestBody } from '../../src/protocol/engine';

export const REPO = resolve(__dirname, '..', '..');
export const WORKER_SOURCE = join(REPO, 'src', 'engine', 'worker.ts');
/** `--import` argument that loads tsx whatever the current directory is. */
export const TSX_IMPORT = pathToFileURL(require.resolve('tsx')).href;

export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), `la-${prefix}-`));
  // Keep the decoded-image cache of the tests out of the user's cache folder.
  process.env.XDG_CACHE_HOME ??= join(dir, 'cache');
  return dir;
}

/** A folder of `count` demo PNGs in circle/ square/ triangle/ sub-folders. */
export async function demoFolder(dir: string, count: number, seed = 3): Promise<string> {
  await writeDemoFolder(dir, count, seed);
  return dir;
}

export function client(): EngineClient {
  return new EngineClient({ workerPath: WORKER_SOURCE, execArgv: ['--import', TSX_IMPORT], maxOldSpaceMb: 2048 });
}

/** A small, quick model: 28×28 grey demo images, one hidden layer of 32. */
export const SMALL_MODEL: ModelConfig = { ...DEFAULT_MODEL, hiddenUnits: [32] };
export const SMALL_TRAINING: TrainingConfig = { ...DEFAULT_TRAINING, epochs: 2, batchSize: 32, validationSplit: 0.2 };

export function trainBody(runDir: string, folder: string, over: Partial<RequestBody<'train'>> = {}): RequestBody<'train'> {
  return {
    type: 'train',
    runDir,
    name: 'test-run',
    dataset: { kind: 'folder', path: folder },
    model: SMALL_MODEL,
    training: SMALL_TRAINING,
    ...over,
  };
}
