// Several encoded folders together (issue 9, item 6): train beside test. Each folder's points come
// in their own points message and join the others; the folder legend switches a folder off; the
// points can be coloured by folder; a new encoding of one folder replaces only its points; another
// model clears them all; a pin in the second folder names that folder, and every folder's names are
// its own (hover, pin, search). Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { packNames } from '../../src/protocol/pointNames';
import type { PointsMessage } from '../../src/protocol/webview';
import { KNOWN, initMessage, pointsMessage } from './fixtures';
import {
  THEMES,
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  pointsPixel,
  postToWebview,
  screenshot,
  startHarness,
  waitForPosted,
  type Harness,
} from './harness';

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

const origin = () => harness.url.replace(/\/$/, '');
const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const BLUE = hex(THEMES.dark['--vscode-charts-blue']);
const ORANGE = hex(THEMES.dark['--vscode-charts-orange']);

/** The held-out folder: `count` birds around (0, 3.2), the first exactly there, in the run's classes. */
const TEST_SPOT = { x: 0, y: 3.2 };
function testFolder(count = 40): PointsMessage {
  const names = Array.from({ length: count }, (_, i) => `birds/test-${String(i).padStart(3, '0')}.png`);
  const mu = names.flatMap((_, i) => (i === 0 ? [TEST_SPOT.x, TEST_SPOT.y] : [0.15 * Math.cos(i), TEST_SPOT.y + 0.15 * Math.sin(i)]));
  return {
    type: 'points',
    folder: '/data-test',
    title: 'data-test',
    folderUri: `${origin()}/img/data-test`,
    names: packNames(names),
    labels: new Int32Array(count),
    labelNames: ['birds', 'cats', 'dogs', 'fish'],
    dims: 2,
    mu: Float32Array.from(mu),
  };
}

const folderEntries = () =>
  page.locator('.folder-legend .folder-item').evaluateAll((items) => items.map((i) => i.textContent?.replace(/\s+/g, ' ').trim()));

/** Opens the explorer with the training folder (201 points), then the test folder beside it. */
async function openBoth(): Promise<void> {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, { ...pointsMessage(50, origin()), replace: 'all', title: 'data' });
  await postToWebview(page, testFolder());
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('241 points in 2 folders'));
  await frameDrawn(page);
}

async function pixelAt(x: number, y: number): Promise<number[]> {
  const [cx, cy] = await clientPositionFromAxes(page, x, y);
  return pointsPixel(page, cx, cy);
}

test('two folders are shown at once, each listed with its count; the classes keep their colours and count both', async () => {
  await openBoth();
  assert.deepEqual(await folderEntries(), ['data201', 'data-test40']);
  // Birds come from both folders: 50 + 40.
  const birds = page.locator('.legend-item', { hasText: 'birds' }).locator('.count');
  assert.equal(await birds.textContent(), '90');
  assert.deepEqual((await pixelAt(TEST_SPOT.x, TEST_SPOT.y)).slice(0, 3), BLUE, 'a test bird in the birds colour');
  assert.deepEqual((await pixelAt(KNOWN.x, KNOWN.y)).slice(0, 3), ORANGE, 'the known cat in the cats colour');
  await screenshot(page, 'folders-both');
});

test('switching a folder off hides its points, and on again shows them', async () => {
  await openBoth();
  const entry = page.locator('.folder-item', { hasText: 'data-test' });
  await entry.click();
  await frameDrawn(page);
  assert.equal(await entry.getAttribute('aria-pressed'), 'false');
  assert.equal((await pixelAt(TEST_SPOT.x, TEST_SPOT.y))[3], 0, 'the test folder is hidden');
  assert.equal((await pixelAt(KNOWN.x, KNOWN.y))[3], 255, 'the training folder stays');
  assert.equal(await page.locator('.legend-item', { hasText: 'birds' }).locator('.count').textContent(), '50');
  // From the keyboard, as every legend entry.
  await entry.focus();
  await page.keyboard.press('Enter');
  await frameDrawn(page);
  assert.equal((await pixelAt(TEST_SPOT.x, TEST_SPOT.y))[3], 255);
});

