// End to end in a real VS Code (code-server + Chromium): the packaged extension trains from the
// palette, encodes from the explorer context menu, samples into the workspace, survives a window
// reload and leaves a loadable run when training is cancelled. One VS Code for the whole file, but
// no test relies on another: the runs a test needs are made by the CLI before VS Code starts, each
// test loads the model it uses, trains under its own run name and leaves the settings as it found
// them. `LATENT_ATLAS_E2E_ORDER=reverse` runs the tests in reverse order to check exactly that.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, afterEach, before, test, type TestContext } from 'node:test';
import type { FrameLocator } from 'playwright-core';
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
import { torchVaeFixture } from '../unit/torchFixture';

let vs: VsCode;
let workspace = '';
let root = '';
const WS_NAME = 'fashion';
/** Runs made by the CLI before VS Code starts: a complete one and one stopped after an epoch. */
const TRAINED = 'trained-fixture';
const STOPPED = 'stopped-fixture';
const TRAINED_EPOCHS = 2;
/** A VAE trained by PyTorch (scripts/torch-vae), its ONNX files and manifest copied into the workspace. */
const PYTORCH = 'Fashion-MNIST MLP VAE (PyTorch)';
const PYTORCH_DIR = 'models/pytorch-mlp';
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const readManifest = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunManifest;
const pngsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.png')) : []);
/** PNG files under `dir` outside dot-folders (where the runs are), less the one broken file. */
const validImagesIn = (dir: string): number =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png') && !f.split(sep).some((p) => p.startsWith('.')))
    .length - 1;
/** The CLI's environment: no native TensorFlow package, as in VS Code here. */
const cliEnv = { ...process.env, LATENT_ATLAS_NATIVE_PATHS: '' };
const cliTrainArgs = (name: string, epochs: number) =>
  [CLI, 'train', workspace, '--out', join(workspace, '.vae'), '--name', name, '--epochs', String(epochs), '--batch', '16'] as const;

