// The pinned point (issue 9, item 1): a click pins a point, and Reconstruct, Sample around point
// and Traverse act on it, however the pointer travels to their buttons. The pin shows a marker
// that follows its point, its image and path in the side panel; Escape unpins, Enter and a
// double-click open the file. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ReconstructResult } from '../../src/protocol/engine';
import { packNames } from '../../src/protocol/pointNames';
import { KNOWN, greyImages, initMessage, namesOf, pointsMessage } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  postToWebview,
  postedMessages,
  screenshot,
  startHarness,
  waitForPosted,
  type Harness,
  openExplorer,
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

async function open(): Promise<Page> {
  page = await openExplorer(harness);
  return page;
}

/** The first cat of the fixture (index 50): a point of another cluster than the known one. */
function firstCat(): { name: string; x: number; y: number } {
  const p = pointsMessage();
  return { name: namesOf(p)[50], x: p.mu[100], y: p.mu[101] };
}

/** Centre of the pin marker in client pixels, or null when there is none. */
function pinMarker(): Promise<[number, number] | null> {
  return page.evaluate(() => {
    const ring = document.querySelector('.marks g.pin circle.pin-ring');
    if (!ring) return null;
    const r = ring.getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2] as [number, number];
  });
}

async function assertMarkerAt(x: number, y: number, what: string): Promise<void> {
  const [px, py] = await clientPositionFromAxes(page, x, y);
  const m = await pinMarker();
  assert.ok(m, `no pin marker (${what})`);
  assert.ok(Math.abs(m[0] - px) < 1.5 && Math.abs(m[1] - py) < 1.5, `pin marker at ${m}, the point at ${px},${py} (${what})`);
}

function reconstruction(fill: number): ReconstructResult {
  return {
    originals: { ...greyImages(1), pixels: new Uint8Array(64).fill(fill) },
    reconstructions: { ...greyImages(1), pixels: new Uint8Array(64).fill(fill + 1) },
    terms: [{ reconstruction: 80, kl: 6, elbo: -86, bitsPerDim: 1.9 }],
    skipped: [],
  };
}

const reconPixel = () =>
  page.evaluate(() =>
    Array.from(document.querySelector<HTMLCanvasElement>('canvas.recon-original')!.getContext('2d')!.getImageData(5, 5, 1, 1).data),
  );

test('Reconstruct, Sample around point and Traverse act on the pinned point, not on the last one hovered', async () => {
  await open();
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.locator('.pin-card').waitFor({ state: 'visible' });
  // On the way to the side panel the pointer crosses the cats: one of them is hovered last.
  const cat = firstCat();
  const [cx, cy] = await clientPositionFromAxes(page, cat.x, cat.y);
  await page.mouse.move(cx, cy, { steps: 8 });
  await page.locator('.tooltip').waitFor({ state: 'visible' });
  assert.notEqual(await page.locator('.tooltip-path').textContent(), KNOWN.name);
  const button = (await page.locator('vscode-button.reconstruct').boundingBox())!;
  await page.mouse.move(button.x + button.width / 2, button.y + button.height / 2, { steps: 8 });
  await page.mouse.down();
  await page.mouse.up();
  const [recon] = await waitForPosted(page, 'reconstruct');
  assert.deepEqual([recon.folder, recon.name], ['/data', KNOWN.name], 'the pinned point is reconstructed');
  await page.click('vscode-button.sample-around');
  const [sample] = await waitForPosted(page, 'sample');
  assert.deepEqual(sample.mode, { kind: 'around', center: [KNOWN.x, KNOWN.y], radius: 0.5 });
  await page.click('vscode-button.traverse');
  const [traverse] = await waitForPosted(page, 'decode');
  // A traversal row per dimension, nine steps each; the middle of every row is the pinned point.
  assert.deepEqual(Array.from(traverse.latents.slice(8, 10)), [KNOWN.x, KNOWN.y]);
  // Saving the traversal writes it as one set with its rows named by the dimension each sweeps.
  await postToWebview(page, { type: 'images', requestId: traverse.requestId, images: greyImages(18) });
  await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('canvas.manifold-grid')?.dataset.images === '18');
  await page.click('vscode-button.save-grid');
  const [save] = await waitForPosted(page, 'saveImages');
  assert.equal(save.baseName, 'traversal');
  assert.deepEqual(save.rows, ['z0', 'z1']);
  assert.deepEqual(Array.from(save.latents), Array.from(traverse.latents), 'the save names the traversal shown');

  // The reconstruction pane names the image it shows.
  await postToWebview(page, { type: 'reconstruction', requestId: recon.requestId, name: KNOWN.name, result: reconstruction(40) });
  await page.waitForFunction(() => /known cat #1\.png/.test(document.querySelector('.recon-name')?.textContent ?? ''));
  assert.deepEqual(await reconPixel(), [40, 40, 40, 255]);
});

test('an older reconstruction arriving after a newer one was asked for is not shown', async () => {
  await open();
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.click('vscode-button.reconstruct');
  const [first] = await waitForPosted(page, 'reconstruct');
  const cat = firstCat();
  const [cx, cy] = await clientPositionFromAxes(page, cat.x, cat.y);
  await page.mouse.click(cx, cy);
  await page.locator('.pin-name', { hasText: 'cats-000.png' }).waitFor();
  await page.click('vscode-button.reconstruct');
  const [, second] = await waitForPosted(page, 'reconstruct', 2);
  assert.equal(second.name, cat.name);
  // The known point's reply comes last: the pane keeps showing the cat it names.
  await postToWebview(page, { type: 'reconstruction', requestId: second.requestId, name: cat.name, result: reconstruction(100) });
  await page.waitForFunction(() => /cats-000\.png/.test(document.querySelector('.recon-name')?.textContent ?? ''));
  await postToWebview(page, { type: 'reconstruction', requestId: first.requestId, name: KNOWN.name, result: reconstruction(40) });
  await frameDrawn(page);
  assert.match((await page.locator('.recon-name').textContent()) ?? '', /cats-000\.png/);
  assert.deepEqual(await reconPixel(), [100, 100, 100, 255]);
});