test('colour by folder: each folder takes its own colour, the folder legend shows it', async () => {
  await openBoth();
  const choices = await page.locator('select.colour-by option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
  assert.ok(choices.includes('folder'), `colour choices: ${choices.join(', ')}`);
  await page.selectOption('select.colour-by', 'folder');
  await frameDrawn(page);
  assert.deepEqual((await pixelAt(KNOWN.x, KNOWN.y)).slice(0, 3), BLUE, 'the training folder in the first colour');
  assert.deepEqual((await pixelAt(TEST_SPOT.x, TEST_SPOT.y)).slice(0, 3), ORANGE, 'the test folder in the second');
  const swatches = await page
    .locator('.folder-item .swatch')
    .evaluateAll((s) => s.map((x) => getComputedStyle(x).backgroundColor.replace(/\s/g, '')));
  assert.deepEqual(swatches, [`rgb(${BLUE.join(',')})`, `rgb(${ORANGE.join(',')})`]);
  await screenshot(page, 'folders-by-folder');
});

test('a new encoding of one folder replaces only its points; another model clears every folder', async () => {
  await openBoth();
  await postToWebview(page, testFolder(10));
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('211 points in 2 folders'));
  assert.deepEqual(await folderEntries(), ['data201', 'data-test10']);
  await frameDrawn(page);
  assert.equal((await pixelAt(KNOWN.x, KNOWN.y))[3], 255, 'the training folder is still drawn');
  assert.equal((await pixelAt(TEST_SPOT.x, TEST_SPOT.y))[3], 255);

  const other = initMessage();
  other.model!.runDir = '/ws/.vae/other';
  await postToWebview(page, other);
  await page.waitForFunction(() => !document.querySelector('.scatter')?.classList.contains('has-points'));
  await frameDrawn(page);
  assert.equal(await page.locator('.folder-legend').isVisible(), false);
  assert.equal((await pixelAt(KNOWN.x, KNOWN.y))[3], 0);
  // The new model's folder comes alone.
  await postToWebview(page, { ...testFolder(), replace: 'all' });
  await page.waitForFunction(() => /^40 points\b/.test(document.querySelector('.info')?.textContent ?? ''));
  assert.deepEqual(await folderEntries(), ['data-test40']);
});

test('a point of the second folder pins, and Reconstruct names its folder', async () => {
  await openBoth();
  const [cx, cy] = await clientPositionFromAxes(page, TEST_SPOT.x, TEST_SPOT.y);
  await page.mouse.move(cx, cy);
  await page.locator('.tooltip-folder', { hasText: 'in data-test' }).waitFor();
  await page.mouse.click(cx, cy);
  await page.locator('.pin-path', { hasText: 'birds/test-000.png' }).waitFor();
  assert.equal(await page.locator('.pin-folder').textContent(), 'in data-test');
  await page.click('vscode-button.reconstruct');
  const [recon] = await waitForPosted(page, 'reconstruct');
  assert.deepEqual([recon.folder, recon.name], ['/data-test', 'birds/test-000.png']);
  await page.click('vscode-button.find-neighbours');
  const [ask] = await waitForPosted(page, 'findNeighbours');
  assert.deepEqual([ask.folder, ask.name], ['/data-test', 'birds/test-000.png']);
});

