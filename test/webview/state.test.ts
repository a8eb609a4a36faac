// What stays and what goes (issue 9, item 7). VS Code discards a hidden webview and builds it
// again when its tab comes back: decoded strips, samples, the reconstruction and the pin must be
// there again. Loading another model clears what belonged to the old one: endpoints, their
// markers, the pin and the decoded images. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { packNames } from '../../src/protocol/pointNames';
import type { InitMessage, PointsMessage } from '../../src/protocol/webview';
import { KNOWN, greyImages, initMessage, pointsMessage } from './fixtures';
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

/** Says ready, then gets the model and the points, as the host does on every (re)load. */
async function replay(init: InitMessage = initMessage(), points: PointsMessage = pointsMessage(50, origin())): Promise<void> {
  await waitForPosted(page, 'ready');
  await postToWebview(page, init);
  await postToWebview(page, points);
  await page.waitForFunction((n) => document.querySelector('.info')?.textContent?.includes(`${n} points`), points.labels.length);
  await frameDrawn(page);
}

/** Another run, with an 8-dimensional latent space. */
function otherModel(): InitMessage {
  const init = initMessage(8);
  return { ...init, model: { ...init.model!, runName: 'other', runDir: '/ws/.vae/other' } };
}

function emptyPoints(dims: number): PointsMessage {
  return {
    type: 'points',
    folder: '',
    folderUri: '',
    names: packNames([]),
    labels: new Int32Array(0),
    labelNames: [],
    dims,
    mu: new Float32Array(0),
  };
}

/** Per side-panel canvas: how many images it shows and the RGBA inside its first one. */
function panelImages(): Promise<Record<string, { images: string | null; pixel: number[] | null }>> {
  return page.evaluate(() => {
    const out: Record<string, { images: string | null; pixel: number[] | null }> = {};
    for (const c of Array.from(document.querySelectorAll<HTMLCanvasElement>('.side canvas'))) {
      const name = Array.from(c.classList)
        .filter((k) => k !== 'enlargeable')
        .pop()!;
      const images = c.getAttribute('data-images');
      const scale = Number(c.getAttribute('data-scale') ?? 1);
      const pixel = images && c.width > 0 ? Array.from<number>(c.getContext('2d')!.getImageData(4 * scale, 4 * scale, 1, 1).data) : null;
      out[name] = { images, pixel };
    }
    return out;
  });
}

async function interpolateKnownToFirst(): Promise<void> {
  const first = Array.from(pointsMessage().mu.slice(0, 2));
  const [ax, ay] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const [bx, by] = await clientPositionFromAxes(page, first[0], first[1]);
  await page.keyboard.down('Shift');
  await page.mouse.click(ax, ay);
  await page.mouse.click(bx, by);
  await page.keyboard.up('Shift');
}

