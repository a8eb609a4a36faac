// VAE: Load Model, VAE: Open Latent Explorer, VAE: Sample into Workspace, VAE: Export for
// Embedding Projector and VAE: Export Model as ONNX — the commands that use a trained run.

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { SampleMode } from '../../protocol/engine';
import { MODEL_MANIFEST_FILE } from '../../protocol/importedModel';
import { requireTrust, showEngineError } from '../feedback';
import { writeProjectorFiles } from '../projectorExport';
import { checkSampleCount, describeRun, findRuns, sanitizeRunName } from '../runs';
import { allRunLocations, samplesDir } from '../workspacePaths';
import { encodeFolder } from './encode';
import type { CommandHost } from './host';

async function loadAndShow(host: CommandHost, runDir: string): Promise<void> {
  try {
    const info = await host.loadRun(runDir);
    host.showExplorer(true);
    const folder = host.session.rememberedFolder;
    // Show the points again when the model was used on a folder that still exists.
    if (folder && info.encodings.includes(folder) && existsSync(folder) && vscode.workspace.isTrusted)
      await encodeFolder(host, folder, true);
    const m = info.manifest;
    const what = m.imported ? `${m.imported.format === 'onnx' ? 'ONNX' : 'tfjs'} model trained elsewhere` : `${m.epochsCompleted} epochs`;
    void vscode.window.showInformationMessage(`Loaded "${m.name}" (${what}, latent size ${m.model.latentSize}).`);
  } catch (e) {
    void showEngineError(e, host.log, `Loading ${runDir}`);
  }
}

export async function loadModelCommand(host: CommandHost): Promise<void> {
  const [found, imported] = await Promise.all([
    vscode.workspace.findFiles('**/.vae/*/run.json', '**/node_modules/**', 500),
    vscode.workspace.findFiles(`**/${MODEL_MANIFEST_FILE}`, '**/node_modules/**', 500),
  ]);
  const runs = await findRuns(
    allRunLocations(),
    [...found, ...imported].map((u) => u.fsPath),
  );
  const active = host.session.activeModel?.runDir;
  const items: (vscode.QuickPickItem & { runDir?: string })[] = runs.map((r) => ({
    label: `${r.runDir === active ? '$(check)' : '$(circuit-board)'} ${r.name}`,
    description: vscode.workspace.asRelativePath(r.runDir),
    detail: describeRun(r) + (r.loadable ? '' : ' — no checkpoint yet'),
    runDir: r.runDir,
  }));
  items.push({
    label: '$(folder-opened) Browse for a run or model folder…',
    detail: `A run trained here (run.json) or a model trained elsewhere (${MODEL_MANIFEST_FILE} beside its ONNX or tfjs files)`,
  });
  const choice = await vscode.window.showQuickPick(items, {
    title: 'VAE: Load Model',
    placeHolder: runs.length ? 'Pick a run folder' : 'No runs found in this workspace — browse for a run folder',
    matchOnDescription: true,
  });
  if (!choice) return;
  let runDir = choice.runDir;
  if (!runDir) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Load this model',
      title: `A run folder holds run.json; a model trained elsewhere, ${MODEL_MANIFEST_FILE}`,
    });
    runDir = picked?.[0]?.fsPath;
    if (!runDir) return;
  }
  await loadAndShow(host, runDir);
}

export async function loadRunFolderCommand(host: CommandHost, uri?: vscode.Uri): Promise<void> {
  if (!uri) return loadModelCommand(host);
  await loadAndShow(host, uri.fsPath);
}

export async function openExplorerCommand(host: CommandHost): Promise<void> {
  host.showExplorer();
  if (!(await host.model(null)) && !host.session.training) {
    void vscode.window
      .showInformationMessage('The Latent Explorer shows a model once one is trained or loaded.', 'Train a Model', 'Load a Model')
      .then((c) => c && vscode.commands.executeCommand(c === 'Train a Model' ? 'vae.train' : 'vae.loadModel'));
  }
}

/** For automation: `vae.sample(folderUri | undefined, { count })` skips the count prompt. */
export interface SampleOptions {
  count?: number;
}

