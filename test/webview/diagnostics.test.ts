// Per-image diagnostics and nearest neighbours (issue 10, items 1 and 2): points coloured by −ELBO
// on a continuous ramp with a colour bar giving the range, their figures on hover, the
// worst-reconstructed list, and the pinned point's neighbours in the full latent space, listed and
// linked on the scatter; a reply for a point no longer pinned is dropped. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { NeighboursMessage, PointsMessage } from '../../src/protocol/webview';
import { KNOWN, namesOf, pointsMessage } from './fixtures';
import {
  THEMES,
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  pointsPixel,
  postToWebview,
  postedMessages,
  screenshot,
  setTheme,
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

async function open(points: PointsMessage = pointsMessage(50, origin())): Promise<Page> {
  page = await openExplorer(harness, { points });
  return page;
}

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** WCAG contrast ratio of two sRGB colours. */
function contrast(a: number[], b: number[]): number {
  const lum = (c: number[]) =>
    c
      .map((v) => v / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** The colour bar's ramp at its two ends. */
function rampEnds(): Promise<number[][]> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('canvas.colour-bar-ramp')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, 1).data;
    return [Array.from(d.slice(0, 3)), Array.from(d.slice(d.length - 4, d.length - 1))];
  });
}

async function clickPoint(x: number, y: number): Promise<void> {
  const [px, py] = await clientPositionFromAxes(page, x, y);
  await page.mouse.click(px, py);
}

/** Centres (client pixels) of the circles matching `selector`. */
function centres(selector: string): Promise<[number, number][]> {
  return page.evaluate(
    (sel) =>
      Array.from(document.querySelectorAll(sel)).map((c) => {
        const r = c.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2] as [number, number];
      }),
    selector,
  );
}

async function assertNear(actual: [number, number], x: number, y: number, what: string): Promise<void> {
  const [px, py] = await clientPositionFromAxes(page, x, y);
  assert.ok(Math.abs(actual[0] - px) < 1.5 && Math.abs(actual[1] - py) < 1.5, `${what} at ${actual}, expected ${px},${py}`);
}

test('colour by −ELBO: the points take the ramp, the colour bar gives the range in nats, hover gives the figures', async () => {
  const points = pointsMessage(50, origin());
  await open(points);
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  // By label, the known cat has the theme's second chart colour.
  assert.deepEqual(await pointsPixel(page, kx, ky), [...hex(THEMES.dark['--vscode-charts-orange']), 255]);
  assert.equal(await page.locator('.colour-bar').isVisible(), false);

  await page.selectOption('select.colour-by', 'negElbo');
  await page.locator('.colour-bar').waitFor({ state: 'visible' });
  await frameDrawn(page);
  // The known cat's −ELBO (310 nats) is far above every other: the top of viridis, #fde725.
  assert.deepEqual(await pointsPixel(page, kx, ky), [253, 231, 37, 255]);
  // The range runs from the 1st to the 99th percentile of −ELBO = reconstruction + KL.
  const negElbo = Array.from(points.terms!.reconstruction, (r, i) => r + points.terms!.kl[i]).sort((a, b) => a - b);
  const [lo, hi] = [negElbo[2], negElbo[198]];
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2));
  assert.equal(await page.locator('.colour-bar-title').textContent(), '−ELBO (nats)');
  assert.equal(await page.locator('.colour-bar-min').textContent(), `${negElbo[0] < lo ? '≤ ' : ''}${fmt(lo)}`);
  assert.equal(await page.locator('.colour-bar-max').textContent(), `≥ ${fmt(hi)}`);
  // Both ends of the ramp stay readable on the background (3:1, WCAG's least for graphics).
  for (const end of await rampEnds()) assert.ok(contrast(end, hex(THEMES.dark['--vscode-editor-background'])) >= 3, `${end} on dark`);
  await screenshot(page, '20-colour-by-elbo');

  // Hover shows the figures.
  await page.mouse.move(kx, ky);
  await page.locator('.tooltip').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.tooltip-figures').textContent(), '−ELBO 310.0 = rec. 300.0 + KL 10.00 nats');

  // The legend still hides a class while the points are coloured by a figure.
  await page.locator('.legend-item[data-label="1"]').click();
  await frameDrawn(page);
  assert.equal((await pointsPixel(page, kx, ky))[3], 0, 'the hidden cats are not drawn');
  await page.locator('.legend-item[data-label="1"]').click();

  // A light theme moves the ramp's readable stretch; the choice survives, and labels come back.
  await setTheme(page, 'light');
  await frameDrawn(page);
  for (const end of await rampEnds()) assert.ok(contrast(end, [255, 255, 255]) >= 3, `${end} on light`);
  const top = await pointsPixel(page, kx, ky);
  assert.ok(contrast(top.slice(0, 3), [255, 255, 255]) >= 3, `the highest −ELBO (${top}) is readable on white`);
  assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem('harness-state') ?? '{}').colourBy), 'negElbo');
  await page.selectOption('select.colour-by', 'label');
  await frameDrawn(page);
  assert.deepEqual(await pointsPixel(page, kx, ky), [...hex(THEMES.light['--vscode-charts-orange']), 255]);
  assert.equal(await page.locator('.colour-bar').isVisible(), false);
});

