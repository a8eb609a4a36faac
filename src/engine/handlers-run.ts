// Requests that read a run without its model (loadRun) or need no run at all (project).

import { resolve } from 'node:path';
import type { RunInfo } from '../protocol/engine';
import type { Handler } from './handlers-context';
import { writePngs } from './data';
import { project } from './projection';
import { readHistory, readManifest } from './runStore';
import { listEncodings } from './runStore-encodings';

/** `warn` hears of damage read past: a missing checkpoint fallen back from, skipped history lines. */
export async function loadRunInfo(runDir: string, warn?: (message: string) => void): Promise<RunInfo> {
  const dir = resolve(runDir);
  const manifest = await readManifest(dir, warn);
  return { runDir: dir, manifest, history: await readHistory(dir, manifest, warn), encodings: await listEncodings(dir) };
}

export const handleLoadRun: Handler<'loadRun'> = async (req, ctx) =>
  loadRunInfo(req.runDir, (reason) => ctx.emit({ type: 'warning', requestId: ctx.id, reason }));

export const handleProject: Handler<'project'> = async (req, ctx) =>
  project(req.points, req.dims, req.method, req.seed, ctx.signal);

/** PNG writing lives in the worker, next to sharp, so the extension host loads no native module. */
export const handleWriteImages: Handler<'writeImages'> = async (req) => ({ files: await writePngs(req.images, req.dir, req.stem) });
