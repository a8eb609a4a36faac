// Messages and layout (issue 9, item 5): a success looks like one, says how many files and where,
// offers to reveal them and fades; an error stays, in the error colour; no message, count or
// control that appears moves the plot or wraps the toolbar. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { greyImages, initMessage, pointsMessage } from './fixtures';
import {
  THEMES,
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  postToWebview,
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

/** Where the plot and the toolbar are: a message or a control must not move them. */
async function layout(): Promise<{ plot: string; toolbar: number; rows: number }> {
  return page.evaluate(() => {
    const p = document.querySelector('.scatter')!.getBoundingClientRect();
    const bar = document.querySelector('.toolbar')!;
    const tops = new Set(
      Array.from(bar.children)
        .filter((c) => c.getClientRects().length > 0)
        .map((c) => Math.round(c.getBoundingClientRect().top + c.getBoundingClientRect().height / 2)),
    );
    return { plot: `${p.left},${p.top},${p.width},${p.height}`, toolbar: bar.getBoundingClientRect().height, rows: tops.size };
  });
}

/** '#rrggbb' to the rgb() getComputedStyle reports. */
const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

test('a save says how many images went to which folder, in the success colour, offers to reveal them, and fades', async () => {
  await open({ clock: true });
  const before = await layout();
  await page.click('vscode-button.sample-prior');
  const [sample] = await waitForPosted(page, 'sample');
  await postToWebview(page, { type: 'images', requestId: sample.requestId, images: greyImages(16), latents: new Float32Array(32) });
  await page.waitForFunction(() => document.querySelector('canvas.samples')?.getAttribute('data-images') === '16');
  await page.click('vscode-button.save-samples');
  const [save] = await waitForPosted(page, 'saveImages');
  const files = Array.from({ length: 16 }, (_, i) => `/ws/.vae/demo/samples/sample-${String(i + 1).padStart(3, '0')}.png`);
  await postToWebview(page, { type: 'saved', requestId: save.requestId, files, folder: '.vae/demo/samples' });
  const notice = page.locator('.notice');
  await notice.waitFor({ state: 'visible' });
  assert.equal(await notice.locator('.notice-text').textContent(), 'Saved 16 images to .vae/demo/samples');
  assert.equal(await notice.getAttribute('role'), 'status');
  // The success colour of the theme (the harness's dark theme has charts-green, no testing-iconPassed),
  // not the error colour.
  const colours = await notice.evaluate((n) => ({
    mark: getComputedStyle(n).borderLeftColor,
    icon: getComputedStyle(n.querySelector('.notice-icon')!, '::before').color,
    text: getComputedStyle(n.querySelector('.notice-text')!).color,
  }));
  assert.equal(colours.mark, rgb(THEMES.dark['--vscode-charts-green']));
  assert.equal(colours.icon, rgb(THEMES.dark['--vscode-charts-green']));
  assert.notEqual(colours.text, rgb(THEMES.dark['--vscode-errorForeground']));
  assert.deepEqual(await layout(), before, 'the message moved the plot or the toolbar');
  await screenshot(page, '17-saved');
  await notice.locator('vscode-button.notice-action').click();
  assert.deepEqual(await waitForPosted(page, 'revealFile'), [{ type: 'revealFile', file: files[0] }]);
  // It fades by itself (the pointer moved away from it first: under the pointer it waits).
  await page.mouse.move(5, 400);
  await page.clock.runFor(10_000);
  await notice.waitFor({ state: 'hidden' });
});

test('an error stays, in the error colour, until it is dismissed; a long one does not move the plot', async () => {
  await open({ clock: true });
  const before = await layout();
  const long = `The engine could not decode: ${'a very long explanation of what went wrong and how to fix it, '.repeat(4)}`;
  await postToWebview(page, { type: 'error', message: long });
  const notice = page.locator('.notice');
  await notice.waitFor({ state: 'visible' });
  assert.equal(await notice.getAttribute('role'), 'alert');
  const text = await notice.locator('.notice-text').evaluate((n) => getComputedStyle(n).color);
  assert.equal(text, rgb(THEMES.dark['--vscode-errorForeground']));
  assert.deepEqual(await layout(), before);
  await page.mouse.move(5, 400);
  await page.clock.runFor(30_000);
  assert.ok(await notice.isVisible(), 'an error does not fade away unread');
  await notice.locator('.notice-close').click();
  await notice.waitFor({ state: 'hidden' });
});

test('the toolbar stays one row while its count, its controls and the messages change', async () => {
  page = await harness.newPage();
  await page.setViewportSize({ width: 980, height: 700 });
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, pointsMessage(50, harness.url.replace(/\/$/, '')));
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('201 points'));
  await frameDrawn(page);
  const before = await layout();
  assert.equal(before.rows, 1, 'one row to start with');
  // The manifold's grid choice appears; a selection and a search lengthen the count.
  await page.locator('vscode-checkbox.manifold-toggle').click();
  await page.locator('select.manifold-grid').waitFor({ state: 'visible' });
  await page.click('vscode-button.mode-brush');
  const [x0, y0] = await clientPositionFromAxes(page, 1, -1);
  const [x1, y1] = await clientPositionFromAxes(page, 3, -3);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  await page.locator('vscode-textfield.search').click();
  await page.keyboard.type('cats');
  await page.waitForFunction(() => /match/.test(document.querySelector('.info')?.textContent ?? ''));
  assert.deepEqual(await layout(), before, 'a control or the count wrapped the toolbar or moved the plot');
  await postToWebview(page, {
    type: 'error',
    message: 'Something went wrong, and this message is long enough to wrap a toolbar. '.repeat(2),
  });
  await page.locator('.notice').waitFor({ state: 'visible' });
  await screenshot(page, '18-toolbar-narrow');
  assert.deepEqual(await layout(), before, 'the toolbar wrapped or the plot moved');
  // The count is still there to read, cut short if it must be, and whole in its tooltip.
  const info = await page
    .locator('.toolbar .info')
    .evaluate((n) => ({ width: n.getBoundingClientRect().width, title: n.getAttribute('title') }));
  assert.ok(info.width >= 80, `the count is ${info.width} px wide`);
  assert.match(info.title ?? '', /201 points · \d+ selected · \d+ match “cats”/);
});