test('a click pins a point: a marker that follows pan and zoom, its image and path beside; Escape unpins, Enter and double-click open', async () => {
  await open();
  assert.equal(await page.locator('.pin-card').isVisible(), false);
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.locator('.pin-card').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.pin-name').textContent(), 'known cat #1.png');
  assert.equal(await page.locator('.pin-path').textContent(), KNOWN.name);
  assert.equal(await page.locator('.pin-label').textContent(), 'cats');
  const src = (await page.locator('img.pin-image').getAttribute('src')) ?? '';
  assert.equal(decodeURIComponent(new URL(src).pathname), '/img/data/cats/known cat #1.png');
  await assertMarkerAt(KNOWN.x, KNOWN.y, 'after the click');
  // A single click opens nothing.
  assert.equal((await postedMessages(page)).filter((m) => m.type === 'openFile').length, 0);
  await screenshot(page, '15-pinned');

  // The marker follows the point through keyboard pan and zoom, and a wheel zoom.
  await page.focus('svg.overlay-layer');
  for (const key of ['ArrowRight', '+', '+', 'ArrowUp']) await page.keyboard.press(key);
  await frameDrawn(page);
  await assertMarkerAt(KNOWN.x, KNOWN.y, 'after keyboard pan and zoom');
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
  await page.mouse.wheel(0, 200);
  await frameDrawn(page);
  await assertMarkerAt(KNOWN.x, KNOWN.y, 'after a wheel zoom');

  // Enter on the scatter opens the pinned file; Escape unpins.
  await page.focus('svg.overlay-layer');
  await page.keyboard.press('Enter');
  assert.deepEqual(await waitForPosted(page, 'openFile'), [{ type: 'openFile', folder: '/data', name: KNOWN.name }]);
  await page.keyboard.press('Escape');
  await page.locator('.pin-card').waitFor({ state: 'hidden' });
  assert.equal(await pinMarker(), null);
  assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem('harness-state') ?? '{}').pin), null);
  // With nothing pinned, Enter opens nothing and Reconstruct says what to do.
  await page.keyboard.press('Enter');
  await page.click('vscode-button.reconstruct');
  assert.equal((await postedMessages(page)).filter((m) => m.type === 'reconstruct').length, 0);

  // A double-click pins and opens; the side panel's button opens the pinned file too.
  const cat = firstCat();
  const [cx, cy] = await clientPositionFromAxes(page, cat.x, cat.y);
  await page.mouse.dblclick(cx, cy);
  const opened = await waitForPosted(page, 'openFile', 2);
  assert.deepEqual(opened[1], { type: 'openFile', folder: '/data', name: cat.name });
  await assertMarkerAt(cat.x, cat.y, 'after a double-click');
  await page.click('vscode-button.open-file');
  assert.deepEqual((await waitForPosted(page, 'openFile', 3))[2], { type: 'openFile', folder: '/data', name: cat.name });
  // Escape from a side-panel control unpins as well.
  await page.locator('vscode-button.open-file').focus();
  await page.keyboard.press('Escape');
  await page.locator('.pin-card').waitFor({ state: 'hidden' });
});

test('the marker follows its point to another projection; a new encoding of the folder without the file unpins it', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage(3));
  const base = pointsMessage(20, origin());
  const n = base.labels.length;
  const mu = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    mu[i * 3] = base.mu[i * 2];
    mu[i * 3 + 1] = base.mu[i * 2 + 1];
    mu[i * 3 + 2] = -2 * base.mu[i * 2];
  }
  const points = { ...base, dims: 3, mu };
  await postToWebview(page, points);
  await page.waitForFunction(() => /PCA/.test(document.querySelector('.info')?.textContent ?? ''));
  await page.selectOption('select.projection', 'dims');
  await page.waitForFunction(() => /z0 × z1/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.locator('.pin-card').waitFor({ state: 'visible' });
  await assertMarkerAt(KNOWN.x, KNOWN.y, 'z0 × z1');
  // z2 × z1: the known point moves to (−2·0.5, 0.25).
  await page.selectOption('select.dim-x', '2');
  await page.waitForFunction(() => /z2 × z1/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  await assertMarkerAt(-2 * KNOWN.x, KNOWN.y, 'z2 × z1');
  await page.selectOption('select.projection', 'pca');
  await page.waitForFunction(() => /PCA/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  assert.ok(await pinMarker(), 'the marker stays under PCA');
  assert.equal(await page.locator('.pin-path').textContent(), KNOWN.name);

  // The same folder encoded again, still holding the file: the pin stays.
  await postToWebview(page, points);
  await frameDrawn(page);
  assert.ok(await pinMarker(), 'a re-encoding that holds the file keeps the pin');
  // Encoded again without it: the pin goes.
  const keep = n - 1;
  await postToWebview(page, {
    ...points,
    names: packNames(namesOf(points).slice(0, keep)),
    labels: points.labels.slice(0, keep),
    mu: mu.slice(0, keep * 3),
  });
  await page.locator('.pin-card').waitFor({ state: 'hidden' });
  await frameDrawn(page);
  assert.equal(await pinMarker(), null);
  // The file back in the folder does not bring the pin back: it was cleared.
  await postToWebview(page, points);
  await frameDrawn(page);
  assert.equal(await pinMarker(), null);
});