test('hover, pin, search and Reconstruct name the right file of a later folder, whatever its characters', async () => {
  await openBoth();
  // Names whose UTF-8 bytes outnumber their characters, at spots apart from every other point.
  const names = ['ünï/één.png', 'a b/c #2.png', 'x/€uro 😀.png', 'deep/er/ÿ.png'];
  const spots: [number, number][] = [
    [-0.6, 0],
    [0, -0.6],
    [-0.6, -0.6],
    [0, 0.7],
  ];
  await postToWebview(page, {
    type: 'points',
    folder: '/mixed',
    title: 'mixed',
    folderUri: `${origin()}/img/mixed`,
    names: packNames(names),
    labels: new Int32Array(names.length).fill(-1),
    labelNames: [],
    dims: 2,
    mu: Float32Array.from(spots.flat()),
  });
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('245 points in 3 folders'));
  await frameDrawn(page);
  for (const [i, [x, y]] of spots.entries()) {
    const [cx, cy] = await clientPositionFromAxes(page, x, y);
    await page.mouse.move(cx, cy);
    await page.locator('.tooltip-path', { hasText: names[i] }).waitFor();
    assert.equal(await page.locator('.tooltip-path').textContent(), names[i], `hovering point ${i} of the third folder`);
    assert.equal(await page.locator('.tooltip-folder').textContent(), 'in mixed');
  }
  const [px, py] = await clientPositionFromAxes(page, ...spots[2]);
  await page.mouse.click(px, py);
  await page.locator('.pin-path', { hasText: names[2] }).waitFor();
  await page.click('vscode-button.reconstruct');
  const [recon] = await waitForPosted(page, 'reconstruct');
  assert.deepEqual([recon.folder, recon.name], ['/mixed', names[2]]);
  await page.locator('vscode-textfield.search').click();
  await page.keyboard.type('€uro');
  await page.waitForFunction(() => /1 match/.test(document.querySelector('.info')?.textContent ?? ''));
  // The training folder's names are still its own.
  await page.keyboard.press('Escape');
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.move(kx, ky);
  await page.locator('.tooltip-path', { hasText: KNOWN.name }).waitFor();
});

test('UMAP of several folders asks the engine for each folder', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage(3));
  const three = (m: PointsMessage): PointsMessage => ({
    ...m,
    dims: 3,
    mu: Float32Array.from([...m.labels.keys()].flatMap((i) => [m.mu[2 * i], m.mu[2 * i + 1], 0.1])),
  });
  const train = three(pointsMessage(10, origin()));
  const held = three(testFolder(5));
  await postToWebview(page, train);
  await postToWebview(page, held);
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('46 points in 2 folders'));
  await page.selectOption('select.projection', 'umap');
  const asks = await waitForPosted(page, 'project', 2);
  assert.deepEqual(asks.map((a) => a.folder).sort(), ['/data', '/data-test']);
  for (const a of asks) {
    const n = a.folder === '/data' ? 41 : 5;
    const coords = Float32Array.from({ length: 2 * n }, (_, i) => (a.folder === '/data' ? -5 : 5) + (i % 2));
    await postToWebview(page, { type: 'projection', requestId: a.requestId, coords });
  }
  await page.waitForFunction(() => /UMAP of each folder on its own/.test(document.querySelector('.info')?.textContent ?? ''));
});

test('UMAP is drawn as it converges: intermediate layouts replace PCA at once, the final one ends "converging"', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage(3));
  const m = pointsMessage(10, origin());
  const train: PointsMessage = {
    ...m,
    dims: 3,
    mu: Float32Array.from([...m.labels.keys()].flatMap((i) => [m.mu[2 * i], m.mu[2 * i + 1], 0.1])),
  };
  await postToWebview(page, train);
  const n = train.labels.length;
  await page.selectOption('select.projection', 'umap');
  const [ask] = await waitForPosted(page, 'project');
  const info = async () => (await page.locator('.info').first().textContent()) ?? '';
  assert.match(await info(), /UMAP pending \(showing PCA\)/);
  const diagonal = (sign: number) => Float32Array.from({ length: 2 * n }, (_, i) => sign * Math.floor(i / 2));
  // An intermediate layout is drawn at once, and says it is one.
  await postToWebview(page, { type: 'projection', requestId: ask.requestId, coords: diagonal(1), partial: true });
  await page.waitForFunction(() => /UMAP, converging…/.test(document.querySelector('.info')?.textContent ?? ''));
  await postToWebview(page, { type: 'projection', requestId: ask.requestId, coords: diagonal(-1), partial: true });
  assert.match(await info(), /UMAP, converging…/);
  // The final layout (no `partial`) ends it; a late intermediate one after it is ignored.
  await postToWebview(page, { type: 'projection', requestId: ask.requestId, coords: diagonal(1) });
  await page.waitForFunction(() => /\bUMAP\b(?!, converging)/.test(document.querySelector('.info')?.textContent ?? ''));
  await postToWebview(page, { type: 'projection', requestId: ask.requestId, coords: diagonal(-1), partial: true });
  await new Promise((r) => setTimeout(r, 300));
  assert.doesNotMatch(await info(), /converging/);
});