/** A run trained to the end by the CLI. */
function trainFixture(): void {
  const r = spawnSync(process.execPath, cliTrainArgs(TRAINED, TRAINED_EPOCHS), { env: cliEnv, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `latent-atlas train failed:\n${r.stdout}\n${r.stderr}`);
}

/** A run the CLI was stopped in (Ctrl-C) once its first epoch was committed. */
async function stoppedFixture(): Promise<void> {
  const runDir = join(workspace, '.vae', STOPPED);
  const child = spawn(process.execPath, cliTrainArgs(STOPPED, 500), { env: cliEnv, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(
    'a first checkpoint of the stopped fixture',
    () => existsSync(join(runDir, 'run.json')) && readManifest(runDir).epochsCompleted >= 1,
    180_000,
  );
  child.kill('SIGINT');
  assert.equal(await exited, 130, 'the CLI exits 130 when cancelled');
  assert.equal(readManifest(runDir).state, 'cancelled');
}

before(async () => {
  ensurePackaged();
  root = await mkdtemp(join(tmpdir(), 'latent-atlas-ws-'));
  workspace = join(root, WS_NAME);
  const written = await writeFashionMnist(workspace, 300);
  assert.equal(written, 300);
  await writeBrokenPng(join(workspace, 'Trouser', 'broken.png'));
  const torch = await torchVaeFixture();
  await mkdir(join(workspace, PYTORCH_DIR), { recursive: true });
  for (const f of ['encoder.onnx', 'decoder.onnx', 'latent-atlas-model.json'])
    await copyFile(join(torch.mlp, f), join(workspace, PYTORCH_DIR, f));
  trainFixture();
  await stoppedFixture();
  vs = await startVsCode({ workspace, name: 'main', settings: { 'vae.epochs': 4, 'vae.batchSize': 16 } });
  // Activate the extension, so that whichever test comes first finds it listening.
  // (Through the explorer, which every test may find open: "VAE: Show Log" would leave the focus in
  // the read-only Output view, where the next palette command's keys can land.)
  await runCommand(vs.page, 'VAE: Open Latent Explorer');
  await waitFor('the extension to log its activation', () => / activated \(VS Code /.test(extensionLog(vs.userDataDir)), 60_000);
  await waitFor('the explorer webview', async () => (await figure('neg-elbo', 1_000)) !== '', 60_000);
});

let settingsChanged = false;

// The state at the end of every test, to look at (and to see why one failed); then the workspace
// settings a test wrote are taken back.
afterEach(async (t) => {
  await vs?.shot(`end-${t.name.replace(/\W+/g, '-').slice(0, 60)}`);
  if (settingsChanged) await setWorkspaceSettings({});
  settingsChanged = false;
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

const settingsChanges = () => extensionLog(vs.userDataDir).match(/Settings changed: /g)?.length ?? 0;

/**
 * Writes the workspace settings (watched with the workspace; code-server does not notice edits of
 * the user settings file made behind its back) and waits until the extension has seen them.
 */
async function setWorkspaceSettings(settings: Record<string, unknown>): Promise<void> {
  const file = join(workspace, '.vscode', 'settings.json');
  const text = JSON.stringify(settings);
  if ((existsSync(file) ? readFileSync(file, 'utf8') : '{}') === text) return;
  const before = settingsChanges();
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(file, text);
  settingsChanged = Object.keys(settings).length > 0;
  await waitFor('the extension to see the new settings', () => settingsChanges() > before, 15_000);
}

/** Makes the named run the active model through "VAE: Load Model". */
async function useModel(name: string): Promise<void> {
  const { page } = vs;
  const loaded = new RegExp(`Active model: ${escapeRegExp(name)} \\(`, 'g');
  const loads = () => extensionLog(vs.userDataDir).match(loaded)?.length ?? 0;
  const before = loads();
  await runCommand(page, 'VAE: Load Model');
  await quickInput(page, 'Load Model');
  await pick(page, name);
  await waitFor(`"${name}" to become the active model`, () => loads() > before, 60_000);
}

/** Right-click a top-level folder → "Encode with the Active VAE"; waits for the notification that `valid` images were encoded. */
async function encodeFromMenu(folder: string, valid: number): Promise<void> {
  const { page } = vs;
  // The explorer tree refreshes as run files appear, which can close a context menu that just
  // opened: try again when the command shows no sign of running.
  for (let attempt = 1; ; attempt++) {
    await explorerContextMenu(page, folder, 'Encode with the Active VAE');
    const started = await waitForNotification(page, new RegExp(`Encod(ing|ed \\d+ images from) ${escapeRegExp(folder)}\\b`), 5_000).then(
      () => true,
      () => false,
    );
    if (started) break;
    if (attempt === 3)
      throw new Error(`"Encode with the Active VAE" on ${folder} from the explorer context menu showed no notification, three times.`);
  }
  await waitForNotification(page, new RegExp(`Encoded ${valid} images from ${escapeRegExp(folder)}\\b`));
}

/** Right-click "Trouser" → "Encode with the Active VAE"; returns the number of points the explorer shows. */
async function encodeTrouser(): Promise<number> {
  const { page } = vs;
  const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
  await encodeFromMenu('Trouser', valid);
  const info = explorerFrame(page).locator('.toolbar .info, .info').first();
  const text = await waitFor('the points count in the explorer', async () => {
    const t = (await info.textContent().catch(() => '')) ?? '';
    return new RegExp(`\\b${valid} points`).test(t) ? t : undefined;
  });
  return Number(/([\d,]+) points/.exec(text)![1].replace(/,/g, ''));
}

/** Clicks the drawn point nearest the plot's centre; returns the pinned file's path as the explorer shows it. */
async function pinDrawnPoint(frame: FrameLocator): Promise<string> {
  // The opaque pixel of the points layer nearest the plot's centre (CSS pixels), read through a
  // 2-D copy of whichever layer is shown (WebGL2, or the canvas fallback).
  const spot = await frame
    .locator('canvas.points-layer:not([hidden]), canvas.points-gl-layer:not([hidden])')
    .evaluate((c: HTMLCanvasElement) => {
      const copy = document.createElement('canvas');
      copy.width = c.width;
      copy.height = c.height;
      const ctx = copy.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(c, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const s = c.width / c.getBoundingClientRect().width;
      let best: { x: number; y: number; d: number } | null = null;
      for (let y = 0; y < c.height; y++)
        for (let x = 0; x < c.width; x++) {
          if (d[(y * c.width + x) * 4 + 3] < 200) continue;
          const dist = (x - c.width / 2) ** 2 + (y - c.height / 2) ** 2;
          if (!best || dist < best.d) best = { x, y, d: dist };
        }
      return best && { x: best.x / s, y: best.y / s };
    });
  assert.ok(spot, 'the explorer drew the encoded points');
  await frame.locator('svg.overlay-layer').click({ position: spot });
  const pinned = (await frame.locator('.pin-path').textContent({ timeout: 10_000 }))!;
  assert.match(pinned, /\.png$/, `the pinned point names its file: ${pinned}`);
  return pinned;
}

const parseNats = (text: string) => Number.parseFloat(text.replace(/[^\d.eE+-]/g, ''));

/** Trains on the workspace folder from the palette, under the given run name; returns the name proposed. */
async function trainFromPalette(runName: string): Promise<string> {
  const { page } = vs;
  const started = new RegExp(`Training "${escapeRegExp(runName)}" on `, 'g');
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
    const proposed = await waitFor('a proposed run name', async () => (await name.inputValue()) || undefined, 10_000);
    const typed = await name
      .fill(runName, { timeout: 5_000 })
      .then(() => name.press('Enter', { timeout: 5_000 }))
      .then(
        () => true,
        (e) => (last ? Promise.reject(e) : false),
      );
    if (!typed) continue;
    const ok = await waitFor(`"Training ${runName}" in the log`, async () => startsLogged() > before, 20_000).then(
      () => true,
      (e) => (last ? Promise.reject(e) : false),
    );
    if (ok) return proposed;
  }
}

type Case = [name: string, run: (t: TestContext) => Promise<void>];
const cases: Case[] = [];
const e2e = (name: string, run: Case[1]) => cases.push([name, run]);

e2e(
  'palette "VAE: Train" on an image folder produces a loadable run while the ELBO panel shows falling figures and the map forms; then pin, neighbours, lasso → CSV',
  async () => {
    const { page } = vs;
    // Open the explorer first, so its webview is loaded when the first steps arrive.
    await runCommand(page, 'VAE: Open Latent Explorer');
    await waitFor('the explorer webview', async () => (await figure('neg-elbo', 1_000)) !== '', 60_000);
    await explorerFrame(page).locator('vscode-tab-header', { hasText: 'Training' }).click();
    // The 300 Fashion-MNIST images, and any image another test wrote into the workspace (samples).
    const images = validImagesIn(workspace);
    const name = 'palette-run';
    const proposed = await trainFromPalette(name);
    // The name proposed is the folder's, made unique among the runs there.
    assert.match(proposed, new RegExp(`^${WS_NAME}(-\\d+)?$`));
    // Watch the live −ELBO in the webview while training runs.
    const seen: number[] = [];
    const runDir = join(workspace, '.vae', name);
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
    await waitForNotification(page, new RegExp(`Training "${name}" finished`));
    // The panel ends on the last figures of the run.
    const negElbo = parseNats(await figure('neg-elbo'));
    if (negElbo !== seen.at(-1)) seen.push(negElbo);
    await vs.shot('train-finished');
    const m = readManifest(runDir);
    assert.equal(m.epochsCompleted, 4);
    assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)), `checkpoint ${m.checkpoint} exists`);
    assert.equal(m.dataset.count, images);
    assert.ok(seen.length >= 2, `the ELBO panel showed changing −ELBO figures: ${seen.join(', ')}`);
    assert.ok(seen.at(-1)! < seen[0], `−ELBO fell: ${seen.join(' → ')}`);
    // The latent space formed live: the Training view's film shows the last epoch of the run, whose
    // frames (epoch 0, untrained, to 4) are in the run folder.
    const filmEpoch = explorerFrame(page).locator('.film-epoch');
    await waitFor(
      'the film at the last epoch',
      async () => (await filmEpoch.textContent({ timeout: 1_000 }).catch(() => '')) === 'epoch 4 of 4',
    );
    const film = JSON.parse(readFileSync(join(runDir, 'film', 'index.json'), 'utf8')) as { epochs: number[]; files: string[] };
    assert.deepEqual(film.epochs, [0, 1, 2, 3, 4]);
    assert.ok(film.files.length > 0 && film.files.length <= images, `${film.files.length} images in the film, of ${images}`);
    await logMatches(/Skipped .*broken\.png: /);
    // A finished run shows the latent space of the folder it was trained on.
    const info = explorerFrame(page).locator('.info').first();
    await waitFor(
      "the training folder's points",
      async () => new RegExp(`\\b${images} points`).test((await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? ''),
      60_000,
    );
    await logMatches(new RegExp(`Encoded ${escapeRegExp(workspace)}: ${images} images`));
    await vs.shot('train-encoded');

    // Then the way a user goes on: pin a point of the map, find its nearest neighbours in the latent
    // space, draw a lasso around part of the map and export that selection as a CSV table.
    const frame = explorerFrame(page);
    await frame.locator('vscode-tab-header', { hasText: 'Images' }).click();
    const pinned = await pinDrawnPoint(frame);
    await frame.locator('vscode-button.find-neighbours').click();
    const base = pinned.split('/').pop()!;
    await waitFor('the neighbours of the pinned point', async () =>
      new RegExp(`^10 nearest to ${escapeRegExp(base)} \\(Euclidean`).test(
        (await frame
          .locator('.neighbours-status')
          .textContent({ timeout: 1_000 })
          .catch(() => '')) ?? '',
      ),
    );
    const distances = await frame
      .locator('.neighbours-list .thumb-item')
      .evaluateAll((es) => es.map((e) => Number(/distance ([\d.e+-]+)/.exec(e.textContent ?? '')?.[1] ?? NaN)));
    assert.equal(distances.length, 10);
    assert.ok(
      distances.every((d, i) => Number.isFinite(d) && d >= 0 && (i === 0 || d >= distances[i - 1])),
      `distances ascending: ${distances}`,
    );
    // Every neighbour is a point of the map (one folder encoded): ten links from the pin.
    assert.equal(await frame.locator('.links line.link').count(), 10);

    // A lasso: the triangle over the plot's upper-left half, drawn as a person drags.
    await frame.locator('vscode-button.mode-lasso').click();
    const box = (await frame.locator('svg.overlay-layer').boundingBox())!;
    const corners = [
      [box.x + 8, box.y + 8],
      [box.x + box.width - 8, box.y + 8],
      [box.x + 8, box.y + box.height - 8],
    ];
    await page.mouse.move(corners[0][0], corners[0][1]);
    await page.mouse.down();
    for (const [x, y] of [...corners.slice(1), corners[0]]) await page.mouse.move(x, y, { steps: 8 });
    await page.mouse.up();
    const selected = await waitFor('the lasso selection count', async () => {
      const m = /([\d,]+) selected/.exec((await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? '');
      return m ? Number(m[1].replace(/,/g, '')) : undefined;
    });
    assert.ok(selected > 0 && selected < images, `the lasso selected ${selected} of ${images} points`);
    await frame.locator('vscode-button.export-selection').click();
    await quickInput(page, `Export the ${selected} selected points`);
    await pick(page, `Save ${selected} rows as CSV`);
    const csv = join(workspace, 'samples', name, 'selections', 'selection-001.csv');
    await waitFor('the CSV table of the lasso selection', () => existsSync(csv), 60_000);
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
    assert.equal(rows[0], 'file,folder,label,map_x,map_y,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma');
    assert.equal(rows.length - 1, selected);
    assert.ok(
      rows.slice(1).every((r) => r.startsWith(workspace) && existsSync(r.split(',')[0])),
      'each row names an image file of the training folder',
    );
    await vs.shot('train-pin-neighbours-lasso');
    await frame.locator('vscode-button.clear-selection').click();
    await frame.locator('vscode-button.mode-pan').click();
    await rm(join(workspace, 'samples', name), { recursive: true, force: true });
  },
);

e2e('right-click a folder → "Encode with the Active VAE" shows one point per valid image and names the broken one in the log', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
  assert.equal(await encodeTrouser(), valid);
  await vs.shot('encoded');
  // "Trouser" is one of the run's classes, so its points carry that label in the legend.
  const legend = await explorerFrame(page).locator('.legend').first().textContent({ timeout: 5_000 });
  assert.match(legend ?? '', new RegExp(`Trouser\\s*${valid}`), `legend: ${legend}`);
  await logMatches(new RegExp(`Skipped ${escapeRegExp(join(workspace, 'Trouser', 'broken.png'))}: `));
  await logMatches(new RegExp(`Encoded ${escapeRegExp(join(workspace, 'Trouser'))}: ${valid} images`));
});

e2e('two folders encoded with the same model are shown together, each in the folder legend (train beside test)', async () => {
  const { page } = vs;
  // The run no other test encodes with, so the folders shown are this test's.
  await useModel(STOPPED);
  const trousers = pngsIn(join(workspace, 'Trouser')).length - 1;
  const sneakers = pngsIn(join(workspace, 'Sneaker')).length;
  await encodeFromMenu('Trouser', trousers);
  await encodeFromMenu('Sneaker', sneakers);
  const info = explorerFrame(page).locator('.info').first();
  await waitFor('both folders counted in the explorer', async () =>
    new RegExp(`\\b${trousers + sneakers} points in 2 folders`).test((await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? ''),
  );
  const folders = await explorerFrame(page)
    .locator('.folder-legend .folder-item')
    .evaluateAll((items) => items.map((i) => i.textContent?.replace(/\s+/g, ' ').trim()));
  assert.deepEqual(folders.sort(), [`Sneaker${sneakers}`, `Trouser${trousers}`]);
  // Both are the run's classes: the class legend counts each.
  const legend = (await explorerFrame(page).locator('.legend').first().textContent({ timeout: 5_000 })) ?? '';
  assert.match(legend, new RegExp(`Trouser\\s*${trousers}`), `legend: ${legend}`);
  assert.match(legend, new RegExp(`Sneaker\\s*${sneakers}`), `legend: ${legend}`);
  await vs.shot('two-folders');
});

e2e('pin a point on the map, reconstruct it, sample around it, and save the samples and a traversal as named sets', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  await encodeTrouser();
  const frame = explorerFrame(page);
  await frame.locator('vscode-tab-header', { hasText: 'Images' }).click();
  const pinned = await pinDrawnPoint(frame);
  const base = pinned.split('/').pop()!;

  await frame.locator('vscode-button.reconstruct').click();
  await waitFor('the reconstruction of the pinned image', async () =>
    (
      await frame
        .locator('.recon-name')
        .textContent({ timeout: 1_000 })
        .catch(() => '')
    )?.startsWith(`${base}: original and reconstruction`),
  );
  assert.match((await frame.locator('.recon-terms').textContent())!, /^−ELBO [\d.]+ = reconstruction [\d.]+ \+ KL [\d.]+ nats$/);

  await frame.locator('vscode-button.sample-around').click();
  await waitFor(
    '16 samples around the pinned point',
    async () => (await frame.locator('canvas.samples').getAttribute('data-images')) === '16',
  );
  await frame.locator('vscode-button.save-samples').click();
  const runSamples = join(workspace, 'samples', TRAINED);
  await waitFor('the samples written', () => pngsIn(join(runSamples, 'samples')).length === 16, 60_000);
  await frame.locator('.notice', { hasText: 'Saved 16 images to' }).waitFor({ timeout: 10_000 });

  await frame.locator('vscode-button.traverse').click();
  await waitFor('the traversal grid', async () => (await frame.locator('canvas.manifold-grid').getAttribute('data-images')) === '18');
  await frame.locator('vscode-button.save-grid').click();
  const traversals = join(runSamples, 'traversals');
  await waitFor('the traversal written', () => pngsIn(traversals).length === 19, 60_000);
  const files = pngsIn(traversals).sort();
  // A row of nine per latent dimension, named by it, and one sheet of both rows.
  assert.deepEqual(
    files.filter((f) => /^traversal-001-z[01]-\d\d\.png$/.test(f)).map((f) => f.slice(14, 16)),
    [...Array(9).fill('z0'), ...Array(9).fill('z1')],
  );
  assert.ok(files.includes('traversal-001.png'), `the sheet: ${files.join(', ')}`);
  await vs.shot('pin-reconstruct-sample');
  await rm(runSamples, { recursive: true, force: true });
});

e2e('a brush selection exported from the map: a CSV table with where each point was drawn, and copies of the images', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  const valid = await encodeTrouser();
  const frame = explorerFrame(page);
  // Brush the whole plot, from its bottom-right corner to its top-left (pointer events through the
  // webview's frames, as a person's drag).
  await frame.locator('vscode-button.mode-brush').click();
  const plot = frame.locator('svg.overlay-layer');
  const box = (await plot.boundingBox())!;
  await plot.dragTo(plot, { sourcePosition: { x: box.width - 6, y: box.height - 6 }, targetPosition: { x: 6, y: 6 } });
  const info = frame.locator('.info').first();
  const selected = await waitFor('the selection count', async () => {
    const m = /([\d,]+) selected/.exec((await info.textContent({ timeout: 1_000 }).catch(() => '')) ?? '');
    return m ? Number(m[1].replace(/,/g, '')) : undefined;
  });
  assert.ok(selected > valid / 2 && selected <= valid, `selected ${selected} of ${valid}`);
  const selections = join(workspace, 'samples', TRAINED, 'selections');

  await frame.locator('vscode-button.export-selection').click();
  await quickInput(page, `Export the ${selected} selected points`);
  await pick(page, `Save ${selected} rows as CSV`);
  const csv = join(selections, 'selection-001.csv');
  await waitFor('the CSV table', () => existsSync(csv), 60_000);
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'file,folder,label,map_x,map_y,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma');
  assert.equal(lines.length - 1, selected);
  const row = lines[1].split(',');
  assert.ok(row[0].startsWith(join(workspace, 'Trouser')), row[0]);
  // A 2-D latent is its own map: map_x, map_y are z1, z2; the ELBO is −(reconstruction + KL).
  assert.deepEqual(
    [row[3], row[4]].map(Number),
    [row[5], row[6]].map(Number).map((v) => Math.fround(v)),
  );
  assert.ok(Math.abs(Number(row[11]) + Number(row[9]) + Number(row[10])) < 1e-3);
  await frame.locator('.notice', { hasText: `Saved ${selected} rows to` }).waitFor({ timeout: 10_000 });

  await frame.locator('vscode-button.export-selection').click();
  await pick(page, `Copy ${selected} images into a new folder`);
  const copies = join(selections, 'selection-002');
  await waitFor('the copied images', () => pngsIn(copies).length === selected, 60_000);
  await frame.locator('.notice', { hasText: `Copied ${selected} images to` }).waitFor({ timeout: 10_000 });
  await vs.shot('selection-exported');
  await frame.locator('vscode-button.clear-selection').click();
  await frame.locator('vscode-button.mode-pan').click();
  await rm(join(workspace, 'samples', TRAINED, 'selections'), { recursive: true, force: true });
});

e2e('right-click an image file → "Find Similar Images in the Latent Space" lists its nearest encoded images', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  await encodeTrouser();
  // An image that is in no encoded folder: encoded for the query.
  const sneaker = pngsIn(join(workspace, 'Sneaker'))[0];
  await copyFile(join(workspace, 'Sneaker', sneaker), join(workspace, 'query-sneaker.png'));
  try {
    await waitFor(
      'the file in the explorer',
      () => page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'query-sneaker.png' }).count(),
      15_000,
    );
    await explorerContextMenu(page, 'query-sneaker.png', 'Find Similar Images in the Latent Space');
    const frame = explorerFrame(page);
    const status = frame.locator('.neighbours-status');
    await waitFor('the neighbours of the file', async () =>
      /^10 nearest to query-sneaker\.png, not among the points shown/.test(
        (await status.textContent({ timeout: 1_000 }).catch(() => '')) ?? '',
      ),
    );
    const items = frame.locator('.neighbours-list .thumb-item');
    assert.equal(await items.count(), 11, 'the file itself, then its ten neighbours');
    assert.match((await items.nth(0).textContent()) ?? '', /query-sneaker\.png/);
    // Ten Trousers (the only folder encoded with the model), nearest first.
    const distances = await items.evaluateAll((es) =>
      es.slice(1).map((e) => Number(/distance ([\d.e+-]+)/.exec(e.textContent ?? '')?.[1] ?? NaN)),
    );
    assert.ok(
      distances.every((d, i) => Number.isFinite(d) && (i === 0 || d >= distances[i - 1])),
      `distances ${distances}`,
    );
    await frame.locator('.marks path.query').waitFor({ timeout: 10_000 });
    await vs.shot('neighbours-of-file');
  } finally {
    await rm(join(workspace, 'query-sneaker.png'), { force: true });
  }
});

