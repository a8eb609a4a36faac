// Requests that read a run without its model (loadRun, project: UMAP of an encoding, writeSprite:
// thumbnails for the Embedding Projector) or need no run at all (writeDemoFolder, scanLabels).

import { resolve } from 'node:path';
import type { RunInfo, TrainingNow } from '../../protocol/engine';
import { badRequest, writingFiles, writingTo, type Handler } from './context';
import { scanFolder, writeDemoFolder } from '../data';
import { writeSprite } from '../data/sprite';
import { umap } from '../projection';
import { describeModel } from '../imported/describe';
import { EngineError } from '../../protocol/errors';
import { readHistory, readManifest, trainingOwner } from '../runStore/runStore';
import { listEncodings, readEncoding } from '../runStore/encodings';

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

/** UMAP of the points the run's encoding of the folder holds, read from the run folder. */
export const handleProject: Handler<'project'> = async (req, ctx) => {
  const encoding = await readEncoding(resolve(req.runDir), resolve(req.folder));
  if (!encoding) {
    throw new EngineError('bad-request', `The run ${req.runDir} has no encoding of ${req.folder}. Encode the folder with this run first.`);
  }
  return umap(encoding.mu, encoding.dims, req.seed, ctx.signal, (coords, epoch, epochs) =>
    ctx.emit({ type: 'layout', requestId: ctx.id, coords, epoch, epochs }),
  );
};

export const handleDescribeModel: Handler<'describeModel'> = async (req) => describeModel(resolve(req.dir), req.answers, req.write);

export const handleWriteDemoFolder: Handler<'writeDemoFolder'> = async (req) => {
  const dir = resolve(req.dir);
  return { count: await writingFiles(dir, () => writeDemoFolder(dir)) };
};

/** The labels a training on the folder would have, from its scan alone (nothing is decoded). */
export const handleScanLabels: Handler<'scanLabels'> = async (req, ctx) => {
  const folder = resolve(req.folder);
  const scan = await scanFolder(folder, { signal: ctx.signal });
  const counts = new Map<string, number>(scan.labelNames.map((n) => [n, 0]));
  let unlabelled = 0;
  for (const f of scan.files) {
    if (f.label === null) unlabelled++;
    else counts.set(f.label, (counts.get(f.label) ?? 0) + 1);
  }
  return {
    folder,
    images: scan.files.length,
    unlabelled,
    labels: scan.labelNames.map((name) => ({ name, images: counts.get(name) ?? 0 })),
  };
};

/** The sprite of a folder's images as the run reads them (size, channels), for the Projector. */
export const handleWriteSprite: Handler<'writeSprite'> = async (req, ctx) => {
  if (req.files.length === 0) throw badRequest('writeSprite: no files given.');
  const manifest = await readManifest(resolve(req.runDir));
  const path = resolve(req.path);
  const sprite = await writingTo(
    path,
    () => 'export again',
    () => writeSprite(req.files, manifest.preprocessing, path, ctx.signal),
  );
  for (const p of sprite.skipped) ctx.emit({ type: 'warning', requestId: ctx.id, file: p.file, reason: p.reason });
  return { path, ...sprite };
};