test('points without per-image terms offer only labels', async () => {
  const points = pointsMessage(50, origin());
  delete points.terms;
  await open(points);
  assert.equal(await page.locator('select.colour-by').isVisible(), false);
  assert.equal(await page.locator('.worst-list .thumb-item').count(), 0);
  assert.match((await page.locator('.worst-note').textContent()) ?? '', /no reconstruction term/);
});

test('terms that arrive after the points fill in the figures: the −ELBO colouring, hover figures and the worst list', async () => {
  const points = pointsMessage(50, origin());
  const terms = points.terms!;
  // As the host sends a folder first: its points, with each image's terms still to come.
  const n = terms.reconstruction.length;
  await open({ ...points, terms: { reconstruction: new Float32Array(n).fill(NaN), kl: new Float32Array(n).fill(NaN) } });
  assert.equal(await page.locator('.worst-list .thumb-item').count(), 0);
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.move(kx, ky);
  await page.locator('.tooltip').waitFor({ state: 'visible' });
  assert.doesNotMatch((await page.locator('.tooltip').textContent()) ?? '', /rec\. 300\.0/);
  await page.selectOption('select.colour-by', 'negElbo');

  await postToWebview(page, { type: 'pointTerms', folder: points.folder, terms });
  await page.locator('.worst-list .thumb-item').first().waitFor();
  assert.equal(await page.locator('.worst-list .thumb-item').first().getAttribute('data-name'), KNOWN.name);
  await frameDrawn(page);
  // The known cat's −ELBO is the highest: the top of viridis, as when the terms come with the points.
  assert.deepEqual(await pointsPixel(page, kx, ky), [253, 231, 37, 255]);
  assert.equal(await page.locator('.colour-bar-max').isVisible(), true);
  await page.mouse.move(kx + 40, ky + 40);
  await page.mouse.move(kx, ky);
  await page.locator('.tooltip-figures', { hasText: '−ELBO 310.0 = rec. 300.0 + KL 10.00 nats' }).waitFor();
  // Terms for a folder not shown, or of another length, change nothing.
  await postToWebview(page, { type: 'pointTerms', folder: '/elsewhere', terms });
  await postToWebview(page, {
    type: 'pointTerms',
    folder: points.folder,
    terms: { reconstruction: new Float32Array(3), kl: new Float32Array(3) },
  });
  await frameDrawn(page);
  assert.deepEqual(await pointsPixel(page, kx, ky), [253, 231, 37, 255]);
});

test('the worst reconstructed images are listed largest term first; picking one pins it and shows its reconstruction', async () => {
  const points = pointsMessage(50, origin());
  await open(points);
  const rec = points.terms!.reconstruction;
  const names = namesOf(points);
  const expected = names
    .map((_, i) => i)
    .sort((a, b) => rec[b] - rec[a])
    .slice(0, 10)
    .map((i) => names[i]);
  const items = page.locator('.worst-list .thumb-item');
  assert.deepEqual(await items.evaluateAll((es) => es.map((e) => e.getAttribute('data-name'))), expected);
  assert.equal(expected[0], KNOWN.name);
  const src = (await items.first().locator('img.thumb').getAttribute('src')) ?? '';
  assert.equal(decodeURIComponent(new URL(src).pathname), '/img/data/cats/known cat #1.png');
  assert.match((await items.first().locator('.thumb-figures').textContent()) ?? '', /rec\. 300\.0/);

  await items.nth(2).click();
  await page.locator('.pin-path', { hasText: expected[2] }).waitFor();
  const [recon] = await waitForPosted(page, 'reconstruct');
  assert.deepEqual([recon.folder, recon.name], ['/data', expected[2]]);
  const i = names.indexOf(expected[2]);
  await frameDrawn(page);
  const [ring] = await centres('.marks g.pin circle.pin-ring');
  await assertNear(ring, points.mu[2 * i], points.mu[2 * i + 1], 'the pin marker');
  // From the keyboard too.
  await items.first().focus();
  await page.keyboard.press('Enter');
  await page.locator('.pin-path', { hasText: KNOWN.name }).waitFor();
});