e2e(
  'a VAE trained by PyTorch (encoder.onnx, decoder.onnx, latent-atlas-model.json) loads from the palette and shows its points',
  async () => {
    const { page } = vs;
    await useModel(PYTORCH);
    await logMatches(new RegExp(`Active model: ${escapeRegExp(PYTORCH)} \\(.*\\), trained elsewhere \\(ONNX\\), latent size 8\\.`));
    const valid = pngsIn(join(workspace, 'Trouser')).length - 1;
    assert.equal(await encodeTrouser(), valid);
    await logMatches(new RegExp(`Encoded ${escapeRegExp(join(workspace, 'Trouser'))}: ${valid} images`));
    // "Trouser" is one of the PyTorch model's classes (its manifest names them).
    const legend = await explorerFrame(page).locator('.legend').first().textContent({ timeout: 5_000 });
    assert.match(legend ?? '', new RegExp(`Trouser\\s*${valid}`), `legend: ${legend}`);
    // The encoding is kept beside the model, like a run's.
    assert.ok(readdirSync(join(workspace, PYTORCH_DIR, 'encodings')).some((f) => f.endsWith('.json')));
    await vs.shot('pytorch-model');
  },
);

e2e('encoding a folder without images says so and names what it found', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  await mkdir(join(workspace, 'notes'), { recursive: true });
  await writeFile(join(workspace, 'notes', 'readme.txt'), 'not an image');
  await writeFile(join(workspace, 'notes', 'table.csv'), 'a,b\n1,2\n');
  await waitFor(
    'the new folder in the explorer',
    () => page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'notes' }).count(),
    15_000,
  );
  for (let attempt = 1; ; attempt++) {
    await explorerContextMenu(page, 'notes', 'Encode with the Active VAE');
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

e2e('"VAE: Sample into Workspace" writes the requested number of PNG files', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  await runCommand(page, 'VAE: Sample into Workspace');
  const count = await quickInput(page, 'Sample into Workspace');
  await count.fill('5');
  await count.press('Enter');
  // The outcome itself (the files and the log line) rather than the toast, which a toast shown just
  // before (Load Model's) can keep out of view.
  await logMatches(new RegExp(`Wrote 5 samples of "${TRAINED}" to `));
  await vs.shot('sampled');
  const files = pngsIn(join(workspace, 'samples', TRAINED));
  assert.deepEqual(files.sort(), ['sample-001.png', 'sample-002.png', 'sample-003.png', 'sample-004.png', 'sample-005.png']);
  for (const f of files)
    assert.equal(
      readFileSync(join(workspace, 'samples', TRAINED, f))
        .subarray(1, 4)
        .toString(),
      'PNG',
    );
});

