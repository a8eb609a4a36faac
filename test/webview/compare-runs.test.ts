// Issue 10, item 7, in the built webview: the Training view compares the shown run with other runs
// of the workspace — each added run draws its per-epoch curves where its figures put them, in its
// own colour, with a row of its settings; removing it takes its curves and row away, and the live
// per-step curves stay as they were. Screenshot: .test-output/webview/compare-runs.png.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ElboTerms } from '../../src/protocol/model';
import { runSettings, settingsLine } from '../../src/protocol/runSettings';
import type { ComparedEpoch, RunChoice } from '../../src/protocol/webview';
import { initMessage, seriesMessage } from './fixtures';
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

const terms = (negElbo: number, kl: number): ElboTerms => ({ reconstruction: negElbo - kl, kl, elbo: -negElbo, bitsPerDim: 0 });

function run(name: string, patch: Parameters<typeof runSettings>[0], current = false): RunChoice {
  return { runDir: `/ws/.vae/${name}`, name, settings: runSettings(patch), ...(current ? { current: true as const } : {}) };
}

const SHOWN = run(
  'demo',
  { model: { architecture: 'mlp', hiddenUnits: [400], latentSize: 2 }, training: { epochs: 10 }, epochsCompleted: 5 },
  true,
);
const WIDE = run('wide', {
  model: { architecture: 'mlp', hiddenUnits: [800], latentSize: 8, beta: 1, likelihood: 'bernoulli' },
  training: { epochs: 8, batchSize: 64, learningRate: 0.001 },
  preprocessing: { width: 28, height: 28, channels: 1 },
  epochsCompleted: 8,
  backend: 'webgpu',
});
const CONV = run('conv', {
  model: { architecture: 'conv', convFilters: [32, 64], latentSize: 16, beta: 4, likelihood: 'gaussian', sigma: 0.1 },
  training: { epochs: 3, batchSize: 128, learningRate: 0.0005 },
  preprocessing: { width: 32, height: 32, channels: 3 },
  epochsCompleted: 3,
  backend: 'wasm',
});

/** Eight epochs falling from 230 to 125 (validation from epoch 2 on, 4 nats above). */
const WIDE_EPOCHS: ComparedEpoch[] = Array.from({ length: 8 }, (_, i) => ({
  epoch: i + 1,
  train: terms(230 - 15 * i, 4 + i),
  validation: i === 0 ? null : terms(234 - 15 * i, 4 + i),
}));
const CONV_EPOCHS: ComparedEpoch[] = [1, 2, 3].map((epoch) => ({
  epoch,
  train: terms(300 - 20 * epoch, 20),
  validation: terms(310 - 20 * epoch, 20),
}));

async function open(): Promise<Page> {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, seriesMessage(600, 5));
  await page.click('vscode-tab-header.tab-training');
  await postToWebview(page, { type: 'runs', runs: [SHOWN, WIDE, CONV] });
  await frameDrawn(page);
  return page;
}

/** Answers the webview's latest compareRun request for `choice` with its epochs. */
async function answer(choice: RunChoice, epochs: ComparedEpoch[], nth: number): Promise<void> {
  const asked = (await waitForPosted(page, 'compareRun', nth))[nth - 1];
  assert.equal(asked.runDir, choice.runDir, 'the webview asks for the run picked');
  await postToWebview(page, { type: 'comparedRun', requestId: asked.requestId, run: { ...choice, epochs } });
  await frameDrawn(page);
}

