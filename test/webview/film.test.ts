// "Latent space over training" (issue 10, item 6): the film of a fixed subset's posterior means
// after each epoch, in the Training view; a new epoch animates in, the slider replays any epoch.
// Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { FilmMessage } from '../../src/protocol/webview';
import { initMessage } from './fixtures';
import { pageProblems, postToWebview, screenshot, startHarness, waitForPosted, type Harness } from './harness';

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

/** Frame e puts all four points at (e, e): one visible spot per epoch. */
function film(epochs: number[], replace: boolean): FilmMessage {
  return {
    type: 'film',
    runDir: '/ws/.vae/demo',
    replace,
    dims: 2,
    labels: Int32Array.from([0, 1, 2, 3]),
    labelNames: ['birds', 'cats', 'dogs', 'fish'],
    frames: epochs.map((e) => ({ epoch: e, mu: new Float32Array(8).fill(e) })),
  };
}

/** Alpha of the film canvas at the spot where (v, v) is drawn when the epochs shown span 0…last. */
function alphaAt(v: number, last: number): Promise<number> {
  return page.evaluate(
    ([v, last]) => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.film-canvas')!;
      const half = last * 0.55;
      const [x0, y1] = [last / 2 - half, last / 2 + half];
      const s = c.width / (2 * half);
      return c.getContext('2d')!.getImageData(Math.round((v - x0) * s), Math.round((y1 - v) * s), 1, 1).data[3];
    },
    [v, last],
  );
}

test('the film shows the latest epoch, animates a new one in, and the slider replays any epoch', async () => {
  page = await harness.newPage({ reducedMotion: true });
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await page.locator('vscode-tab-header', { hasText: 'Training' }).click();
  assert.equal(await page.locator('section.film').isVisible(), false, 'no film, no panel');
  await postToWebview(page, film([0, 1, 2], true));
  await page.locator('section.film').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.film-epoch').textContent(), 'epoch 2 of 2');
  assert.ok((await alphaAt(2, 2)) > 0, 'the points where epoch 2 put them');
  assert.equal(await alphaAt(0, 2), 0, 'not where epoch 0 put them');

  // The next epoch arrives during training: the film follows it.
  await postToWebview(page, film([3], false));
  await page.waitForFunction(() => document.querySelector('canvas.film-canvas')?.getAttribute('data-epoch') === '3');
  assert.equal(await page.locator('.film-epoch').textContent(), 'epoch 3 of 3');
  assert.ok((await alphaAt(3, 3)) > 0);
  await screenshot(page, 'film-latest');

  // Back to the untrained encoder with the slider (keyboard).
  await page.locator('input.film-slider').focus();
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('canvas.film-canvas')?.getAttribute('data-epoch') === '0');
  assert.ok((await alphaAt(0, 3)) > 0, 'epoch 0: where the untrained encoder put them');
  assert.equal(await alphaAt(3, 3), 0);
  // Someone replaying keeps their place when another epoch arrives.
  await postToWebview(page, film([4], false));
  await page.waitForFunction(() => document.querySelector('.film-epoch')?.textContent === 'epoch 0 of 4');
  // Another run replaces the film.
  await postToWebview(page, { ...film([0, 1], true), runDir: '/ws/.vae/other' });
  await page.waitForFunction(() => document.querySelector('.film-epoch')?.textContent === 'epoch 1 of 1');
});
