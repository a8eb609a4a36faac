// VAE: Train and VAE: Stop Training. Asks for the data (when not given by the explorer menu),
// warns when its sub-folders will not be classes, and asks a run name; everything else comes
// from the settings. Progress notification with Cancel, live
// ELBO in the Latent Explorer, and the finished (or cancelled, checkpointed) run becomes active.

import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EngineEvent, TrainResult } from '../../protocol/engine';
import type { DatasetSource } from '../../protocol/model';
import { labelWarning, type LabelScan } from '../../protocol/labels';
import { epochCountText, headline, headlineText } from '../../protocol/trainingFigures';
import { errorText, requireTrust, showEngineError } from '../feedback';
import { encodeFolder } from './encode';
import { checkRunName, defaultRunName, takenNames } from '../runs';
import { currentSettings, runLocation } from '../workspacePaths';
import type { CommandHost } from './host';

interface DataChoice extends vscode.QuickPickItem {
  source: DatasetSource | 'browse';
}

async function pickData(): Promise<DatasetSource | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const items: DataChoice[] = [
    ...folders.map((f) => ({
      label: `$(folder) ${f.name}`,
      description: f.uri.fsPath,
      source: { kind: 'folder', path: f.uri.fsPath } as DatasetSource,
    })),
    { label: '$(beaker) Built-in demo set', description: 'procedurally drawn shapes, 28×28, no download', source: { kind: 'demo' } },
    { label: '$(folder-opened) Choose a folder…', source: 'browse' },
  ];
  const choice = await vscode.window.showQuickPick(items, {
    title: 'VAE: Train — which images?',
    placeHolder: 'An image folder (sub-folders are labels) or the demo set',
  });
  if (!choice) return undefined;
  if (choice.source !== 'browse') return choice.source;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Train on this folder',
    defaultUri: folders[0]?.uri,
  });
  return picked?.[0] ? { kind: 'folder', path: picked[0].fsPath } : undefined;
}

/**
 * Says, before training, when the folder's sub-folders will not be classes (one label for
 * everything, a split, a label of one image) and offers the folder below; undefined: cancelled.
 */
async function checkLabels(host: CommandHost, source: DatasetSource): Promise<DatasetSource | undefined> {
  if (source.kind !== 'folder') return source;
  let scan: LabelScan;
  try {
    scan = await host.session.engine().request<'scanLabels'>({ type: 'scanLabels', folder: source.path });
  } catch (e) {
    // The training itself says what is wrong with the folder, in its own words.
    host.log.warn(`Could not read the labels of ${source.path}: ${errorText(e)}`);
    return source;
  }
  const warning = labelWarning(scan);
  if (!warning) return source;
  host.log.warn(warning.message);
  const below = warning.below !== undefined ? `Train on "${warning.below}"` : undefined;
  const choice = await vscode.window.showWarningMessage(warning.message, { modal: true }, ...(below ? [below] : []), 'Train Anyway');
  if (choice === 'Train Anyway') return source;
  if (choice === undefined || warning.below === undefined) return undefined;
  return checkLabels(host, { kind: 'folder', path: join(source.path, warning.below) });
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? ` · ${m}m ${s}s left` : ` · ${s}s left`;
}

/** For automation (tests, other extensions): `vae.train(folderUri, { name })` skips the name prompt. */
export interface TrainOptions {
  name?: string;
}

