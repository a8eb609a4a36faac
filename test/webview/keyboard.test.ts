// Keyboard use of the Latent Explorer: every control is reached with Tab, the scatter pans with
// the arrow keys and zooms with + and −, and focus shows a ring that stands out in high contrast.
// Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { KNOWN } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  savedTransform,
  screenshot,
  setTheme,
  startHarness,
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

async function open(): Promise<Page> {
  page = await openExplorer(harness);
  return page;
}

/** Marks every visible, enabled control with data-kb="n" in document order and returns the count. */
function markControls(): Promise<number> {
  return page.evaluate(() => {
    const selector =
      'vscode-button, vscode-checkbox, vscode-textfield, select, input, button, [tabindex="0"], vscode-tab-header[aria-selected="true"]';
    const controls = Array.from(document.querySelectorAll<HTMLElement>(selector)).filter(
      (e) =>
        e.getClientRects().length > 0 &&
        !e.hasAttribute('disabled') &&
        !e.parentElement?.closest('vscode-button, vscode-checkbox, vscode-textfield'),
    );
    controls.forEach((e, i) => e.setAttribute('data-kb', String(i)));
    return controls.length;
  });
}

/** data-kb of the focused control (the shadow host, for vscode-elements). */
function focusedMark(): Promise<string | null> {
  return page.evaluate(
    () => document.activeElement?.closest('[data-kb]')?.getAttribute('data-kb') ?? document.activeElement?.getAttribute('data-kb') ?? null,
  );
}

test('Tab reaches every control, in order, and the side tabs switch with the arrow keys', async () => {
  await open();
  // Show the optional controls too: the manifold's grid choice appears once the layer is on.
  await page.locator('vscode-checkbox.manifold-toggle').click();
  const count = await markControls();
  assert.ok(count >= 25, `found ${count} controls`);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached: string[] = [];
  for (let i = 0; i < count + 10; i++) {
    await page.keyboard.press('Tab');
    const m = await focusedMark();
    if (m !== null && reached[reached.length - 1] !== m) reached.push(m);
  }
  const names = await page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-kb]')).map(
      (e) =>
        `${e.tagName.toLowerCase()}.${String(e.getAttribute('class') ?? '')
          .split(' ')
          .join('.')}`,
    ),
  );
  const missing = names.filter((_, i) => !reached.includes(String(i)));
  assert.deepEqual(missing, [], 'controls Tab never reaches');
  // Tab starts after the last focused control and wraps around the page in document order.
  const steps = reached.slice(1).map((m, i) => [Number(reached[i]), Number(m)]);
  const jumps = steps.filter(([a, b]) => b !== (a + 1) % count);
  assert.deepEqual(jumps, [], `Tab follows the reading order (${reached.join(' ')})`);
  assert.ok(
    names.some((n) => n.includes('manifold-grid')) &&
      names.some((n) => n.startsWith('svg')) &&
      names.some((n) => n.includes('legend-item')),
  );

  // The side tabs: arrow keys move between headers, Enter opens one. Enter toggles a legend entry.
  await page.locator('vscode-tab-header.tab-images').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('harness-state') ?? '{}').tab === 'training');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('class')), 'tab-training');
  await page.locator('.legend-item').first().focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.legend-item')?.getAttribute('aria-pressed') === 'false');
});

test('arrow keys pan and + / − zoom the focused scatter, with a visible focus ring in high contrast', async () => {
  await open();
  await setTheme(page, 'high-contrast');
  // Reach the scatter from the last toolbar control, as a keyboard user would.
  await page.locator('vscode-checkbox.manifold-toggle').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('class')), 'layer overlay-layer');
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.querySelector('svg.overlay-layer')!);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor };
  });
  assert.equal(ring.style, 'solid');
  assert.ok(ring.width >= 2, `focus ring ${ring.width}px wide`);
  assert.equal(ring.colour, 'rgb(243, 133, 24)', 'the high-contrast focus colour');
  await screenshot(page, '14-keyboard-focus-hc');

  // Each key moves the view at once and the scatter draws the move in its next frame, so the axes
  // are read after that frame.
  const at = () => clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const [x0, y0] = await at();
  await page.keyboard.press('ArrowRight');
  await frameDrawn(page);
  const [x1, y1] = await at();
  assert.ok(Math.abs(x1 - (x0 - 40)) < 1.5 && Math.abs(y1 - y0) < 1.5, `ArrowRight moves the view 40 px: ${x0},${y0} → ${x1},${y1}`);
  await page.keyboard.press('ArrowDown');
  await frameDrawn(page);
  const [x2, y2] = await at();
  assert.ok(Math.abs(x2 - x1) < 1.5 && Math.abs(y2 - (y1 - 40)) < 1.5, `ArrowDown: ${x1},${y1} → ${x2},${y2}`);

  // + zooms by 1.25 about the centre of the plot: distances from the centre grow by 1.25.
  const box = (await page.locator('.scatter').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.keyboard.press('+');
  await frameDrawn(page);
  const [x3, y3] = await at();
  assert.ok(Math.abs(x3 - cx - 1.25 * (x2 - cx)) < 2 && Math.abs(y3 - cy - 1.25 * (y2 - cy)) < 2, `+ zooms in: ${x2},${y2} → ${x3},${y3}`);
  await page.keyboard.press('-');
  await frameDrawn(page);
  const [x4, y4] = await at();
  assert.ok(Math.abs(x4 - x2) < 2 && Math.abs(y4 - y2) < 2, `− undoes +: ${x4},${y4} vs ${x2},${y2}`);
  // 0 resets the view, and the view is kept in the webview state.
  await page.keyboard.press('0');
  await frameDrawn(page);
  const [x5, y5] = await at();
  assert.ok(Math.abs(x5 - x0) < 1.5 && Math.abs(y5 - y0) < 1.5, '0 restores the fitted view');
  const reset = JSON.stringify(await savedTransform(page));
  await page.keyboard.press('ArrowLeft');
  // A key pan comes to rest at once and the view is saved then: wait for the saved view to change.
  await page.waitForFunction(
    (before) => JSON.stringify(JSON.parse(sessionStorage.getItem('harness-state') ?? 'null')?.transform ?? null) !== before,
    reset,
  );
  assert.deepEqual(await savedTransform(page), { k: 1, x: 40, y: 0 }, 'the panned view is saved in the webview state');
});