function reply(requestId: number, name: string, points: PointsMessage, near: number[]): NeighboursMessage {
  return {
    type: 'neighbours',
    requestId,
    folder: '/data',
    name,
    k: 3,
    metric: 'bhattacharyya',
    neighbours: [
      ...near.map((i, j) => ({
        folder: '/data',
        folderUri: points.folderUri,
        name: namesOf(points)[i],
        label: 'cats',
        distance: 0.5 + j / 4,
      })),
      { folder: '/other', folderUri: `${origin()}/img/other`, name: 'x/far.png', label: null, distance: 2 },
    ],
  };
}

test('Find neighbours asks for the pinned file with k and the metric; the reply is listed and linked to the right points', async () => {
  const points = pointsMessage(50, origin());
  await open(points);
  await clickPoint(KNOWN.x, KNOWN.y);
  await page.locator('.pin-card').waitFor({ state: 'visible' });
  await page.locator('vscode-textfield.k-field input').fill('3');
  await page.locator('vscode-textfield.k-field input').press('Tab');
  await page.selectOption('select.neighbour-metric', 'bhattacharyya');
  assert.equal((await postedMessages(page)).filter((m) => m.type === 'findNeighbours').length, 0, 'nothing asked before Find');
  await page.click('vscode-button.find-neighbours');
  const [ask] = await waitForPosted(page, 'findNeighbours');
  assert.deepEqual(
    { folder: ask.folder, name: ask.name, k: ask.k, metric: ask.metric },
    { folder: '/data', name: KNOWN.name, k: 3, metric: 'bhattacharyya' },
  );

  await postToWebview(page, reply(ask.requestId, KNOWN.name, points, [50, 0]));
  const items = page.locator('.neighbours-list .thumb-item');
  await items.nth(2).waitFor();
  assert.deepEqual(await items.evaluateAll((es) => es.map((e) => e.getAttribute('data-name'))), [
    namesOf(points)[50],
    namesOf(points)[0],
    'x/far.png',
  ]);
  assert.match((await items.nth(0).textContent()) ?? '', /distance 0\.500/);
  const far = (await items.nth(2).locator('img').getAttribute('src')) ?? '';
  assert.equal(decodeURIComponent(new URL(far).pathname), '/img/other/x/far.png');
  assert.match((await items.nth(2).textContent()) ?? '', /in other/);

  // Two links (the third neighbour is in another folder), from the pin to the two points.
  await frameDrawn(page);
  const check = async (what: string) => {
    const ends = await centres('.links circle.link-end');
    assert.equal(ends.length, 2, what);
    await assertNear(ends[0], points.mu[100], points.mu[101], `first link end ${what}`);
    await assertNear(ends[1], points.mu[0], points.mu[1], `second link end ${what}`);
    const starts = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.links line.link')).map((l) => {
        const box = document.querySelector('.scatter')!.getBoundingClientRect();
        return [box.left + Number(l.getAttribute('x1')), box.top + Number(l.getAttribute('y1'))] as [number, number];
      }),
    );
    for (const s of starts) await assertNear(s, KNOWN.x, KNOWN.y, `link start ${what}`);
  };
  await check('after the reply');
  await screenshot(page, '21-neighbours');
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4);
  await page.mouse.wheel(0, -300);
  await frameDrawn(page);
  await check('after a wheel zoom');

  // A neighbour in the folder shown pins it, and the list follows the pin.
  await items.nth(1).click();
  await page.locator('.pin-path', { hasText: namesOf(points)[0] }).waitFor();
  const [, next] = await waitForPosted(page, 'findNeighbours', 2);
  assert.deepEqual([next.name, next.k, next.metric], [namesOf(points)[0], 3, 'bhattacharyya']);
  assert.equal(await page.locator('.links line.link').count(), 0, 'the old links go with the old pin');
});