const options = () => page.locator('select.compare-select option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).text));
const tableRows = () =>
  page.locator('.compare-table tbody tr').evaluateAll((rows) =>
    rows.map((r) =>
      Array.from(r.querySelectorAll('th, td'))
        .map((c) => (c.textContent ?? '').trim())
        .filter((t) => t !== 'Remove'),
    ),
  );
const series = (term: string, runDir: string, kind: 'train' | 'val') =>
  page.locator(`svg.compare-${term} g.run-series[data-run="${runDir}"][data-kind="${kind}"]`);

/**
 * The values a series' points stand for, read back from the chart: x through the epoch axis, y
 * through the value axis (each axis' ticks give pixel → value).
 */
async function plotted(term: string, runDir: string, kind: 'train' | 'val'): Promise<{ epoch: number; value: number }[]> {
  return page.locator(`svg.compare-${term}`).evaluate(
    (svg, [dir, k]) => {
      // d3-axis draws ticks half a pixel off on low-density screens, for crisp lines.
      const offset = window.devicePixelRatio > 1 ? 0 : 0.5;
      const ticks = (axis: string, coord: 'x' | 'y') =>
        Array.from(svg.querySelectorAll(`.${axis} .tick`))
          .map((t) => {
            const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(t.getAttribute('transform') ?? '');
            const label = Number((t.textContent ?? '').replace('−', '-'));
            return m && (t.textContent ?? '') !== '' ? { px: Number(coord === 'x' ? m[1] : m[2]) - offset, v: label } : null;
          })
          .filter((t): t is { px: number; v: number } => t !== null && Number.isFinite(t.v));
      const fit = (ts: { px: number; v: number }[]) => {
        const [a, b] = [ts[0], ts[ts.length - 1]];
        return (px: number) => a.v + ((px - a.px) * (b.v - a.v)) / (b.px - a.px);
      };
      const toEpoch = fit(ticks('axis-x', 'x'));
      const toValue = fit(ticks('axis-y', 'y'));
      const g = svg.querySelector(`g.run-series[data-run="${dir}"][data-kind="${k}"]`);
      return Array.from(g?.querySelectorAll('circle') ?? []).map((c) => ({
        epoch: toEpoch(Number(c.getAttribute('cx'))),
        value: toValue(Number(c.getAttribute('cy'))),
      }));
    },
    [runDir, kind] as const,
  );
}

function assertFollows(points: { epoch: number; value: number }[], expected: { epoch: number; value: number }[], what: string): void {
  assert.equal(points.length, expected.length, `${what}: one point per epoch`);
  points.forEach((p, i) => {
    assert.ok(Math.abs(p.epoch - expected[i].epoch) < 0.05, `${what}: point ${i} at epoch ${p.epoch}, expected ${expected[i].epoch}`);
    assert.ok(Math.abs(p.value - expected[i].value) < 0.5, `${what}: point ${i} at ${p.value}, expected ${expected[i].value}`);
  });
}

test('compared runs draw their per-epoch curves where their figures are, each with its settings row; removing one takes it away', async () => {
  await open();
  const liveBefore = await page.locator('svg.chart-negElbo path.series').getAttribute('data-points');
  assert.deepEqual(await options(), ['Choose a run…', 'wide', 'conv'], 'the shown run is not offered to compare with itself');
  assert.ok(await page.locator('.compare-shown').isHidden(), 'nothing is compared yet: no comparison charts');

  // Mouse: pick a run and press Compare.
  await page.selectOption('select.compare-select', WIDE.runDir);
  await page.click('vscode-button.compare-add');
  await answer(WIDE, WIDE_EPOCHS, 1);
  assert.ok(await page.locator('.compare-shown').isVisible());
  assert.equal(await series('negElbo', WIDE.runDir, 'train').locator('path').getAttribute('data-points'), '8');
  assert.equal(await series('negElbo', WIDE.runDir, 'val').locator('path').getAttribute('data-points'), '7', 'epoch 1 had no validation');
  assertFollows(
    await plotted('negElbo', WIDE.runDir, 'train'),
    WIDE_EPOCHS.map((e) => ({ epoch: e.epoch, value: -e.train.elbo })),
    'wide, −ELBO training',
  );
  assertFollows(
    await plotted('negElbo', WIDE.runDir, 'val'),
    WIDE_EPOCHS.slice(1).map((e) => ({ epoch: e.epoch, value: -e.validation!.elbo })),
    'wide, −ELBO validation',
  );
  assertFollows(
    await plotted('kl', WIDE.runDir, 'train'),
    WIDE_EPOCHS.map((e) => ({ epoch: e.epoch, value: e.train.kl })),
    'wide, KL',
  );
  // The shown run is drawn per epoch beside it, from its own series (5 epochs).
  assert.equal(await series('reconstruction', SHOWN.runDir, 'train').locator('path').getAttribute('data-points'), '5');

  // Keyboard: Tab to the list, choose with the arrows, Tab to Compare, Enter.
  await page.focus('select.compare-select');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('select.compare-select').inputValue(), CONV.runDir);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await answer(CONV, CONV_EPOCHS, 2);
  assertFollows(
    await plotted('reconstruction', CONV.runDir, 'val'),
    CONV_EPOCHS.map((e) => ({ epoch: e.epoch, value: e.validation!.reconstruction })),
    'conv, reconstruction validation',
  );
  assert.deepEqual(await options(), ['No other run'], 'a compared run is not offered twice');

  // One row per run shown, with the settings line's own text in columns.
  const rows = await tableRows();
  assert.deepEqual(
    rows.map((r) => r[0]),
    ['demo (shown)', 'wide', 'conv'],
  );
  assert.equal(rows[1].slice(1).join(' · '), settingsLine(WIDE.settings));
  assert.deepEqual(rows[2].slice(1), [
    'conv 32-64',
    'z=16',
    'β=4',
    'gaussian σ=0.1',
    '3/3 epochs',
    'batch 128',
    'lr 5e-4',
    '32×32×3',
    'wasm',
  ]);
  // Each run its own colour, the same in the legend and its curves.
  const colour = (runDir: string) =>
    series('negElbo', runDir, 'train')
      .locator('path')
      .evaluate((p) => getComputedStyle(p).stroke);
  const [wideColour, convColour, shownColour] = [await colour(WIDE.runDir), await colour(CONV.runDir), await colour(SHOWN.runDir)];
  assert.equal(
    new Set([wideColour, convColour, shownColour]).size,
    3,
    `three runs, three colours: ${wideColour} ${convColour} ${shownColour}`,
  );
  const swatch = await page
    .locator(`.compare-legend .run-key[data-run="${WIDE.runDir}"] .run-swatch`)
    .evaluate((s) => getComputedStyle(s).backgroundColor);
  assert.equal(swatch, wideColour, 'the legend swatch is the curve colour');
  await screenshot(page, 'compare-runs');

  // Remove "wide" from the keyboard: its curves and row go, it is offered again, conv keeps its colour.
  await page.focus(`.compare-table tr[data-run="${WIDE.runDir}"] vscode-button.compare-remove`);
  await page.keyboard.press('Enter');
  await frameDrawn(page);
  assert.equal(await page.locator(`svg.compare-chart g.run-series[data-run="${WIDE.runDir}"]`).count(), 0, 'no curve of wide is left');
  assert.deepEqual(
    (await tableRows()).map((r) => r[0]),
    ['demo (shown)', 'conv'],
  );
  assert.deepEqual(await options(), ['Choose a run…', 'wide']);
  assert.equal(await colour(CONV.runDir), convColour);
  assert.ok(
    await page.evaluate(() => document.querySelector('.run-comparison')?.contains(document.activeElement)),
    'focus stays in the comparison',
  );

  // The live per-step curves are as they were.
  assert.equal(await page.locator('svg.chart-negElbo path.series').getAttribute('data-points'), liveBefore);

  // Removing the last compared run hides the comparison charts again.
  await page.click(`.compare-table tr[data-run="${CONV.runDir}"] vscode-button.compare-remove`);
  await frameDrawn(page);
  assert.ok(await page.locator('.compare-shown').isHidden());
});

test('the runs compared come back after a reload, asked for again from the host', async () => {
  await open();
  await page.selectOption('select.compare-select', CONV.runDir);
  await page.click('vscode-button.compare-add');
  await answer(CONV, CONV_EPOCHS, 1);
  await page.reload();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, seriesMessage(600, 5));
  await postToWebview(page, { type: 'runs', runs: [SHOWN, WIDE, CONV] });
  await answer(CONV, CONV_EPOCHS, 1);
  assert.equal(await series('kl', CONV.runDir, 'train').locator('path').getAttribute('data-points'), '3');
  assert.deepEqual(
    (await tableRows()).map((r) => r[0]),
    ['demo (shown)', 'conv'],
  );
});
