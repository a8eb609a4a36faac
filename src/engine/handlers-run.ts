// Requests that read a run without its model (loadRun) or need no run at all (project).

import { resolve } from 'node:path';
import type { RunInfo } from '../protocol/engine';
import type { Handler } from './handlers-context';
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