e2e('"VAE: Export for Embedding Projector" writes vectors.tsv, metadata.tsv, a sprite and the config of the encoded folder', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  const valid = await encodeTrouser();
  await runCommand(page, 'VAE: Export for Embedding Projector');
  await waitForNotification(page, /Wrote vectors\.tsv and metadata\.tsv/);
  const dir = join(workspace, '.vae', TRAINED, 'projector', 'Trouser');
  const vectors = readFileSync(join(dir, 'vectors.tsv'), 'utf8').trimEnd().split('\n');
  const metadata = readFileSync(join(dir, 'metadata.tsv'), 'utf8').trimEnd().split('\n');
  assert.equal(vectors.length, valid);
  assert.ok(vectors.every((row) => row.split('\t').length === 2 && row.split('\t').every((v) => Number.isFinite(Number(v)))));
  assert.equal(metadata[0], 'file\tlabel');
  assert.equal(metadata.length, valid + 1);
  // Thumbnails in the Projector: a square grid of 28×28 cells, and the config that names it.
  const side = Math.ceil(Math.sqrt(valid)) * 28;
  const sprite = readFileSync(join(dir, 'sprite.png'));
  assert.deepEqual([sprite.readUInt32BE(16), sprite.readUInt32BE(20)], [side, side], 'sprite.png width and height');
  const config = readFileSync(join(dir, 'projector_config.pbtxt'), 'utf8');
  assert.match(config, /tensor_path: "vectors\.tsv"[\s\S]*image_path: "sprite\.png"\s+single_image_dim: 28\s+single_image_dim: 28/);
});

