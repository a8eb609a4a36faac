// End to end in a real VS Code (code-server + Chromium): the packaged extension trains from the
// palette, encodes from the explorer context menu, samples into the workspace, survives a window
// reload and leaves a loadable run when training is cancelled. One VS Code for the whole file.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { RunManifest } from '../../src/protocol/model';
import {
  ensurePackaged,
  explorerContextMenu,
  explorerFrame,
  extensionLog,
  pick,
  quickInput,
  runCommand,
  startVsCode,
  waitFor,
  waitForNotification,
  waitForWorkbench,
  type VsCode,
} from './codeServer';
import { writeBrokenPng, writeFashionMnist } from './fixtures';

let vs: VsCode;
let workspace = '';
let root = '';
const WS_NAME = 'fashion';
const readManifest = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunManifest;
const pngsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.png')) : []);

before(async () => {
  ensurePackaged();
  root = await mkdtemp(join(tmpdir(), 'latent-atlas-ws-'));
  workspace = join(root, WS_NAME);
  const written = await writeFashionMnist(workspace, 300);
  assert.equal(written, 300);
  await writeBrokenPng(join(workspace, 'Trouser', 'broken.png'));
  vs = await startVsCode({ workspace, name: 'main', settings: { 'vae.epochs': 4, 'vae.batchSize': 16 } });
});

// The state at the end of every test, to look at (and to see why one failed).
afterEach(async (t) => {
  await vs?.shot(`end-${t.name.replace(/\W+/g, '-').slice(0, 60)}`);
});

after(async () => {
  await vs?.stop();
  await rm(root, { recursive: true, force: true });
});

/** The text of one figure of the ELBO panel ('' while the webview is not there yet). */
async function figure(name: string, timeout = 5_000): Promise<string> {
  return (
    (await explorerFrame(vs.page)
      .locator(`[data-figure="${name}"] dd`)
      .first()
      .textContent({ timeout })
      .catch(() => null)) ?? ''
  );
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Waits until the extension's output channel log matches `pattern`. */
async function logMatches(pattern: RegExp): Promise<void> {
  await waitFor(`the "Latent Atlas" log to match ${pattern}`, () => pattern.test(extensionLog(vs.userDataDir)), 15_000);
}

const parseNats = (text: string) => Number.parseFloat(text.replace(/[^\d.eE+-]/g, ''));

async function trainFromPalette(expectName: string): Promise<void> {
  const { page } = vs;
  const started = new RegExp(`Training "${escapeRegExp(expectName)}" on `, 'g');
  const startsLogged = () => extensionLog(vs.userDataDir).match(started)?.length ?? 0;
  const before = startsLogged();
  // Now and then a quick pick or the name box closes as it opens (focus moving in the
  // workbench), which cancels the command silently: ask again until the training is logged.
  for (let attempt = 1; ; attempt++) {
    const last = attempt === 3;
    await runCommand(page, 'VAE: Train');
    await quickInput(page, 'which images');
    const picked = await pick(page, WS_NAME, 10_000).then(
      () => true,
      (e) => (last ? Promise.reject(e) : false),
    );
    if (!picked) continue;
    const name = await quickInput(page, 'run name');
    await waitFor('the default run name', async () => (await name.inputValue()) === expectName, 10_000);
    await name.press('Enter');
    const ok = await waitFor(`"Training ${expectName}" in the log`, async () => startsLogged() > before, 20_000).then(
      () => true,
      (e) => (last ? Promise.reject(e) : false),
    );
    if (ok) return;
  }
}

test('palette "VAE: Train" on an image folder produces a loadable run while the ELBO panel shows falling figures', async () => {
  const { page } = vs;
  // Open the (empty) explorer first, so its webview is loaded when the first steps arrive.
  await runCommand(page, 'VAE: Open Latent Explorer');
  await waitForNotification(page, /shows a model once one is trained or loaded/);
  await waitFor('the explorer webview', async () => (await figure('neg-elbo', 1_000)) !== '', 60_000);
  await explorerFrame(page).locator('vscode-tab-header', { hasText: 'Training' }).click();
  await trainFromPalette(WS_NAME);
  // Watch the live −ELBO in the webview while training runs.
  const seen: number[] = [];
  const runDir = join(workspace, '.vae', WS_NAME);
  await waitFor(
    'training to finish',
    async () => {
      const value = parseNats(await figure('neg-elbo', 500));
      if (Number.isFinite(value) && value !== seen.at(-1)) seen.push(value);
      if (seen.length === 3) await vs.shot('train-running');
      return existsSync(join(runDir, 'run.json')) && readManifest(runDir).state === 'complete';
    },
    240_000,
  );
  await waitForNotification(page, /Training "fashion" finished/);
  // The panel ends on the last figures of the run.
  const negElbo = parseNats(await figure('neg-elbo'));
  if (negElbo !== seen.at(-1)) seen.push(negElbo);
  await vs.shot('train-finished');
  const m = readManifest(runDir);
  assert.equal(m.epochsCompleted, 4);
  assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)), `checkpoint ${m.checkpoint} exists`);
  assert.equal(m.dataset.count, 300);
  assert.ok(seen.length >= 2, `the ELBO panel showed changing −ELBO figures: ${seen.join(', ')}`);
  assert.ok(seen.at(-1)! < seen[0], `−ELBO fell: ${seen.join(' → ')}`);
  await logMatches(/Skipped .*broken\.png: /);
  // A finished run shows the latent space of the folder it was trained on.
  const info = explorerFrame(page).locator('.info').first();
  await waitFor(
    "the training folder's points",
    async () => /\b300 points/.test((await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? ''),
    60_000,
  );
  await logMatches(new RegExp(`Encoded ${escapeRegExp(workspace)}: 300 images`));
  await vs.shot('train-encoded');
});