export async function trainCommand(host: CommandHost, uri?: vscode.Uri, options: TrainOptions = {}): Promise<void> {
  const { session, log } = host;
  if (!requireTrust('Training')) return;
  if (session.training) {
    const choice = await vscode.window.showWarningMessage(
      `"${session.training.name}" is training now; one run trains at a time.`,
      'Stop Training',
      'Show Progress',
    );
    if (choice === 'Stop Training') await vscode.commands.executeCommand('vae.stopTraining');
    else if (choice === 'Show Progress') host.showExplorer();
    return;
  }
  const picked: DatasetSource | undefined = uri ? { kind: 'folder', path: uri.fsPath } : await pickData();
  const source = picked && (await checkLabels(host, picked));
  if (!source) return;
  const root = runLocation(source.kind === 'folder' ? source.path : undefined);
  if (!root) {
    void vscode.window.showErrorMessage(
      'Open a folder in VS Code first: runs are saved in the workspace (setting "vae.runFolder", default .vae).',
    );
    return;
  }
  const taken = await takenNames(root);
  const given = options.name !== undefined ? checkRunName(options.name, taken) : undefined;
  if (given) {
    void vscode.window.showErrorMessage(`Run name "${options.name}": ${given}`);
    return;
  }
  const name =
    options.name ??
    (await vscode.window.showInputBox({
      title: 'VAE: Train — run name',
      prompt: `The run is saved in ${vscode.workspace.asRelativePath(root)}/<name>/. Model and training settings come from "vae.*" settings.`,
      value: defaultRunName(source.kind === 'folder' ? source.path : null, taken),
      validateInput: (v) => checkRunName(v, taken),
    }));
  if (name === undefined) return;
  const runName = name.trim();
  const runDir = join(root, runName);
  const settings = currentSettings();
  for (const p of settings.problems) log.warn(p);

  log.info(`Training "${runName}" on ${source.kind === 'demo' ? 'the built-in demo set' : source.path} → ${runDir}`);
  log.info(`Model ${JSON.stringify(settings.model)}; training ${JSON.stringify(settings.training)}`);
  const engine = session.engine();
  const encodesAfter = settings.encodeAfterTraining && source.kind === 'folder';
  let skipped = 0;
  let lastPercent = 0;
  let lastStatus = '';
  let trained = false;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Training "${runName}"`, cancellable: true },
    async (progress, token) => {
      const onEvent = (e: EngineEvent) => {
        session.trainingEvent(e);
        if (e.type === 'warning') {
          skipped++;
          log.warn(e.file ? `Skipped ${e.file}: ${e.reason}` : e.reason);
        } else if (e.type === 'status') {
          // Counted status lines (done/total) repeat one message; log each message once.
          if (e.message !== lastStatus) log.info(e.message);
          lastStatus = e.message;
          progress.report({ message: e.total ? `${e.message} (${e.done ?? 0}/${e.total})` : e.message });
        } else if (e.type === 'progress') {
          const fraction = Math.min(1, Math.max(0, (e.epoch - 1 + e.stepInEpoch / Math.max(1, e.stepsPerEpoch)) / Math.max(1, e.epochs)));
          const percent = fraction * 100;
          // The figure the status bar and the ELBO panel show now (the series has this event already).
          const figure = session.series.headline();
          progress.report({
            increment: Math.max(0, percent - lastPercent),
            message: `epoch ${e.epoch}/${e.epochs}${figure ? ` · ${headlineText(figure)}` : ''} · ${Math.round(e.imagesPerSecond)} img/s${formatEta(e.eta)}`,
          });
          lastPercent = Math.max(lastPercent, percent);
        } else if (e.type === 'epoch') {
          const s = e.summary;
          const v = s.validation ? `, validation −ELBO ${(-s.validation.elbo).toFixed(2)}` : '';
          log.info(
            `Epoch ${s.epoch}: −ELBO ${(-s.train.elbo).toFixed(2)} (reconstruction ${s.train.reconstruction.toFixed(2)}, KL ${s.train.kl.toFixed(2)})${v}, ${s.activeUnits} active units, ${Math.round(s.imagesPerSecond)} img/s on ${s.backend}`,
          );
        }
      };
      const { id, result } = engine.begin<'train'>(
        {
          type: 'train',
          runDir,
          name: runName,
          dataset: source,
          model: settings.model,
          training: settings.training,
          preprocessing: settings.preprocessing,
          iwaeSamples: settings.iwaeSamples,
        },
        onEvent,
      );
      session.beginTraining({ requestId: id, runDir, name: runName, stopRequested: false }, settings.training.epochs);
      host.showExplorer(true);
      token.onCancellationRequested(() => void vscode.commands.executeCommand('vae.stopTraining'));
      let outcome: TrainResult;
      try {
        outcome = await result;
      } catch (e) {
        session.endTraining('failed', e instanceof Error ? e.message : String(e));
        void showEngineError(e, log, `Training "${runName}"`);
        return;
      }
      session.endTraining(outcome.state);
      const m = outcome.manifest;
      const skippedNote = skipped ? ` ${skipped} file${skipped === 1 ? ' was' : 's were'} skipped (see the log).` : '';
      if (!m.checkpoint) {
        log.warn(`Training "${runName}" was cancelled before its first epoch ended; there is no checkpoint to load.`);
        void vscode.window.showWarningMessage(
          `Training "${runName}" stopped before its first epoch ended, so there is no model to load.${skippedNote}`,
        );
        return;
      }
      try {
        await host.loadRun(outcome.runDir);
      } catch (e) {
        void showEngineError(e, log, `Loading "${runName}"`);
        return;
      }
      trained = outcome.state === 'complete';
      const last = headline(false, undefined, m.last);
      const figures = last ? ` ${headlineText(last)}.` : '';
      const counted = epochCountText({ state: outcome.state, epoch: m.epochsCompleted, epochs: m.training.epochs });
      const what =
        outcome.state === 'complete'
          ? `finished after ${m.epochsCompleted} epoch${m.epochsCompleted === 1 ? '' : 's'}`
          : `${counted}; the checkpoint of epoch ${m.epochsCompleted} is kept and loaded`;
      log.info(`Training "${runName}" ${what}.${figures}`);
      // The training folder is encoded next by itself (below): offer the others, and say so.
      const autoEncode = trained && encodesAfter;
      const encodeAction = autoEncode ? 'Encode Another Folder' : 'Encode a Folder';
      const next = autoEncode ? ' Its folder is encoded next and shown in the Latent Explorer.' : '';
      void vscode.window
        .showInformationMessage(`Training "${runName}" ${what}.${figures}${next}${skippedNote}`, encodeAction, 'Sample into Workspace')
        .then((choice) => {
          if (choice === encodeAction) void vscode.commands.executeCommand('vae.encodeFolder');
          else if (choice === 'Sample into Workspace') void vscode.commands.executeCommand('vae.sample');
        });
    },
  );
  // The first thing a person wants of a new model is the latent space of the data it learnt:
  // encode the training folder (its images are in the uint8 cache already, so this is quick).
  if (trained && encodesAfter && source.kind === 'folder' && session.activeModel?.runDir === runDir && !session.training) {
    await encodeFolder(host, source.path, true);
  }
}

export async function stopTrainingCommand(host: CommandHost): Promise<void> {
  const running = host.session.training;
  if (!running) {
    void vscode.window.showInformationMessage('No training is running.');
    return;
  }
  if (running.stopRequested) return;
  running.stopRequested = true;
  host.log.info(`Stopping "${running.name}" at the next step; the last complete epoch stays saved.`);
  host.session.series.message('Stopping at the next step…');
  try {
    await host.session.engine().cancel(running.requestId);
  } catch (e) {
    void showEngineError(e, host.log, 'Stopping training');
  }
}