e2e('the Latent Explorer survives "Developer: Reload Window" with its model and points', async () => {
  const { page } = vs;
  await useModel(TRAINED);
  const valid = await encodeTrouser();
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
  assert.match(epochs, new RegExp(`\\b${TRAINED_EPOCHS}\\b`), 'the restored ELBO panel shows the run history');
  // The per-step curve comes back too (from history.jsonl), not only the epoch marks.
  const curvePoints = Number(
    await explorerFrame(page).locator('svg.chart-negElbo path.series').getAttribute('data-points', { timeout: 5_000 }),
  );
  assert.ok(curvePoints >= TRAINED_EPOCHS, `the restored −ELBO chart draws ${curvePoints} per-step points`);
});

e2e('forcing the GPU backend where tfjs-node-gpu is missing says how to install it, and the extension keeps working', async () => {
  const { page } = vs;
  await setWorkspaceSettings({ 'vae.backend': 'tensorflow-gpu' });
  await logMatches(/Settings changed: .*vae\.backend = "tensorflow-gpu"/);
  const name = 'gpu-missing-run';
  await trainFromPalette(name);
  const text = await waitForNotification(page, /tfjs-node-gpu/, 60_000);
  await vs.shot('gpu-missing');
  assert.match(text, /npm install (-g )?@tensorflow\/tfjs-node-gpu/);
  assert.match(text, /vae\.nativeModulesPath/);
  assert.ok(!existsSync(join(workspace, '.vae', name, 'run.json')), 'no run was started');
});