test('right-click a folder → "Encode Image Folder" shows one point per valid image and names the broken one in the log', async () => {
  const { page } = vs;
  const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
  // The explorer tree refreshes as run files appear, which can close a context menu that just
  // opened: try again when the command shows no sign of running.
  for (let attempt = 1; ; attempt++) {
    await explorerContextMenu(page, 'Trouser', 'Encode Image Folder');
    const started = await waitForNotification(page, /Encod(ing|ed) /, 5_000).then(
      () => true,
      () => false,
    );
    if (started) break;
    if (attempt === 3) throw new Error('"Encode Image Folder" from the explorer context menu showed no notification, three times.');
  }
  await waitForNotification(page, new RegExp(`Encoded ${valid} images from`));
  const info = explorerFrame(page).locator('.toolbar .info, .info').first();
  const text = await waitFor('the points count in the explorer', async () => {
    const t = (await info.textContent().catch(() => '')) ?? '';
    return /[\d,]+ points/.test(t) ? t : undefined;
  });
  await vs.shot('encoded');
  assert.equal(Number(/([\d,]+) points/.exec(text)![1].replace(/,/g, '')), valid);
  // "Trouser" is one of the run's classes, so its points carry that label in the legend.
  const legend = await explorerFrame(page).locator('.legend').first().textContent({ timeout: 5_000 });
  assert.match(legend ?? '', new RegExp(`Trouser\\s*${valid}`), `legend: ${legend}`);
  await logMatches(new RegExp(`Skipped ${escapeRegExp(join(workspace, 'Trouser', 'broken.png'))}: `));
  await logMatches(new RegExp(`Encoded ${escapeRegExp(join(workspace, 'Trouser'))}: ${valid} images`));
});

test('encoding a folder without images says so and names what it found', async () => {
  const { page } = vs;
  await mkdir(join(workspace, 'notes'), { recursive: true });
  await writeFile(join(workspace, 'notes', 'readme.txt'), 'not an image');
  await writeFile(join(workspace, 'notes', 'table.csv'), 'a,b\n1,2\n');
  await waitFor(
    'the new folder in the explorer',
    () => page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'notes' }).count(),
    15_000,
  );
  for (let attempt = 1; ; attempt++) {
    await explorerContextMenu(page, 'notes', 'Encode Image Folder');
    const text = await waitForNotification(page, /No (usable )?images/, 10_000).catch((e) =>
      attempt === 3 ? Promise.reject(e) : undefined,
    );
    if (!text) continue;
    assert.match(text, /notes/);
    assert.match(text, /\.txt|\.csv|2 files/);
    break;
  }
  await vs.shot('no-images');
});

