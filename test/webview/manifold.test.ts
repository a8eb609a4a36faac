// The decoded-manifold layer: a lost reply must not block later refreshes, and the prior's
// inverse-CDF grid can sit behind the scatter with its tiles where their latents fall.
// Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { DecodeLatentsMessage } from '../../src/protocol/webview';
import { gaussianEdges, inverseNormalCdf } from '../../webview/core/grid';
import { greyImages } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  postToWebview,
  postedMessages,
  savedTransform,
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

async function open(opts: { clock?: boolean } = {}): Promise<Page> {
  page = await openExplorer(harness, { ...opts });
  return page;
}

async function decodes(): Promise<DecodeLatentsMessage[]> {
  return (await postedMessages(page)).filter((m): m is DecodeLatentsMessage => m.type === 'decode');
}

/** RGBA of the manifold canvas under a client position. */
async function manifoldPixel(clientX: number, clientY: number): Promise<number[]> {
  return page.evaluate(
    ([x, y]) => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.manifold-layer')!;
      const box = c.getBoundingClientRect();
      const d = window.devicePixelRatio;
      return Array.from(c.getContext('2d')!.getImageData(Math.round((x - box.left) * d), Math.round((y - box.top) * d), 1, 1).data);
    },
    [clientX, clientY] as const,
  );
}

async function manifoldCoverage(): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('canvas.manifold-layer')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
    return n;
  });
}

test('a manifold decode that never gets an answer frees its slot after 15 s, and the next view is decoded', async () => {
  await open({ clock: true });
  await page.locator('vscode-checkbox.manifold-toggle').click();
  const [lost] = await waitForPosted(page, 'decode');
  // Zoom while the first request is out: the new view waits behind it.
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -120);
  await page.clock.runFor(1_000);
  assert.equal((await decodes()).length, 1, 'nothing more is sent while the first decode is in flight');
  await page.clock.runFor(10_000);
  assert.equal((await decodes()).length, 1, 'still waiting at 11 s');
  await page.clock.runFor(5_000);
  const all = await waitForPosted(page, 'decode', 2);
  const next = all[1];
  assert.notEqual(next.requestId, lost.requestId);
  assert.match((await page.locator('.notice .notice-text').textContent()) ?? '', /no answer within 15 s/);
  // The lost request's late answer is not drawn; the newest one is.
  await postToWebview(page, {
    type: 'images',
    requestId: lost.requestId,
    images: greyImages(lost.latents.length / 2),
  });
  await page.clock.runFor(100);
  assert.equal(await manifoldCoverage(), 0, 'a late answer to an abandoned request is not drawn');
  await postToWebview(page, {
    type: 'images',
    requestId: next.requestId,
    images: greyImages(next.latents.length / 2),
  });
  await page.clock.runFor(100);
  await page.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('canvas.manifold-layer')!;
    return c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data[3] === 255;
  });
  // And the slot is free again: the next pan asks at once.
  await page.mouse.wheel(0, 120);
  await page.clock.runFor(1_000);
  assert.equal((await decodes()).length, 3);
});

test('the inverse-CDF grid is drawn behind the scatter where its latents fall, and does not follow the view', async () => {
  // On Playwright's fake clock (time still flows), so the test can jump past the view's timers.
  await open({ clock: true });
  await page.locator('vscode-checkbox.manifold-toggle').click();
  const [view] = await waitForPosted(page, 'decode');
  await postToWebview(page, {
    type: 'images',
    requestId: view.requestId,
    images: greyImages(view.latents.length / 2),
  });
  await page.locator('select.manifold-grid').selectOption('prior');
  const [, prior] = await waitForPosted(page, 'decode', 2);
  const n = 15;
  assert.equal(prior.latents.length, n * n * 2, 'a 15 × 15 grid of 2-D latents');
  // Row-major from the top: cell (0, 0) is at the 5 % quantile in x and the 95 % quantile in y.
  const q05 = inverseNormalCdf(0.05);
  assert.ok(
    Math.abs(prior.latents[0] - q05) < 1e-5 && Math.abs(prior.latents[1] + q05) < 1e-5,
    `first latent ${prior.latents[0]}, ${prior.latents[1]}`,
  );
  const centre = (7 * n + 7) * 2;
  assert.ok(Math.abs(prior.latents[centre]) < 1e-6 && Math.abs(prior.latents[centre + 1]) < 1e-6);
  // Image i has grey 20·i + 10 (mod 256): the tile under each latent must be that latent's image.
  await postToWebview(page, { type: 'images', requestId: prior.requestId, images: greyImages(n * n) });
  const grey = (i: number) => (20 * i + 10) % 256;
  // The view-following grid drawn before is replaced by this one once its images are in: wait for
  // the first tile to show its own image, then check the others.
  const [x0, y0] = await clientPositionFromAxes(page, prior.latents[0], prior.latents[1]);
  const deadline = Date.now() + 10_000;
  while ((await manifoldPixel(x0, y0))[0] !== grey(0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const [r, c] of [
    [0, 0],
    [7, 7],
    [3, 11],
    [14, 14],
  ]) {
    const i = r * n + c;
    const [px, py] = await clientPositionFromAxes(page, prior.latents[2 * i], prior.latents[2 * i + 1]);
    assert.deepEqual(await manifoldPixel(px, py), [grey(i), grey(i), grey(i), 255], `tile (${r}, ${c}) at its latent`);
  }
  // Cells hold equal prior mass: the one at the origin is narrower on screen than the one in the tail.
  const edges = gaussianEdges(n);
  const width = async (c: number) => {
    const [a] = await clientPositionFromAxes(page, edges[c], 0);
    const [b] = await clientPositionFromAxes(page, edges[c + 1], 0);
    return b - a;
  };
  assert.ok((await width(7)) * 2 < (await width(0)), 'tail cells are wider than central ones');
  // Outside the outermost edges nothing is drawn.
  const [ox, oy] = await clientPositionFromAxes(page, edges[n] + 0.3, 0);
  assert.equal((await manifoldPixel(ox, oy))[3], 0);
  await screenshot(page, '13-manifold-prior');
  // The grid is fixed in latent space: panning draws it elsewhere but asks for nothing new.
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -200);
  // That nothing is asked needs time to pass: 1 s of virtual time runs every timer due in it, among
  // them the wheel gesture's end 150 ms on and the 200 ms debounce a view-following grid would
  // start then; the frame after it has the zoomed view drawn.
  await page.clock.runFor(1_000);
  await frameDrawn(page);
  assert.ok((await savedTransform(page))!.k > 1, 'the zoom came to rest (its view was saved)');
  assert.equal((await decodes()).length, 2);
  const [cx, cy] = await clientPositionFromAxes(page, 0, 0);
  assert.deepEqual(await manifoldPixel(cx, cy), [grey(7 * n + 7), grey(7 * n + 7), grey(7 * n + 7), 255]);
  // Back to the visible region: a fresh decode for the view.
  await page.locator('select.manifold-grid').selectOption('view');
  await waitForPosted(page, 'decode', 3);
});