test('decoded strips, samples, the grid, the reconstruction and the pin come back when the page is rebuilt', async () => {
  page = await harness.newPage({ reducedMotion: true });
  await replay();
  await interpolateKnownToFirst();
  const [strip] = await waitForPosted(page, 'decode');
  await postToWebview(page, { type: 'images', requestId: strip.requestId, images: greyImages(16) });
  await page.click('vscode-button.sample-prior');
  const [sample] = await waitForPosted(page, 'sample');
  const drawn = new Float32Array(32).map((_, i) => i / 10 - 1.5);
  await postToWebview(page, { type: 'images', requestId: sample.requestId, images: greyImages(16), latents: drawn });
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.click('vscode-button.reconstruct');
  const [recon] = await waitForPosted(page, 'reconstruct');
  await postToWebview(page, {
    type: 'reconstruction',
    requestId: recon.requestId,
    name: KNOWN.name,
    result: {
      originals: { ...greyImages(1), pixels: new Uint8Array(64).fill(60) },
      reconstructions: { ...greyImages(1), pixels: new Uint8Array(64).fill(200) },
      terms: [{ reconstruction: 80, kl: 6, elbo: -86, bitsPerDim: 1.9 }],
      skipped: [],
    },
  });
  await page.click('vscode-button.gaussian-grid');
  const [grid] = await waitForPosted(page, 'decode', 2).then((d) => d.slice(1));
  await postToWebview(page, { type: 'images', requestId: grid.requestId, images: greyImages(225) });
  await page.waitForFunction(() => document.querySelector('canvas.manifold-grid')?.getAttribute('data-images') === '225');
  await page.waitForFunction(() => /known cat #1\.png/.test(document.querySelector('.recon-name')?.textContent ?? ''));
  const before = await panelImages();
  assert.deepEqual(before['strip-lerp'], { images: '8', pixel: [10, 10, 10, 255] });
  assert.deepEqual(before['strip-slerp'], { images: '8', pixel: [170, 170, 170, 255] });
  assert.deepEqual(before['samples'], { images: '16', pixel: [10, 10, 10, 255] });
  assert.deepEqual(before['recon-original'], { images: '1', pixel: [60, 60, 60, 255] });
  assert.deepEqual(before['recon-decoded'], { images: '1', pixel: [200, 200, 200, 255] });
  assert.equal(before['manifold-grid'].images, '225');

  // The tab goes to the background and comes back: a new page, the same webview state.
  await page.reload();
  await replay();
  await page.locator('.pin-card').waitFor({ state: 'visible' });
  assert.deepEqual(await panelImages(), before);
  assert.match((await page.locator('.recon-name').textContent()) ?? '', /known cat #1\.png/);
  assert.match((await page.locator('.recon-terms').textContent()) ?? '', /−ELBO 86\.00/);
  assert.equal(await page.locator('.pin-path').textContent(), KNOWN.name);
  assert.equal(await page.locator('.marks g.pin').count(), 1);
  await screenshot(page, '16-restored-images');
  // What came back can still be saved: by the latents it was decoded from.
  await page.click('vscode-button.save-strip');
  await page.click('vscode-button.save-samples');
  const saves = await waitForPosted(page, 'saveImages', 2);
  assert.deepEqual(Array.from(saves[0].latents), Array.from(strip.latents));
  assert.deepEqual(Array.from(saves[1].latents), Array.from(drawn));
});

test('another model clears endpoints, their markers, the pin and the decoded images; the same model replayed keeps them', async () => {
  page = await harness.newPage({ reducedMotion: true });
  await replay();
  await interpolateKnownToFirst();
  const [strip] = await waitForPosted(page, 'decode');
  await postToWebview(page, { type: 'images', requestId: strip.requestId, images: greyImages(16) });
  await page.waitForFunction(() => document.querySelector('canvas.strip-lerp')?.getAttribute('data-images') === '8');
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.locator('.pin-card').waitFor({ state: 'visible' });

  // The host replays the same model and points (the panel was moved, or shown again).
  await postToWebview(page, initMessage());
  await postToWebview(page, pointsMessage(50, origin()));
  await frameDrawn(page);
  assert.equal(await page.locator('.marks g.endpoint').count(), 2);
  assert.equal(await page.locator('.marks g.pin').count(), 1);
  assert.equal((await panelImages())['strip-lerp'].images, '8');

  // A strip asked for just before the switch answers after it.
  await page.click('vscode-button.decode-strip');
  const [, late] = await waitForPosted(page, 'decode', 2);

  // Another model: the host sends it, then no points (none were encoded with it).
  await postToWebview(page, otherModel());
  await postToWebview(page, emptyPoints(8));
  await page.waitForFunction(() => !document.querySelector('.scatter')?.classList.contains('has-points'));
  await frameDrawn(page);
  assert.equal(await page.locator('.marks g.endpoint').count(), 0, 'no endpoint (no stale "B") on the empty scatter');
  assert.equal(await page.locator('.marks g.pin').count(), 0);
  assert.equal(await page.locator('.pin-card').isVisible(), false);
  assert.equal(await page.locator('.endpoints-text').textContent(), 'No endpoints yet.');
  await postToWebview(page, { type: 'images', requestId: late.requestId, images: greyImages(16) });
  await frameDrawn(page);
  const after = await panelImages();
  for (const [name, shown] of Object.entries(after)) assert.equal(shown.images, null, `${name} still shows the old model's images`);
  const state = await page.evaluate(() => JSON.parse(sessionStorage.getItem('harness-state') ?? '{}'));
  assert.deepEqual([state.endpoints, state.pin, state.model], [[], null, '/ws/.vae/other']);
  // Nothing of the old model's to save.
  await page.click('vscode-button.save-strip');
  await frameDrawn(page);
  assert.equal((await postedMessages(page)).filter((m) => m.type === 'saveImages').length, 0);
});

test('endpoints saved by an older version for a 2-D model are dropped when an 8-D model is loaded', async () => {
  page = await harness.newPage();
  // State written before the model was recorded in it: endpoints of a 2-D latent space.
  await page.evaluate(() =>
    sessionStorage.setItem(
      'harness-state',
      JSON.stringify({
        version: 1,
        endpoints: [
          [0.5, 0.25],
          [-2, -2],
        ],
      }),
    ),
  );
  await page.reload();
  await waitForPosted(page, 'ready');
  await postToWebview(page, otherModel());
  await postToWebview(page, emptyPoints(8));
  await page.waitForFunction(() => document.querySelector('.endpoints-text')?.textContent === 'No endpoints yet.');
  await frameDrawn(page);
  assert.equal(await page.locator('.marks g.endpoint').count(), 0);
});
