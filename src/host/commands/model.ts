// VAE: Load Model, VAE: Open Latent Explorer, VAE: Sample into Workspace and VAE: Export Model
// as ONNX — the commands that use a trained run (the Projector export is in projector.ts).

import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { SampleMode } from '../../protocol/engine';
import { MODEL_MANIFEST_FILE, type DescribeAnswers } from '../../protocol/importedModel';
import { requireTrust, showEngineError } from '../feedback';
import { checkSampleCount, describeRun, findRuns, sanitizeRunName, type RunSummary } from '../runs';
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

/** Every run and model of the workspace: in the run locations, in any .vae folder, and models trained elsewhere. */
export async function workspaceRuns(): Promise<RunSummary[]> {
  const [found, imported] = await Promise.all([
    vscode.workspace.findFiles('**/.vae/*/run.json', '**/node_modules/**', 500),
    vscode.workspace.findFiles(`**/${MODEL_MANIFEST_FILE}`, '**/node_modules/**', 500),
  ]);
  return findRuns(
    allRunLocations(),
    [...found, ...imported].map((u) => u.fsPath),
  );
}

export async function loadModelCommand(host: CommandHost): Promise<void> {
  const runs = await workspaceRuns();
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
    if (!existsSync(join(runDir, 'run.json')) && !existsSync(join(runDir, MODEL_MANIFEST_FILE)) && hasModelFiles(runDir)) {
      if (!(await describeModel(host, runDir))) return;
    }
  }
  await loadAndShow(host, runDir);
}

/** .onnx files, or tfjs model.json one level down: a model trained elsewhere that has no manifest yet. */
function hasModelFiles(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some(
      (e) => (e.isFile() && e.name.toLowerCase().endsWith('.onnx')) || (e.isDirectory() && existsSync(join(dir, e.name, 'model.json'))),
    );
  } catch {
    return false;
  }
}

/**
 * Writes latent-atlas-model.json for model files that have none: the engine infers what their
 * shapes tell and this asks the rest, one question at a time. False when the person gave up.
 */
async function describeModel(host: CommandHost, dir: string): Promise<boolean> {
  const answers: DescribeAnswers = {};
  const title = `Describe the model in ${basename(dir)}`;
  const pickOne = async (placeHolder: string, items: { label: string; detail?: string }[]) =>
    (await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true }))?.label;
  try {
    for (let round = 0; round < 8; round++) {
      const r = await host.session.engine().request<'describeModel'>({ type: 'describeModel', dir, answers, write: true });
      if (r.written) {
        host.log.info(`Wrote ${r.written}: ${JSON.stringify(r.manifest)}`);
        return true;
      }
      const q = r.questions[0];
      if (!q) return false;
      if (q.field === 'files') {
        const files = (q.choices ?? []).map((f) => ({ label: f }));
        const encoder = await pickOne('Which file is the encoder (image → μ, log σ²)?', files);
        if (!encoder) return false;
        const decoder = await pickOne(
          'Which file is the decoder (z → image)?',
          files.filter((f) => f.label !== encoder),
        );
        if (!decoder) return false;
        Object.assign(answers, { encoder, decoder });
      } else if (q.field === 'layout') {
        const layout = await pickOne(q.text, [
          { label: 'NCHW', detail: 'channels first (PyTorch)' },
          { label: 'NHWC', detail: 'channels last (Keras, TensorFlow)' },
        ]);
        if (!layout) return false;
        answers.layout = layout as 'NCHW' | 'NHWC';
      } else if (q.field === 'size') {
        const text = await vscode.window.showInputBox({ title, prompt: q.text, placeHolder: '28x28 1', ignoreFocusOut: true });
        const m = text && /^\s*(\d+)\s*[x×]\s*(\d+)\s+([13])\s*$/.exec(text);
        if (!m) return false;
        answers.size = { width: Number(m[1]), height: Number(m[2]), channels: Number(m[3]) as 1 | 3 };
      } else if (q.field === 'normalize') {
        const choice = await pickOne(q.text, [
          { label: '[0, 1]', detail: 'x = pixel / 255 (e.g. torchvision ToTensor alone)' },
          { label: '[-1, 1]', detail: 'x = 2 · pixel / 255 − 1 (e.g. Normalize(0.5, 0.5))' },
          { label: 'mean / std', detail: 'x = (pixel / 255 − mean) / std per channel' },
        ]);
        if (!choice) return false;
        if (choice === '[0, 1]') answers.normalize = 'none';
        else if (choice === '[-1, 1]') answers.normalize = { range: [-1, 1] };
        else {
          const text = await vscode.window.showInputBox({
            title,
            prompt: 'Mean and std per channel (of pixels in [0, 1]), as "mean ; std"',
            placeHolder: '0.485, 0.456, 0.406 ; 0.229, 0.224, 0.225',
            ignoreFocusOut: true,
          });
          const parts = text?.split(';').map((p) => p.split(',').map(Number));
          if (!parts || parts.length !== 2 || parts.flat().some((n) => !Number.isFinite(n))) return false;
          answers.normalize = { mean: parts[0]!, std: parts[1]! };
        }
      } else if (q.field === 'decoderOutput') {
        const kind = await pickOne(q.text, [
          { label: 'logits', detail: 'Bernoulli logits (trained with BCE-with-logits)' },
          { label: 'probabilities', detail: 'Bernoulli means in [0, 1] (a sigmoid at the end)' },
          { label: 'means', detail: 'Gaussian means in the input’s units (trained with MSE)' },
        ]);
        if (!kind) return false;
        answers.decoderOutput = kind as 'logits' | 'probabilities' | 'means';
      } else {
        void vscode.window.showErrorMessage(`${dir}: ${q.text}`);
        return false;
      }
    }
    return false;
  } catch (e) {
    void showEngineError(e, host.log, `Describing the model in ${dir}`);
    return false;
  }
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
