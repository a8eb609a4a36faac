// Requests that read a run without its model (loadRun), need no run at all (project), or write
// image files (writeImages, writeDemoFolder).

import { resolve } from 'node:path';
import type { RunInfo, TrainingNow } from '../../protocol/engine';
import { checkStem, writingFiles, type Handler } from './context';
import { writeDemoFolder, writePngs } from '../data';
import { project } from '../projection';
import { readHistory, readManifest, trainingOwner } from '../runStore/runStore';
import { listEncodings } from '../runStore/encodings';

/** `warn` hears of damage read past: a missing checkpoint fallen back from, skipped history lines. */
export async function loadRunInfo(runDir: string, warn?: (message: string) => void): Promise<RunInfo> {
  const dir = resolve(runDir);
  const manifest = await readManifest(dir, warn);
  const info: RunInfo = { runDir: dir, manifest, history: await readHistory(dir, manifest, warn), encodings: await listEncodings(dir) };
  if (manifest.state === 'training') info.training = await trainingNow(dir);
  return info;
}

/** Whether a live process (this worker included) holds the run's training lock. */
async function trainingNow(runDir: string): Promise<TrainingNow> {
  const owner = await trainingOwner(runDir);
  return owner ? { state: 'running', pid: owner.pid, host: owner.host, since: owner.since } : { state: 'interrupted' };
}

export const handleLoadRun: Handler<'loadRun'> = async (req, ctx) =>
  loadRunInfo(req.runDir, (reason) => ctx.emit({ type: 'warning', requestId: ctx.id, reason }));

export const handleProject: Handler<'project'> = async (req, ctx) => project(req.points, req.dims, req.method, req.seed, ctx.signal);

/** PNG writing lives in the worker, next to sharp, so the extension host loads no native module. */
export const handleWriteImages: Handler<'writeImages'> = async (req) => {
  checkStem(req.stem);
  return { files: await writingFiles(req.dir, () => writePngs(req.images, req.dir, req.stem)) };
};

export const handleWriteDemoFolder: Handler<'writeDemoFolder'> = async (req) => {
  const dir = resolve(req.dir);
  return { count: await writingFiles(dir, () => writeDemoFolder(dir)) };
};
