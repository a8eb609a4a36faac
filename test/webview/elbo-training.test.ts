// Issue 9, items 2 and 3, in the built webview: a training shows the Training view and the empty
// map asks for nothing the product does by itself; the panel shows the one −ELBO the host's rule
// picks, named, and a stopped run's epoch counter reads the same live and after a reload.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { TrainingSeries } from '../../src/host/trainingSeries';
import type { ProgressEvent } from '../../src/protocol/engine';
import type { ElboTerms, EpochSummary } from '../../src/protocol/model';
import { formatNats, headlineText } from '../../src/protocol/trainingFigures';
import type { TrainingStatus } from '../../src/protocol/webview';
import { initMessage, pointsMessage } from './fixtures';
import { frameDrawn, pageProblems, postToWebview, screenshot, startHarness, waitForPosted, type Harness } from './harness';

let harness: Harness;
let page: Page;

before(async () => {
  harness = await startHarness();
});

after(async () => {
  await harness?.close();
});

afterEach(async () => {
  if (!page) return;
  assert.deepEqual(await pageProblems(page), []);
  await page.context().close();
});

const terms = (negElbo: number): ElboTerms => ({ reconstruction: negElbo - 6, kl: 6, elbo: -negElbo, bitsPerDim: negElbo / 100 });
const STEPS = 20;

function progress(step: number, negElbo: number): ProgressEvent {
  return {
    type: 'progress',
    requestId: 1,
    epoch: Math.ceil(step / STEPS),
    epochs: 10,
    step,
    stepInEpoch: ((step - 1) % STEPS) + 1,
    stepsPerEpoch: STEPS,
    terms: terms(negElbo),
    // The running epoch mean: what the notification used to show beside the status bar's stretch.
    epochTerms: terms(negElbo + 64.4),
    imagesPerSecond: 800,
    eta: 30,
  };
}

function epochSummary(epoch: number, train: number, validation: number): EpochSummary {
  return {
    epoch,
    step: epoch * STEPS,
    train: terms(train),
    validation: terms(validation),
    klPerDim: [4, 0.001],
    activeUnits: 1,
    imagesPerSecond: 800,
    seconds: 3,
    backend: 'cpu',
    time: '2026-01-01T00:00:00Z',
    curve: Array.from({ length: STEPS }, (_, i) => ({ step: (epoch - 1) * STEPS + i + 1, terms: terms(train + 3), imagesPerSecond: 800 })),
  };
}

async function open(): Promise<Page> {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await frameDrawn(page);
  return page;
}

const figure = (name: string) => page.locator(`[data-figure="${name}"] dd`).textContent();
const figureLabel = (name: string) => page.locator(`[data-figure="${name}"] dt`).textContent();
const trainingShown = () => page.locator('.elbo-panel').isVisible();
const imagesShown = () => page.locator('.images-panel').isVisible();
const emptyText = async () => (await page.locator('.scatter .empty').textContent()) ?? '';

async function status(s: TrainingStatus): Promise<void> {
  await postToWebview(page, { type: 'status', status: s });
  await frameDrawn(page);
}

test('a training shows the Training view and the empty map asks for nothing that happens by itself; its points show the map', async () => {
  await open();
  // A model without points and no training: the map says how to get points.
  assert.ok(await imagesShown(), 'the explorer opens on the Images tab');
  assert.match(await emptyText(), /Encode Image Folder/);

  const series = new TrainingSeries();
  series.start('shapes', 10);
  await postToWebview(page, series.replay());
  await frameDrawn(page);
  assert.ok(await trainingShown(), 'a starting training turns the side panel to the Training view');
  assert.ok(!(await imagesShown()));
  const during = await emptyText();
  assert.doesNotMatch(during, /Encode Image Folder|Run /, `while training the map asks for nothing: "${during}"`);
  assert.match(during, /“shapes” is training/);
  await screenshot(page, 'elbo-training-starts');

  // A person turns back to Images while it runs: the steps that follow leave it there.
  await page.click('vscode-tab-header.tab-images');
  for (let i = 1; i <= 3; i++) {
    const { point, status: st } = series.progress(progress(i, 300 - i));
    await postToWebview(page, { type: 'step', point, status: st });
  }
  await frameDrawn(page);
  assert.ok(await imagesShown(), 'the Images tab a person chose stays');
  await page.click('vscode-tab-header.tab-training');

  // The run ends; the host encodes its folder by itself: still nothing to do but wait.
  await status(series.finish('complete')!);
  const trained = await emptyText();
  assert.doesNotMatch(trained, /Encode Image Folder|Run /, `after training the map asks for nothing: "${trained}"`);
  await postToWebview(page, pointsMessage(20, harness.url.replace(/\/$/, '')));
  await page.waitForFunction(() => document.querySelector('.scatter')?.classList.contains('has-points'));
  assert.ok(!(await page.locator('.scatter .empty').isVisible()), 'the map replaces the text when its points arrive');

  // The next training turns to the Training view again.
  await page.click('vscode-tab-header.tab-images');
  series.start('second', 4);
  await postToWebview(page, series.replay());
  await frameDrawn(page);
  assert.ok(await trainingShown());
  await screenshot(page, 'elbo-training-with-points');
});

