// train and resume: load the data, build or load the model, run the training loop, and commit a
// checkpoint (history line, model, optimiser state, run.json) at every epoch end.

import { join, resolve } from 'node:path';
import { version as codeVersion } from '../../../package.json';
import type { TrainResult } from '../../protocol/engine';
import type { DatasetSource, EpochSummary, Preprocessing, RunManifest, TrainingConfig } from '../../protocol/model';
import { loadDataset } from '../data';
import { badRequest, engineInfo, writingTo, type Handler, type RequestContext } from './context';
import { buildVae, vaeFromLayers, type VaeModel } from '../model/model';
import {
  CHECKPOINTS_DIR,
  HISTORY_FILE,
  RUN_FILE,
  acquireTrainingLock,
  appendHistory,
  createRun,
  loadCheckpoint,
  normaliseHistory,
  pruneCheckpoints,
  readManifest,
  releaseTrainingLock,
  saveCheckpoint,
  writeManifest,
} from '../runStore/runStore';
import { forgetRun } from '../runStore/cache';
import { trainVae, type TrainState } from '../model/trainer';
import { limitProblem } from '../../protocol/limits';
import { trainedElsewhere } from './model';
import { EngineError } from '../../protocol/errors';
import { FilmRecorder } from './film';

/** The run being trained by this worker, if any: one training at a time. */
let active: { id: number; runDir: string } | null = null;

function claimTraining(ctx: RequestContext, runDir: string): void {
  if (active) {
    throw badRequest(
      `A training is already running in this engine (${active.runDir}); stop it or wait for it to finish before starting another.`,
    );
  }
  active = { id: ctx.id, runDir };
}

/** Checks the settings before any time is spent on the data or anything is written. */
function checkTrainingConfig(cfg: TrainingConfig): void {
  const bad = (what: string) => {
    throw badRequest(`Invalid training settings: ${what}.`);
  };
  const problem =
    limitProblem('epochs', cfg.epochs) ??
    limitProblem('batchSize', cfg.batchSize, 'batch size') ??
    limitProblem('learningRate', cfg.learningRate, 'learning rate') ??
    limitProblem('validationSplit', cfg.validationSplit, 'validation split') ??
    limitProblem('seed', cfg.seed) ??
    limitProblem('iwaeSamples', cfg.iwaeSamples ?? 0, 'IWAE samples');
  if (problem) bad(problem);
}

/** What a person does after a failed write, from the run as last committed. */
function resumeHint(m: RunManifest): string {
  return m.checkpoint
    ? `resume the run: it keeps its last good checkpoint (epoch ${m.epochsCompleted})`
    : 'resume the run (it has no checkpoint yet, so it starts afresh)';
}

