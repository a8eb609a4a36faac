// Requests that read a run without its model (loadRun) or need no run at all (project).

import { resolve } from 'node:path';
import type { RunInfo } from '../protocol/engine';
import type { Handler } from './handlers-context';
import { writePngs } from './data';
import { project } from './projection';
import { readHistory, readManifest } from './runStore';
import { listEncodings } from './runStore-encodings';

export async function loadRunInfo(runDir: string): Promise<RunInfo> {
  const dir = resolve(runDir);
  const manifest = await readManifest(dir);
  return { runDir: dir, manifest, history: await readHistory(dir, manifest), encodings: await listEncodings(dir) };
}

export const handleLoadRun: Handler<'loadRun'> = async (req) => loadRunInfo(req.runDir);

export const handleProject: Handler<'project'> = async (req, ctx) =>
  project(req.points, req.dims, req.method, req.seed, ctx.signal);

/** PNG writing lives in the worker, next to sharp, so the extension host loads no native module. */
export const handleWriteImages: Handler<'writeImages'> = async (req) => ({ files: await writePngs(req.images, req.dir, req.stem) });
