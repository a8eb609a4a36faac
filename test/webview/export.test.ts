// "Export…" (issue 10, item 4): the points of a brush selection, less a class switched off, go to
// the host with where the map draws them and what its axes are; the host's answer shows as a
// success with Reveal. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { namesOf, pointsMessage } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  postToWebview,
  postedMessages,
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

test('Export… hands over the selected, drawn points with their map coordinates; the answer offers Reveal', async () => {
  const points = pointsMessage(50, harness.url.replace(/\/$/, ''));
  page = await openExplorer(harness, { points });

  // Brush around the two upper clusters (dogs at (−2, 2), fish at (2, 2)), then switch fish off.
  await page.click('vscode-button.mode-brush');
  const [x0, y0] = await clientPositionFromAxes(page, -3.2, 3.2);
  const [x1, y1] = await clientPositionFromAxes(page, 3.2, 0.8);
  // From the corner inside the plot; the other may lie beyond the drawn axes (the drag is captured).
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move(x0, y0, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  await page.locator('.legend .legend-item', { hasText: 'fish' }).click();
  await frameDrawn(page);

  await page.click('vscode-button.export-selection');
  const [msg] = await waitForPosted(page, 'exportSelection');
  assert.equal(msg.selection, true);
  assert.deepEqual(msg.axes, ['z0', 'z1']);
  assert.equal(msg.parts.length, 1);
  const part = msg.parts[0];
  assert.equal(part.folder, '/data');
  // Every dog inside the brush, in point order, and nothing else: no fish (switched off), no other class.
  const inBrush = (i: number) => Math.abs(points.mu[2 * i]) <= 3.2 && points.mu[2 * i + 1] >= 0.8 && points.mu[2 * i + 1] <= 3.2;
  const dogs = namesOf(points)
    .map((n, i) => ({ n, i }))
    .filter(({ n, i }) => n.startsWith('dogs/') && inBrush(i));
  assert.ok(dogs.length >= 45, `the fixture's dogs near their centre: ${dogs.length}`);
  assert.deepEqual(
    part.names,
    dogs.map((d) => d.n),
  );
  // The coordinates are the points' own (a 2-D latent is its own map).
  assert.deepEqual(
    Array.from(part.coords),
    dogs.flatMap((d) => [points.mu[2 * d.i], points.mu[2 * d.i + 1]]),
  );

  await postToWebview(page, {
    type: 'exported',
    requestId: msg.requestId,
    text: 'Saved 50 rows to samples/demo/selections/selection-001.csv',
    reveal: '/ws/samples/demo/selections/selection-001.csv',
  });
  const notice = page.locator('.notice', { hasText: 'Saved 50 rows to samples/demo/selections/selection-001.csv' });
  await notice.waitFor();
  await notice.locator('vscode-button', { hasText: 'Reveal' }).click();
  const reveal = (await postedMessages(page)).filter((m) => m.type === 'revealFile');
  assert.deepEqual(reveal, [{ type: 'revealFile', file: '/ws/samples/demo/selections/selection-001.csv' }]);

  // Cleared selection: every drawn point (the fish still off).
  await page.click('vscode-button.clear-selection');
  await page.click('vscode-button.export-selection');
  const all = (await waitForPosted(page, 'exportSelection', 2))[1];
  assert.equal(all.selection, false);
  assert.equal(all.parts[0].names.length, 201 - 50);
  assert.ok(!all.parts[0].names.some((n) => n.startsWith('fish/')));
});