test('"VAE: Sample into Workspace" writes the requested number of PNG files', async () => {
  const { page } = vs;
  await runCommand(page, 'VAE: Sample into Workspace');
  const count = await quickInput(page, 'Sample into Workspace');
  await count.fill('5');
  await count.press('Enter');
  await waitForNotification(page, /Wrote 5 PNG files/);
  await vs.shot('sampled');
  const files = pngsIn(join(workspace, 'samples', WS_NAME));
  assert.deepEqual(files.sort(), ['sample-001.png', 'sample-002.png', 'sample-003.png', 'sample-004.png', 'sample-005.png']);
  for (const f of files)
    assert.ok(
      readFileSync(join(workspace, 'samples', WS_NAME, f))
        .subarray(1, 4)
        .toString() === 'PNG',
    );
});

test('"VAE: Export for Embedding Projector" writes vectors.tsv and metadata.tsv of the encoded folder', async () => {
  const { page } = vs;
  const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
  await runCommand(page, 'VAE: Export for Embedding Projector');
  await waitForNotification(page, /Wrote vectors\.tsv and metadata\.tsv/);
  const dir = join(workspace, '.vae', WS_NAME, 'projector', 'Trouser');
  const vectors = readFileSync(join(dir, 'vectors.tsv'), 'utf8').trimEnd().split('\n');
  const metadata = readFileSync(join(dir, 'metadata.tsv'), 'utf8').trimEnd().split('\n');
  assert.equal(vectors.length, valid);
  assert.ok(vectors.every((row) => row.split('\t').length === 2 && row.split('\t').every((v) => Number.isFinite(Number(v)))));
  assert.equal(metadata[0], 'file\tlabel');
  assert.equal(metadata.length, valid + 1);
});

test('the Latent Explorer survives "Developer: Reload Window" with its model and points', async () => {
  const { page } = vs;
  const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
  await runCommand(page, 'Developer: Reload Window');
  await page.waitForTimeout(2_000);
  await waitForWorkbench(page);
  const info = explorerFrame(page).locator('.info').first();
  const text = await waitFor(
    'the restored explorer to show its points',
    async () => {
      const t = (await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? '';
      return /[\d,]+ points/.test(t) ? t : undefined;
    },
    90_000,
  );
  await vs.shot('reloaded');
  assert.equal(Number(/([\d,]+) points/.exec(text)![1].replace(/,/g, '')), valid);
  const epochs = await figure('epoch');
  assert.match(epochs, /4/, 'the restored ELBO panel shows the run history');
  // The per-step curve comes back too (from history.jsonl), not only the epoch marks.
  const curvePoints = Number(
    await explorerFrame(page).locator('svg.chart-negElbo path.series').getAttribute('data-points', { timeout: 5_000 }),
  );
  assert.ok(curvePoints >= 4, `the restored −ELBO chart draws ${curvePoints} per-step points`);
});

test('forcing the GPU backend where tfjs-node-gpu is missing says how to install it, and the extension keeps working', async () => {
  const { page } = vs;
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'vae.backend': 'tensorflow-gpu' }));
  await logMatches(/Settings changed: .*vae\.backend = "tensorflow-gpu"/);
  await trainFromPalette(`${WS_NAME}-2`);
  const text = await waitForNotification(page, /tfjs-node-gpu/, 60_000);
  await vs.shot('gpu-missing');
  assert.match(text, /npm install (-g )?@tensorflow\/tfjs-node-gpu/);
  assert.match(text, /vae\.nativeModulesPath/);
  assert.ok(!existsSync(join(workspace, '.vae', `${WS_NAME}-2`, 'run.json')), 'no run was started');
});