e2e('cancelling mid-training keeps the last complete epoch as a loadable run', async () => {
  const { page } = vs;
  // Long enough to stop in the middle.
  await setWorkspaceSettings({ 'vae.epochs': 500 });
  const name = 'cancelled-run';
  await trainFromPalette(name);
  const runDir = join(workspace, '.vae', name);
  await waitFor('a first checkpoint', () => existsSync(join(runDir, 'run.json')) && readManifest(runDir).epochsCompleted >= 1, 180_000);
  const cancel = page
    .locator('.notifications-toasts .notification-list-item', { hasText: `Training "${name}"` })
    .locator('a.monaco-button, .monaco-button', { hasText: 'Cancel' })
    .first();
  await cancel.click();
  const note = await waitForNotification(
    page,
    new RegExp(`Training "${name}" stopped after \\d+ of 500 epochs; the checkpoint of epoch \\d+ is kept and loaded`),
  );
  await vs.shot('cancelled');
  const m = readManifest(runDir);
  assert.equal(m.state, 'cancelled');
  assert.ok(m.epochsCompleted >= 1 && m.epochsCompleted < 500);
  assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)));
  assert.match(note, new RegExp(`stopped after ${m.epochsCompleted} of 500 epochs; the checkpoint of epoch ${m.epochsCompleted} `));
  // The one figure every place shows after a run: its last epoch's validation −ELBO (else training mean), named so.
  assert.match(note, new RegExp(`−ELBO [\\d.]+ nats \\((validation|training mean), epoch ${m.epochsCompleted}\\)`));
  // The log file is written asynchronously: wait for the lines rather than read it once.
  await logMatches(/training \{"epochs":500,/);
  await logMatches(new RegExp(`Active model: ${name} `));
});