test('a reply for a point that is no longer pinned is dropped', async () => {
  const points = pointsMessage(50, origin());
  await open(points);
  await clickPoint(KNOWN.x, KNOWN.y);
  await page.click('vscode-button.find-neighbours');
  const [first] = await waitForPosted(page, 'findNeighbours');
  // Another pin before the reply: its own neighbours are asked for.
  await clickPoint(points.mu[100], points.mu[101]);
  await page.locator('.pin-path', { hasText: namesOf(points)[50] }).waitFor();
  const [, second] = await waitForPosted(page, 'findNeighbours', 2);
  assert.equal(second.name, namesOf(points)[50]);
  await postToWebview(page, reply(first.requestId, KNOWN.name, points, [50, 0]));
  await frameDrawn(page);
  assert.equal(await page.locator('.neighbours-list .thumb-item').count(), 0, 'the old pin’s reply is not listed');
  assert.equal(await page.locator('.links line.link').count(), 0, 'nor linked');
  // A reply naming another file than the one asked for under this id is not shown either.
  await postToWebview(page, reply(second.requestId, KNOWN.name, points, [1, 2]));
  await frameDrawn(page);
  assert.equal(await page.locator('.neighbours-list .thumb-item').count(), 0);

  // Unpinned before the reply: nothing is shown.
  await clickPoint(KNOWN.x, KNOWN.y);
  const [, , third] = await waitForPosted(page, 'findNeighbours', 3);
  await page.keyboard.press('Escape');
  await page.locator('.pin-card').waitFor({ state: 'hidden' });
  await postToWebview(page, reply(third.requestId, KNOWN.name, points, [50, 0]));
  await frameDrawn(page);
  assert.equal(await page.locator('.neighbours-list .thumb-item').count(), 0);
  assert.equal(await page.locator('.links line.link').count(), 0);
});

test('"Find Similar Images" on a file not shown: it is asked about by path, listed first and marked where it falls; on a point shown, the point is pinned', async () => {
  const points = pointsMessage(50, origin());
  await open(points);
  const file = '/elsewhere/query me #2.png';
  const uri = `${origin()}/img/elsewhere/query%20me%20%232.png`;
  await postToWebview(page, { type: 'neighboursOf', file, uri, point: null });
  const [ask] = await waitForPosted(page, 'findNeighbours');
  assert.deepEqual({ file: ask.file, folder: ask.folder, k: ask.k }, { file, folder: '', k: 10 });
  await postToWebview(page, { ...reply(ask.requestId, file, points, [50, 0]), folder: '', query: { file, uri, mu: [-1, 1] } });
  const items = page.locator('.neighbours-list .thumb-item');
  await items.nth(3).waitFor();
  assert.match((await items.nth(0).textContent()) ?? '', /query me #2\.png/);
  assert.equal(await items.nth(0).locator('img').getAttribute('src'), uri);
  assert.match((await page.locator('.neighbours-status').textContent()) ?? '', /nearest to query me #2\.png, not among the points shown/);
  await frameDrawn(page);
  // The marker at its posterior mean (a 2-D latent is its own map), the links from there.
  const [marker] = await centres('.marks path.query');
  await assertNear(marker, -1, 1, 'the query marker');
  const ends = await centres('.links circle.link-end');
  assert.equal(ends.length, 2);
  await assertNear(ends[0], points.mu[100], points.mu[101], 'the first link end');
  assert.equal(await page.locator('.marks g.pin').count(), 0, 'nothing is pinned');
  await screenshot(page, '23-neighbours-of-file');

  // The same for a point shown: it is pinned, and its neighbours asked for as after a click.
  await postToWebview(page, { type: 'neighboursOf', file: `/data/${KNOWN.name}`, uri: '', point: { folder: '/data', name: KNOWN.name } });
  await page.locator('.pin-path', { hasText: KNOWN.name }).waitFor();
  const [, again] = await waitForPosted(page, 'findNeighbours', 2);
  assert.deepEqual([again.folder, again.name, again.file], ['/data', KNOWN.name, undefined]);
  assert.equal(await page.locator('.marks path.query').count(), 0, 'the query marker goes');
});