test('the panel shows the −ELBO the status bar and the notification show, named; a stopped run counts the same after a reload', async () => {
  await open();
  const series = new TrainingSeries();
  series.start('stopped', 10);
  await postToWebview(page, series.replay());
  for (let i = 1; i <= STEPS; i++) {
    const { point, status: st } = series.progress(progress(i, 431.34 - i));
    await postToWebview(page, { type: 'step', point, status: st });
  }
  const first = epochSummary(1, 405.12, 409.87);
  const ended = series.epoch({ type: 'epoch', requestId: 1, runDir: '/ws/.vae/stopped', summary: first });
  await postToWebview(page, { type: 'epoch', ...ended });
  for (let i = STEPS + 1; i <= STEPS + 7; i++) {
    const { point, status: st } = series.progress(progress(i, 380 - i));
    await postToWebview(page, { type: 'step', point, status: st });
  }
  await frameDrawn(page);

  // While it runs: the latest stretch, named so, the very figure the host's status bar and notification write.
  const live = series.headline()!;
  assert.equal(headlineText(live), '−ELBO 353.0 nats (latest)');
  assert.equal(await figure('neg-elbo'), formatNats(-live.terms.elbo));
  assert.match((await figureLabel('neg-elbo')) ?? '', /\(latest\)/);
  assert.equal(await figure('reconstruction'), formatNats(live.terms.reconstruction));
  assert.equal(await figure('epoch'), '2 / 10');
  assert.match((await page.locator('.chart-negElbo text.chart-title').textContent()) ?? '', /latest 353\.0/);
  await screenshot(page, 'elbo-figures-live');

  // Stop in the middle of epoch 2: the run keeps epoch 1.
  await status(series.finish('cancelled')!);
  const kept = series.headline()!;
  assert.equal(headlineText(kept), '−ELBO 409.9 nats (validation, epoch 1)');
  assert.equal(await figure('neg-elbo'), '409.9');
  assert.match((await figureLabel('neg-elbo')) ?? '', /\(validation, epoch 1\)/);
  assert.equal(await figure('epoch'), 'stopped after 1 of 10 epochs');
  const stoppedStep = await figure('step');
  const curvePoints = () => page.locator('.chart-negElbo path.series').getAttribute('data-points');
  const stoppedCurve = await curvePoints();
  assert.equal(stoppedCurve, String(STEPS), 'the steps after the kept epoch are gone with it');
  await screenshot(page, 'elbo-figures-stopped');

  // Reload: the host replays the run's history, as it does after a window reload.
  await page.reload();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  const reloaded = new TrainingSeries();
  reloaded.showHistory('stopped', [first], 'cancelled', 10);
  await postToWebview(page, reloaded.replay());
  await page.click('vscode-tab-header.tab-training');
  await frameDrawn(page);
  assert.equal(await figure('epoch'), 'stopped after 1 of 10 epochs');
  assert.equal(await figure('step'), stoppedStep);
  assert.equal(await curvePoints(), stoppedCurve);
  assert.equal(await figure('neg-elbo'), '409.9');
  assert.match((await figureLabel('neg-elbo')) ?? '', /\(validation, epoch 1\)/);
});