test('cancelling mid-training keeps the last complete epoch as a loadable run', async () => {
  const { page } = vs;
  // Workspace settings (watched with the workspace; code-server does not notice edits of the
  // user settings file made behind its back) make this run long enough to stop in the middle.
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'vae.epochs': 500 }));
  await logMatches(/Settings changed: .*vae\.epochs = 500/);
  await trainFromPalette(`${WS_NAME}-2`);
  const runDir = join(workspace, '.vae', `${WS_NAME}-2`);
  await waitFor('a first checkpoint', () => existsSync(join(runDir, 'run.json')) && readManifest(runDir).epochsCompleted >= 1, 180_000);
  const cancel = page
    .locator('.notifications-toasts .notification-list-item', { hasText: 'Training "fashion-2"' })
    .locator('a.monaco-button, .monaco-button', { hasText: 'Cancel' })
    .first();
  await cancel.click();
  const note = await waitForNotification(page, /Training "fashion-2" was stopped; the checkpoint of epoch \d+ is kept and loaded/);
  await vs.shot('cancelled');
  const m = readManifest(runDir);
  assert.equal(m.state, 'cancelled');
  assert.ok(m.epochsCompleted >= 1 && m.epochsCompleted < 500);
  assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)));
  assert.match(note, new RegExp(`epoch ${m.epochsCompleted} `));
  // The log file is written asynchronously: wait for the lines rather than read it once.
  await logMatches(/training \{"epochs":500,/);
  await logMatches(/Active model: fashion-2 /);
});

test('"VAE: Load Model" lists the runs of the workspace and makes the picked one active', async () => {
  const { page } = vs;
  await runCommand(page, 'VAE: Load Model');
  await quickInput(page, 'Load Model');
  const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
  assert.ok(
    rows.some((r) => r.includes(`${WS_NAME}-2`) && r.includes('cancelled')),
    `the cancelled run is listed: ${rows.join(' | ')}`,
  );
  await pick(page, 'complete, 4/4 epochs');
  await waitForNotification(page, /Loaded "fashion" \(4 epochs, latent size 2\)/);
  await logMatches(/Active model: fashion \(.*\), 4 epochs, state complete\.[\s\S]*Active model: fashion \(/);
});

test('with "vae.backend" set to webgpu, training runs on the GPU adapter there is and every place names it', async () => {
  const { page } = vs;
  // No GPU here: Dawn's adapter is Mesa's llvmpipe (software), which a forced webgpu accepts.
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'vae.backend': 'webgpu', 'vae.epochs': 1 }));
  await logMatches(/Settings changed: .*vae\.backend = "webgpu"/);
  await trainFromPalette(`${WS_NAME}-3`);
  const runDir = join(workspace, '.vae', `${WS_NAME}-3`);
  await waitFor(
    'the webgpu training to finish',
    () => existsSync(join(runDir, 'run.json')) && readManifest(runDir).state === 'complete',
    240_000,
  );
  const m = readManifest(runDir);
  assert.equal(m.backend, 'webgpu');
  assert.ok(m.adapter, 'run.json names the adapter');
  assert.equal(m.adapter.software, true);
  assert.match(m.adapter.description, /llvmpipe/);
  await logMatches(/Engine worker ready: backend webgpu on llvmpipe.*\(software adapter\)/);
  const statusItem = page.locator('.statusbar-item', { hasText: 'VAE' }).first();
  await waitFor(
    'the status bar to name the software adapter',
    async () => /webgpu \(software\)/.test((await statusItem.textContent({ timeout: 1_000 }).catch(() => '')) ?? ''),
    30_000,
  );
  await runCommand(page, 'VAE: Open Latent Explorer');
  await explorerFrame(page).locator('vscode-tab-header', { hasText: 'Training' }).click();
  await waitFor('the ELBO panel to name the adapter', async () => /webgpu on llvmpipe/.test(await figure('backend', 1_000)), 30_000);
  await vs.shot('webgpu-trained');
});