function buildChecked(...args: Parameters<typeof buildVae>): VaeModel {
  try {
    return buildVae(...args);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

async function loadTrainingData(
  ctx: RequestContext,
  source: DatasetSource,
  pre: Partial<Preprocessing> | undefined,
  labelNames: string[] | undefined,
) {
  const where = source.kind === 'demo' ? 'the built-in demo set' : source.path;
  ctx.emit({ type: 'status', requestId: ctx.id, message: `Loading ${where}` });
  let last = 0;
  const data = await loadDataset(source, {
    pre,
    labelNames,
    signal: ctx.signal,
    onProblem: (p) => ctx.emit({ type: 'warning', requestId: ctx.id, file: p.file, reason: p.reason }),
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      ctx.emit({ type: 'status', requestId: ctx.id, message: `Loading ${where}`, done, total });
    },
  });
  ctx.emit({
    type: 'status',
    requestId: ctx.id,
    message:
      `Loaded ${data.count} images (${data.pre.width}×${data.pre.height}×${data.pre.channels})` +
      (data.skipped.length ? `, ${data.skipped.length} skipped` : '') +
      (data.labelNames.length ? `, labels: ${data.labelNames.join(', ')}` : ''),
  });
  return data;
}

/** Runs the loop, committing a checkpoint per epoch; marks the run failed if the loop throws. */
async function runTraining(
  ctx: RequestContext,
  runDir: string,
  start: RunManifest,
  vae: VaeModel,
  data: Awaited<ReturnType<typeof loadDataset>>,
  cfg: TrainingConfig,
  resume: TrainState | undefined,
): Promise<TrainResult> {
  // The manifest names the backend (and GPU adapter) that trained the run last.
  let manifest: RunManifest = { ...start, backend: engineInfo.backend, adapter: engineInfo.adapter };
  if (!manifest.adapter) delete manifest.adapter;
  try {
    // The film's first frame: the encoder as training (re)starts. ("Training on" comes right
    // before the first step, as the CLI's tests expect.)
    const film = await FilmRecorder.open(ctx, runDir, vae, data, data.summary.source, cfg, resume?.epochsCompleted ?? 0, () =>
      resumeHint(manifest),
    );
    ctx.emit({
      type: 'status',
      requestId: ctx.id,
      message: `Training on ${engineInfo.backend}${engineInfo.adapter ? ` (${engineInfo.adapter.description || engineInfo.adapter.vendor})` : ''}`,
    });
    const outcome = await trainVae(
      vae,
      { images: data.images, count: data.count, labels: data.labels, numLabels: data.labelNames.length, pre: data.pre },
      cfg,
      {
        onProgress: (p) => ctx.emit({ type: 'progress', requestId: ctx.id, ...p }),
        onEpoch: async (summary: EpochSummary, state: TrainState) => {
          // The history line goes first: a crash before run.json is replaced leaves a line for an
          // uncommitted epoch, which readers drop (they trust run.json's epochsCompleted).
          await writingTo(
            join(runDir, HISTORY_FILE),
            () => resumeHint(manifest),
            () => appendHistory(runDir, summary),
          );
          manifest = await writingTo(
            join(runDir, CHECKPOINTS_DIR),
            () => resumeHint(manifest),
            () =>
              saveCheckpoint(runDir, vae, state.optimizerWeights ?? [], {
                ...manifest,
                epochsCompleted: state.epochsCompleted,
                step: state.step,
                // run.json stays small: the curve lives in history.jsonl only.
                last: { ...summary, curve: undefined },
              }),
          );
          ctx.emit({ type: 'epoch', requestId: ctx.id, runDir, summary });
          // After the commit: a frame is only ever stored for an epoch whose checkpoint is.
          await film.frame(vae, state.epochsCompleted);
        },
        shouldStop: () => ctx.signal.aborted,
      },
      resume,
      { backend: engineInfo.backend, iwaeSamples: cfg.iwaeSamples ?? 0 },
    );
    // 'cancelled' whenever a stop reached the loop, even after the last epoch's steps (that epoch
    // is then complete and saved; epochsCompleted says so).
    manifest = { ...manifest, state: outcome.state, updatedAt: new Date().toISOString() };
    await writingTo(
      join(runDir, RUN_FILE),
      () => resumeHint(manifest),
      () => writeManifest(runDir, manifest),
    );
    return { runDir, state: outcome.state, manifest };
  } catch (err) {
    // The last committed checkpoint stays loadable; the manifest says what happened.
    await writeManifest(runDir, { ...manifest, state: 'failed', updatedAt: new Date().toISOString() }).catch(() => undefined);
    throw err;
  } finally {
    forgetRun(runDir);
  }
}

function disposeVae(vae: VaeModel | undefined): void {
  vae?.encoder.dispose();
  vae?.decoder.dispose();
}

export const handleTrain: Handler<'train'> = async (req, ctx) => {
  const runDir = resolve(req.runDir);
  // The run keeps its IWAE setting, so a resume estimates log p(x) as the training did.
  const training: TrainingConfig = { ...req.training, iwaeSamples: req.iwaeSamples ?? req.training.iwaeSamples ?? 0 };
  checkTrainingConfig(training);
  claimTraining(ctx, runDir);
  let vae: VaeModel | undefined;
  let locked = false;
  try {
    // Refuse an existing run before spending time on the data.
    await readManifest(runDir).then(
      () => {
        throw new EngineError('run-exists', `${runDir} already holds a run; choose another run name (or resume that run).`);
      },
      (err: EngineError) => {
        if (err.code !== 'not-a-run') throw err;
      },
    );
    const data = await loadTrainingData(ctx, req.dataset, req.preprocessing, undefined);
    vae = buildChecked(req.model, data.pre, data.labelNames.length, training.seed);
    const now = new Date().toISOString();
    const manifest: RunManifest = {
      format: 'latent-atlas-run',
      version: 1,
      name: req.name,
      createdAt: now,
      updatedAt: now,
      codeVersion,
      tfjsVersion: engineInfo.tfjsVersion,
      backend: engineInfo.backend,
      state: 'training',
      model: req.model,
      training,
      preprocessing: data.pre,
      labels: data.labelNames,
      dataset: data.summary,
      epochsCompleted: 0,
      step: 0,
      checkpoint: null,
      last: null,
    };
    await writingTo(
      join(runDir, RUN_FILE),
      () => 'train again',
      () => createRun(runDir, manifest),
    );
    await writingTo(
      runDir,
      () => resumeHint(manifest),
      () => acquireTrainingLock(runDir),
    );
    locked = true;
    return await runTraining(ctx, runDir, manifest, vae, data, training, undefined);
  } finally {
    if (locked) await releaseTrainingLock(runDir);
    disposeVae(vae);
    active = null;
  }
};

export const handleResume: Handler<'resume'> = async (req, ctx) => {
  const runDir = resolve(req.runDir);
  claimTraining(ctx, runDir);
  let vae: VaeModel | undefined;
  let locked = false;
  const warn = (reason: string) => ctx.emit({ type: 'warning', requestId: ctx.id, reason });
  try {
    let manifest = await readManifest(runDir, warn);
    if (manifest.imported) throw trainedElsewhere(manifest.name, 'train it further: train a model here with "VAE: Train" instead');
    const epochs = req.epochs ?? manifest.training.epochs;
    if (!Number.isInteger(epochs) || epochs <= manifest.epochsCompleted) {
      throw badRequest(
        `The run ${runDir} already has ${manifest.epochsCompleted} epoch(s); ask for more epochs in total (e.g. ${manifest.epochsCompleted + 5}).`,
      );
    }
    // The run's own IWAE setting unless the request changes it (0 for runs written before it was stored).
    const cfg: TrainingConfig = { ...manifest.training, epochs, iwaeSamples: req.iwaeSamples ?? manifest.training.iwaeSamples ?? 0 };
    checkTrainingConfig(cfg);
    // This worker now owns the run (refused if another live process trains it): clear leftovers
    // of an interrupted write.
    const before = manifest;
    await writingTo(
      runDir,
      () => resumeHint(before),
      () => acquireTrainingLock(runDir),
    );
    locked = true;
    await pruneCheckpoints(runDir, manifest);
    await writingTo(
      join(runDir, HISTORY_FILE),
      () => resumeHint(before),
      () => normaliseHistory(runDir, before, warn),
    );
    const source = req.dataset ?? manifest.dataset.source;
    const data = await loadTrainingData(ctx, source, manifest.preprocessing, manifest.labels);
    if (data.summary.fingerprint !== manifest.dataset.fingerprint) {
      ctx.emit({
        type: 'warning',
        requestId: ctx.id,
        reason: `The images differ from those the run was trained on (${manifest.dataset.count} then, ${data.count} now); training continues on the current ones.`,
      });
    }
    let resume: TrainState | undefined;
    if (manifest.checkpoint) {
      const saved = await loadCheckpoint(runDir, manifest, true);
      vae = vaeFromLayers(saved.encoder, saved.decoder, manifest.model, manifest.preprocessing, manifest.labels.length);
      resume = { epochsCompleted: manifest.epochsCompleted, step: manifest.step, optimizerWeights: saved.optimizer ?? undefined };
    } else {
      // Stopped before its first epoch ended: nothing to continue from, start afresh.
      vae = buildVae(manifest.model, manifest.preprocessing, manifest.labels.length, manifest.training.seed);
    }
    manifest = { ...manifest, training: cfg, state: 'training', dataset: { ...data.summary, source }, updatedAt: new Date().toISOString() };
    await writingTo(
      join(runDir, RUN_FILE),
      () => resumeHint(before),
      () => writeManifest(runDir, manifest),
    );
    return await runTraining(ctx, runDir, manifest, vae, data, cfg, resume);
  } finally {
    if (locked) await releaseTrainingLock(runDir);
    disposeVae(vae);
    active = null;
  }
};