e2e('"VAE: Load Model" lists the runs of the workspace and makes the picked one active', async () => {
  const { page } = vs;
  await runCommand(page, 'VAE: Load Model');
  await quickInput(page, 'Load Model');
  const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
  assert.ok(
    rows.some((r) => r.includes(STOPPED) && r.includes('cancelled')),
    `the run stopped after an epoch is listed as cancelled: ${rows.join(' | ')}`,
  );
  assert.ok(
    // State and figure first, then the settings line the status bar's tooltip shows too.
    rows.some(
      (r) =>
        r.includes(TRAINED) &&
        /complete, −ELBO [\d.]+ nats · mlp/.test(r) &&
        r.includes(` · ${TRAINED_EPOCHS}/${TRAINED_EPOCHS} epochs · `),
    ),
    `the trained run is listed as complete, with its figure and settings: ${rows.join(' | ')}`,
  );
  await pick(page, STOPPED);
  await waitForNotification(page, new RegExp(`Loaded "${STOPPED}" \\(\\d+ epochs?, latent size 2\\)`));
  await logMatches(new RegExp(`Active model: ${STOPPED} \\(.*\\), \\d+ epochs?, state cancelled\\.`));
});

e2e('with "vae.backend" set to webgpu, training runs on the GPU adapter there is and every place names it', async () => {
  const { page } = vs;
  // No GPU here: Dawn's adapter is Mesa's llvmpipe (software), which a forced webgpu accepts.
  await setWorkspaceSettings({ 'vae.backend': 'webgpu', 'vae.epochs': 1 });
  await logMatches(/Settings changed: .*vae\.backend = "webgpu"/);
  const name = 'webgpu-run';
  await trainFromPalette(name);
  const runDir = join(workspace, '.vae', name);
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

for (const [name, run] of process.env.LATENT_ATLAS_E2E_ORDER === 'reverse' ? [...cases].reverse() : cases) test(name, run);