export async function sampleCommand(host: CommandHost, uri?: vscode.Uri, options: SampleOptions = {}): Promise<void> {
  if (!requireTrust('Writing samples')) return;
  const model = await host.model('Sampling');
  if (!model) return;
  const m = model.manifest;
  const countText =
    options.count !== undefined
      ? String(options.count)
      : await vscode.window.showInputBox({
          title: `VAE: Sample into Workspace — "${m.name}"`,
          prompt: 'How many images to decode and write as PNG files?',
          value: '16',
          validateInput: (v) => checkSampleCount(v),
        });
  if (countText === undefined) return;
  const badCount = checkSampleCount(countText);
  if (badCount) {
    void vscode.window.showErrorMessage(`Sample count ${countText}: ${badCount}`);
    return;
  }
  const count = Number(countText.trim());
  let mode: SampleMode = { kind: 'prior' };
  let stem = 'sample';
  if (m.model.conditional && m.labels.length) {
    const picks = [
      { label: 'From the prior N(0, I)', label2: undefined as string | undefined },
      ...m.labels.map((l) => ({ label: `Label: ${l}`, label2: l })),
    ];
    const choice = await vscode.window.showQuickPick(picks, { title: 'Sample from the prior or for a label?' });
    if (!choice) return;
    if (choice.label2 !== undefined) {
      mode = { kind: 'label', label: choice.label2 };
      stem = sanitizeRunName(choice.label2);
    }
  }
  const dir = uri?.fsPath ?? samplesDir(m.name, model.runDir);
  if (!dir) {
    void vscode.window.showErrorMessage('Open a folder in VS Code first: samples are written into the workspace.');
    return;
  }
  try {
    const files = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Sampling ${count} images from "${m.name}"` },
      async () => {
        // The worker samples and writes the files: the pixels never travel through the host.
        const seed = Math.floor(Math.random() * 2 ** 31);
        return (
          await host.session.engine().request<'writeSamples'>({ type: 'writeSamples', runDir: model.runDir, count, mode, seed, dir, stem })
        ).files;
      },
    );
    host.log.info(`Wrote ${files.length} samples of "${m.name}" to ${dir}: ${files.map((f) => basename(f)).join(', ')}`);
    if (files[0]) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(files[0]));
    void vscode.window.showInformationMessage(`Wrote ${files.length} PNG files to ${vscode.workspace.asRelativePath(dir)}.`);
  } catch (e) {
    void showEngineError(e, host.log, 'Sampling');
  }
}

export async function exportProjectorCommand(host: CommandHost): Promise<void> {
  if (!requireTrust('Exporting')) return;
  const model = await host.model('Exporting for the Embedding Projector');
  if (!model) return;
  let encoding = host.session.shownEncoding;
  if (!encoding || encoding.runDir !== model.runDir) {
    const choice = await vscode.window.showWarningMessage(
      `Nothing encoded with "${model.manifest.name}" yet. Encode a folder first.`,
      'Encode a Folder',
    );
    if (choice) await vscode.commands.executeCommand('vae.encodeFolder');
    encoding = host.session.shownEncoding;
    if (!encoding || encoding.runDir !== model.runDir) return;
  }
  const dir = join(model.runDir, 'projector', sanitizeRunName(basename(encoding.folder)));
  try {
    const [vectors] = await writeProjectorFiles(encoding, dir);
    host.log.info(`Wrote ${encoding.files.length} vectors of ${encoding.dims} dimensions to ${dir} (vectors.tsv, metadata.tsv).`);
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(vectors));
    void vscode.window.showInformationMessage(
      `Wrote vectors.tsv and metadata.tsv (${encoding.files.length} points) to ${vscode.workspace.asRelativePath(dir)}. Load them at projector.tensorflow.org or in TensorBoard's projector.`,
    );
  } catch (e) {
    void showEngineError(e, host.log, 'Exporting');
  }
}

export async function exportOnnxCommand(host: CommandHost): Promise<void> {
  if (!requireTrust('Exporting')) return;
  const model = await host.model('Exporting to ONNX');
  if (!model) return;
  const m = model.manifest;
  if (m.imported) {
    void vscode.window.showInformationMessage(`"${m.name}" was trained elsewhere: its model files are already in ${model.runDir}.`);
    return;
  }
  const dir = join(model.runDir, 'onnx');
  try {
    const files = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting "${m.name}" to ONNX` },
      async () => (await host.session.engine().request<'exportOnnx'>({ type: 'exportOnnx', runDir: model.runDir, dir })).files,
    );
    host.log.info(`Exported "${m.name}" to ONNX: ${files.join(', ')}`);
    if (files[0]) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(files[0]));
    void vscode.window.showInformationMessage(
      `Wrote ${files.map((f) => basename(f)).join(', ')} to ${vscode.workspace.asRelativePath(dir)}. Load them with ONNX Runtime, or here with "VAE: Load Model".`,
    );
  } catch (e) {
    void showEngineError(e, host.log, 'Exporting to ONNX');
  }
}
