// The built Latent Explorer in headless Chromium, behind the real CSP, driven by a scripted host
// that speaks the webview protocol. Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { packNames } from '../../src/protocol/pointNames';
import type { DecodeLatentsMessage } from '../../src/protocol/webview';
import { KNOWN, greyImages, initMessage, namesOf, pointsMessage, seriesMessage } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  pointsColours,
  pointsPixel,
  postToWebview,
  postedMessages,
  savedTransform,
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
  // Every test must leave no CSP violation and no uncaught error behind.
  assert.deepEqual(await pageProblems(page), []);
  await page.context().close();
});

async function openWithPoints(opts: { reducedMotion?: boolean; clock?: boolean } = {}): Promise<Page> {
  page = await openExplorer(harness, { ...opts });
  return page;
}

const info = () => page.locator('.toolbar .info').textContent();

async function decodes(): Promise<DecodeLatentsMessage[]> {
  return (await postedMessages(page)).filter((m): m is DecodeLatentsMessage => m.type === 'decode');
}

test('says ready first, and renders vscode-elements under the strict CSP', async () => {
  page = await harness.newPage();
  const posted = await waitForPosted(page, 'ready');
  assert.equal(posted.length, 1);
  assert.equal((await postedMessages(page))[0].type, 'ready');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp ?? '', /script-src 'nonce-[^']+'/);
  assert.doesNotMatch(csp ?? '', /unsafe-(eval|inline)/);
  // Lit styles its shadow roots through adopted style sheets; a blocked sheet leaves buttons unstyled.
  const styled = await page.evaluate(() => {
    const b = document.querySelector('vscode-button')!;
    return { sheets: b.shadowRoot?.adoptedStyleSheets.length ?? 0, cursor: getComputedStyle(b).cursor };
  });
  assert.ok(styled.sheets > 0, 'vscode-button has no adopted style sheets');
  assert.equal(styled.cursor, 'pointer', 'the :host rule of vscode-button did not apply');
});

test('points appear where the data says, in their label colour', async () => {
  await openWithPoints();
  await screenshot(page, '01-scatter');
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const known = await pointsPixel(page, kx, ky);
  assert.equal(known[3], 255, `no point drawn at the known point's spot (${kx}, ${ky})`);
  // cats are the second label: --vscode-charts-orange in the dark theme (#d18616).
  assert.deepEqual(known.slice(0, 3), [0xd1, 0x86, 0x16]);
  // The empty middle between clusters stays empty.
  const [ex, ey] = await clientPositionFromAxes(page, -0.5, -0.5);
  assert.equal((await pointsPixel(page, ex, ey))[3], 0);
  assert.match((await info()) ?? '', /201 points/);
  const legend = await page.locator('.legend-item .name').allTextContents();
  assert.deepEqual(legend, ['birds', 'cats', 'dogs', 'fish']);

  // A folder holding one of the run's classes lists only that class, in that class's colour.
  const all = pointsMessage(50, harness.url.replace(/\/$/, ''));
  const keep = [...all.labels.keys()].filter((i) => all.labels[i] === 1);
  await postToWebview(page, {
    ...all,
    names: packNames(keep.map((i) => namesOf(all)[i])),
    labels: Int32Array.from(keep.map(() => 1)),
    mu: Float32Array.from(keep.flatMap((i) => [all.mu[2 * i], all.mu[2 * i + 1]])),
  });
  await page.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('51 points'));
  await frameDrawn(page);
  assert.deepEqual(await page.locator('.legend-item .name').allTextContents(), ['cats']);
  assert.deepEqual(await page.locator('.legend-item .count').allTextContents(), ['51']);
  const [cx, cy] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  assert.deepEqual((await pointsPixel(page, cx, cy)).slice(0, 3), [0xd1, 0x86, 0x16]);
});

test('hovering the known point shows its file name and image; double-clicking opens it', async () => {
  await openWithPoints();
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.move(kx + 2, ky + 1);
  const tooltip = page.locator('.tooltip');
  await tooltip.waitFor({ state: 'visible' });
  assert.equal(await tooltip.locator('.tooltip-name').textContent(), 'known cat #1.png');
  assert.equal(await tooltip.locator('.tooltip-path').textContent(), KNOWN.name);
  // The image comes from the folder's URI and the escaped name (the harness serves only names
  // that arrive whole: an unescaped '#' would cut the path short).
  const src = (await tooltip.locator('img').getAttribute('src')) ?? '';
  assert.equal(decodeURIComponent(new URL(src).pathname), '/img/data/cats/known cat #1.png');
  await page.waitForFunction(() => (document.querySelector('.tooltip img') as HTMLImageElement | null)?.naturalWidth === 8);
  await screenshot(page, '02-hover');
  // A single click pins the point; it takes a double-click to open the file.
  await page.mouse.click(kx + 2, ky + 1);
  await page.locator('.marks g.pin').waitFor();
  await page.mouse.dblclick(kx + 2, ky + 1);
  const opened = await waitForPosted(page, 'openFile');
  assert.deepEqual(opened, [{ type: 'openFile', folder: '/data', name: KNOWN.name }]);
  // Away from every point: the tooltip goes and a double-click opens nothing.
  const [ex, ey] = await clientPositionFromAxes(page, -0.5, -0.5);
  await page.mouse.move(ex, ey);
  await tooltip.waitFor({ state: 'hidden' });
  await page.mouse.dblclick(ex, ey);
  // Then a double-click on the point again: messages arrive in order, so once its openFile is in,
  // an openFile from the empty double-click would have been posted before it.
  await page.mouse.dblclick(kx + 2, ky + 1);
  const all = await waitForPosted(page, 'openFile', 2);
  assert.deepEqual(
    all,
    [
      { type: 'openFile', folder: '/data', name: KNOWN.name },
      { type: 'openFile', folder: '/data', name: KNOWN.name },
    ],
    'a double-click on empty space opens nothing',
  );
});

test('brush selection, Isolate and Clear', async () => {
  await openWithPoints();
  await page.click('vscode-button.mode-brush');
  // A rectangle around the bottom-right cluster (cats, centre (2, −2)).
  const [x0, y0] = await clientPositionFromAxes(page, 1, -1);
  const [x1, y1] = await clientPositionFromAxes(page, 3, -3);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  const selectedCount = Number(/([\d,]+) selected/.exec((await info()) ?? '')![1]);
  assert.ok(selectedCount >= 45 && selectedCount <= 50, `selected ${selectedCount}, expected most of the 50 cats`);
  await screenshot(page, '03-brush');
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const dimmed = await pointsPixel(page, kx, ky);
  assert.equal(dimmed[3], 255);
  assert.notDeepEqual(dimmed.slice(0, 3), [0xd1, 0x86, 0x16], 'a point outside the selection should be dimmed');

  await page.click('vscode-button.isolate');
  await page.waitForFunction(() => /isolated/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  assert.equal((await pointsPixel(page, kx, ky))[3], 0, 'Isolate should hide points outside the selection');
  await screenshot(page, '04-isolate');

  await page.click('vscode-button.clear-selection');
  await page.waitForFunction(() => !/selected/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  assert.deepEqual((await pointsPixel(page, kx, ky)).slice(0, 3), [0xd1, 0x86, 0x16]);
});

test('lasso selects the points inside the drawn shape', async () => {
  await openWithPoints();
  // Zoom out a step with the keyboard so the whole dogs cluster (around (−2, 2)) is in view.
  await page.focus('svg.overlay-layer');
  await page.keyboard.press('-');
  await frameDrawn(page);
  await page.click('vscode-button.mode-lasso');
  const corners = [
    [-3.2, 3.2],
    [-0.8, 3.2],
    [-0.8, 0.8],
    [-3.2, 0.8],
  ] as const;
  const screen = await Promise.all(corners.map(([x, y]) => clientPositionFromAxes(page, x, y)));
  await page.mouse.move(screen[0][0], screen[0][1]);
  await page.mouse.down();
  for (const [x, y] of [...screen.slice(1), screen[0]]) await page.mouse.move(x, y, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  const n = Number(/([\d,]+) selected/.exec((await info()) ?? '')![1]);
  assert.ok(n >= 45 && n <= 50, `lasso selected ${n}, expected most of the 50 dogs`);
});

test('search by file name highlights the matches', async () => {
  await openWithPoints();
  await page.locator('vscode-textfield.search').click();
  await page.keyboard.type('known');
  await page.waitForFunction(() => /1 match/.test(document.querySelector('.info')?.textContent ?? ''));
  assert.equal(await page.locator('.marks circle.highlight').count(), 1);
});

test('interpolation sends lerp and slerp latents and draws the decoded strips', async () => {
  await openWithPoints({ reducedMotion: true });
  const b = Array.from(pointsMessage().mu.slice(0, 2));
  const [ax, ay] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const [bx, by] = await clientPositionFromAxes(page, b[0], b[1]);
  await page.keyboard.down('Shift');
  await page.mouse.click(ax, ay);
  await page.mouse.click(bx, by);
  await page.keyboard.up('Shift');
  const [decode] = await waitForPosted(page, 'decode');
  assert.equal(decode.latents.length, 2 * 8 * 2, 'lerp and slerp strips of 8 steps, 2 dims each');
  assert.deepEqual(Array.from(decode.latents.slice(0, 2)), [KNOWN.x, KNOWN.y]);
  // lerp midpoints lie on the segment; slerp's do not (the endpoints are not parallel).
  const end = Array.from(decode.latents.slice(14, 16));
  assert.ok(Math.abs(end[0] - b[0]) < 1e-6 && Math.abs(end[1] - b[1]) < 1e-6, 'the strip ends at the second clicked point');
  const lerpMid = Array.from(decode.latents.slice(6, 8));
  const t = 3 / 7;
  assert.ok(Math.abs(lerpMid[0] - ((1 - t) * KNOWN.x + t * end[0])) < 1e-5);
  assert.deepEqual(Array.from(decode.latents.slice(16, 18)), Array.from(decode.latents.slice(0, 2)));
  assert.ok(Math.abs(decode.latents[22] - lerpMid[0]) > 1e-3, 'slerp should bend away from the straight line');
  assert.equal(await page.locator('.marks g.endpoint').count(), 2);

  await postToWebview(page, { type: 'images', requestId: decode.requestId, images: greyImages(16) });
  await page.waitForFunction(() => document.querySelector('canvas.strip-slerp')?.getAttribute('data-images') === '8');
  const pixels = await page.evaluate(() => {
    const read = (sel: string, i: number) => {
      const c = document.querySelector<HTMLCanvasElement>(sel)!;
      const cell = c.width / 8;
      return Array.from(c.getContext('2d')!.getImageData(Math.floor(i * cell + cell / 2), Math.floor(c.height / 2), 1, 1).data);
    };
    return { lerp0: read('canvas.strip-lerp', 0), lerp7: read('canvas.strip-lerp', 7), slerp0: read('canvas.strip-slerp', 0) };
  });
  // Image i of the reply is filled with grey 20·i + 10: lerp is images 0–7, slerp 8–15.
  assert.deepEqual(pixels.lerp0, [10, 10, 10, 255]);
  assert.deepEqual(pixels.lerp7, [150, 150, 150, 255]);
  assert.deepEqual(pixels.slerp0, [170, 170, 170, 255]);
  await screenshot(page, '05-interpolation');

  await page.click('vscode-button.save-strip');
  const [save] = await waitForPosted(page, 'saveImages');
  // The strip is saved by the latents it was decoded from; no pixels go back to the host.
  assert.deepEqual(Array.from(save.latents), Array.from(decode.latents));
  assert.equal(save.label, undefined);
  assert.equal('images' in save, false);
  assert.equal(save.baseName, 'interpolation');
});

test('Interpolate mode takes two clicks anywhere in latent space', async () => {
  await openWithPoints();
  await page.click('vscode-button.mode-interpolate');
  const [x0, y0] = await clientPositionFromAxes(page, -1, 0);
  const [x1, y1] = await clientPositionFromAxes(page, 1, 1);
  await page.mouse.click(x0, y0);
  await page.mouse.click(x1, y1);
  const [decode] = await waitForPosted(page, 'decode');
  const a = Array.from(decode.latents.slice(0, 2));
  const b = Array.from(decode.latents.slice(14, 16));
  // One screen pixel is about 0.01 latent units here.
  assert.ok(Math.abs(a[0] + 1) < 0.02 && Math.abs(a[1]) < 0.02, `first endpoint ${a}`);
  assert.ok(Math.abs(b[0] - 1) < 0.02 && Math.abs(b[1] - 1) < 0.02, `second endpoint ${b}`);
  assert.equal((await postedMessages(page)).filter((m) => m.type === 'openFile').length, 0);
});

test('the decoded manifold sends one decode per burst of zooms, and only the latest is drawn', async () => {
  // Playwright's fake clock (time still flows) lets the test jump past the zoom's and the
  // manifold's timers instead of sleeping through them.
  await openWithPoints({ clock: true });
  await page.locator('vscode-checkbox.manifold-toggle').click();
  const [first] = await waitForPosted(page, 'decode');
  const cells = first.latents.length / 2;
  assert.ok(cells >= 4, `manifold grid of ${cells} cells`);
  // While the first is in flight, a burst of zooms must not send anything.
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // Six notches 30 ms apart (virtual time), well inside d3-zoom's 150 ms wheel gesture: one burst.
  for (let i = 0; i < 6; i++) {
    await page.mouse.wheel(0, -120);
    await page.clock.runFor(30);
  }
  // Proving that nothing is sent needs time to pass: 1 s of virtual time runs every timer due in
  // it, among them the gesture's end 150 ms after the last notch and the manifold's 200 ms
  // debounce after that, when the new view is asked for and must wait behind the first decode.
  await page.clock.runFor(1_000);
  assert.ok((await savedTransform(page))!.k > 1, 'the burst came to rest (its view was saved), so the manifold has asked');
  assert.equal((await decodes()).length, 1, 'no second decode while the first is in flight');
  // The answer to the first request is stale now: it is not drawn, and the newest view is asked for.
  await postToWebview(page, { type: 'images', requestId: first.requestId, images: greyImages(cells) });
  const all = await waitForPosted(page, 'decode', 2);
  // The stale answer was handled when the second decode went out (it is sent from that handler).
  // Again 1 s of virtual time for what must not happen: no timer left behind sends a third
  // decode, and no frame draws the stale grid.
  await page.clock.runFor(1_000);
  await frameDrawn(page);
  assert.equal((await decodes()).length, 2, 'exactly one decode for the whole burst');
  const manifoldDrawn = () =>
    page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.manifold-layer')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    });
  assert.equal(await manifoldDrawn(), 0, 'the stale grid must not be drawn');
  const second = all[1];
  // The second grid covers the zoomed-in view: a smaller latent extent than the first.
  const extent = (l: Float32Array) => {
    const xs = Array.from(l).filter((_, i) => i % 2 === 0);
    return Math.max(...xs) - Math.min(...xs);
  };
  assert.ok(extent(second.latents) < extent(first.latents) * 0.8);
  const n2 = second.latents.length / 2;
  const images = greyImages(n2);
  await postToWebview(page, { type: 'images', requestId: second.requestId, images });
  await page.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('canvas.manifold-layer')!;
    return c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data[3] === 255;
  });
  assert.ok((await manifoldDrawn()) > 100000, 'the newest grid covers the view');
  await screenshot(page, '06-manifold');
});

test('the ELBO panel draws a replayed series and appends live steps', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  const series = seriesMessage(3000, 5);
  await postToWebview(page, series);
  await page.click('vscode-tab-header.tab-training');
  // One render draws the path with its data-points, the epoch marks, the KL bars and the figures,
  // so once the path has its data everything read below is in place.
  await page.waitForFunction(() => document.querySelector('.chart-negElbo path.series')?.getAttribute('d'));
  const drawn = Number(await page.locator('.chart-negElbo path.series').getAttribute('data-points'));
  assert.ok(drawn > 100 && drawn < 1000, `3000 steps drawn as ${drawn} points (downsampled)`);
  assert.equal(await page.locator('.chart-negElbo .mark-train').count(), 5);
  assert.equal(await page.locator('.chart-negElbo .mark-val').count(), 5);
  assert.equal(await page.locator('.chart-negElbo .mark-logpx').count(), 5);
  assert.equal(await page.locator('.chart-kl-dims rect.bar').count(), 2);
  const last = series.steps[series.steps.length - 1].terms;
  const figure = (name: string) => page.locator(`[data-figure="${name}"] dd`).textContent();
  assert.equal(await figure('neg-elbo'), (-last.elbo).toFixed(2));
  assert.equal(await figure('epoch'), '5 / 10');
  assert.equal(await figure('active'), '1 / 2');
  assert.equal(await figure('eta'), '2 min 05 s');
  assert.match((await figure('backend')) ?? '', /wasm \(SIMD on, 1 thread\)/);
  // A WebGPU worker names its adapter, and says when it is a software one.
  const adapter = {
    vendor: 'mesa',
    architecture: 'software',
    device: 'llvmpipe',
    description: 'llvmpipe: Mesa 25.0.7',
    software: true,
    limits: {
      maxBufferSize: 2 ** 32 - 1,
      maxStorageBufferBindingSize: 2 ** 27,
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeInvocationsPerWorkgroup: 1024,
    },
  };
  await postToWebview(page, { type: 'backend', backend: { name: 'webgpu', skipped: [], adapter } });
  await page.waitForFunction(() =>
    /webgpu on llvmpipe: Mesa 25\.0\.7 \(software adapter\)/.test(document.querySelector('[data-figure="backend"] dd')?.textContent ?? ''),
  );
  await postToWebview(page, { type: 'backend', backend: initMessage().backend! });
  await screenshot(page, '07-elbo');

  const status = { ...series.status!, step: 3001, eta: 60 };
  const point = { step: 3001, epoch: 6, terms: { reconstruction: 50, kl: 9, elbo: -59, bitsPerDim: 1.33 }, imagesPerSecond: 1700 };
  await postToWebview(page, { type: 'step', point, status });
  await page.waitForFunction(() => document.querySelector('[data-figure="neg-elbo"] dd')?.textContent === '59.00');
  assert.equal(await figure('rate'), '1700');
  await page.click('vscode-button.stop-training');
  assert.deepEqual(await waitForPosted(page, 'stopTraining'), [{ type: 'stopTraining' }]);

  // Once the run has ended, the figures are its last epoch's validation figures, not the last stretch of steps.
  const lastEpoch = series.epochs[series.epochs.length - 1];
  const epochEnd = {
    ...lastEpoch,
    epoch: 6,
    step: 3001,
    train: { reconstruction: 55, kl: 9, elbo: -64, bitsPerDim: 1.44 },
    validation: { reconstruction: 57, kl: 9, elbo: -66, bitsPerDim: 1.49 },
    imagesPerSecond: 1650,
  };
  await postToWebview(page, { type: 'epoch', summary: epochEnd, status: { ...status, epoch: 6 } });
  await postToWebview(page, { type: 'status', status: { ...status, epoch: 6, state: 'complete', eta: null } });
  await page.waitForFunction(() => document.querySelector('[data-figure="neg-elbo"] dd')?.textContent === '66.00');
  assert.equal(await page.locator('[data-figure="neg-elbo"] dt').textContent(), '−ELBO (validation, epoch 6)');
  assert.equal(await figure('rate'), '1650');
  assert.equal(await figure('eta'), '–');
});

test('a theme switch changes the colours', async () => {
  await openWithPoints();
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await setTheme(page, 'light');
  await frameDrawn(page);
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
  assert.notEqual(darkBg, 'rgb(255, 255, 255)');
  // A bird point takes the light theme's --vscode-charts-blue (#1a85ff).
  await page.click('vscode-button.mode-brush');
  const birds = await pointsColours(page);
  assert.ok(birds.includes('26,133,255'), `light-theme blue not drawn; colours: ${birds.join(' ')}`);
  assert.ok(!birds.includes('55,148,255'), 'dark-theme blue still drawn');
  await screenshot(page, '08-light');
  await setTheme(page, 'high-contrast');
  await frameDrawn(page);
  assert.ok(await page.evaluate(() => document.body.classList.contains('vscode-high-contrast')));
  assert.deepEqual((await pointsPixel(page, kx, ky)).slice(0, 3), [0xd1, 0x86, 0x16]);
  await screenshot(page, '09-high-contrast');
});

test('zoom, selection and endpoints survive a reload', async () => {
  await openWithPoints();
  const [ax, ay] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  const first = Array.from(pointsMessage().mu.slice(0, 2));
  const [bx, by] = await clientPositionFromAxes(page, first[0], first[1]);
  await page.keyboard.down('Shift');
  await page.mouse.click(ax, ay);
  await page.mouse.click(bx, by);
  await page.keyboard.up('Shift');
  await waitForPosted(page, 'decode');
  // Pixels per latent unit on the drawn x axis, to read the zoom off the picture.
  const pxPerUnit = async () => (await clientPositionFromAxes(page, 1, 0))[0] - (await clientPositionFromAxes(page, 0, 0))[0];
  const fitted = await pxPerUnit();
  const box = (await page.locator('.scatter').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.7);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -100);
  await frameDrawn(page);
  // The view is saved when the wheel gesture ends (150 ms after the last notch; earlier notches
  // may end gestures of their own on a slow machine): wait until the saved zoom is the one drawn.
  const k = (await pxPerUnit()) / fitted;
  assert.ok(k > 1.1, `three notches zoomed in by ${k}`);
  await page.waitForFunction(
    (k) => Math.abs(JSON.parse(sessionStorage.getItem('harness-state') ?? 'null')?.transform?.k / k - 1) < 0.01,
    k,
  );
  await page.click('vscode-button.mode-brush');
  const [x0, y0] = await clientPositionFromAxes(page, 1.2, -1.2);
  const [x1, y1] = await clientPositionFromAxes(page, 2.2, -2.2);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x1, y1, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  const before = { info: await info(), ticks: await page.locator('.scatter .axis-x .tick text').allTextContents() };
  const beforeKnown = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);

  await page.reload();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, pointsMessage(50, harness.url.replace(/\/$/, '')));
  await page.waitForFunction(() => /selected/.test(document.querySelector('.info')?.textContent ?? ''));
  await frameDrawn(page);
  assert.equal(await info(), before.info);
  assert.deepEqual(await page.locator('.scatter .axis-x .tick text').allTextContents(), before.ticks);
  const afterKnown = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  assert.ok(Math.abs(afterKnown[0] - beforeKnown[0]) < 1 && Math.abs(afterKnown[1] - beforeKnown[1]) < 1);
  assert.equal(await page.locator('vscode-button.mode-brush').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('.marks g.endpoint').count(), 2, 'interpolation endpoints are restored');
  assert.match((await page.locator('.endpoints-text').textContent()) ?? '', /A \(0\.50, 0\.25\)/);
  await screenshot(page, '10-restored');
});

test('higher-dimensional latents are projected with PCA, and two dimensions can be chosen', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage(3));
  const base = pointsMessage(20, harness.url.replace(/\/$/, ''));
  const n = base.labels.length;
  const mu = new Float32Array(n * 3);
  // The third dimension carries the most variance, so PCA's first axis follows it.
  for (let i = 0; i < n; i++) {
    mu[i * 3] = base.mu[i * 2] * 0.1;
    mu[i * 3 + 1] = base.mu[i * 2 + 1];
    mu[i * 3 + 2] = base.mu[i * 2] * 3;
  }
  await postToWebview(page, { ...base, dims: 3, mu });
  await page.waitForFunction(() => /PCA explains/.test(document.querySelector('.info')?.textContent ?? ''));
  const pct = /PCA explains ([\d.]+)% \+ ([\d.]+)%/.exec((await info()) ?? '')!;
  assert.ok(Number(pct[1]) > Number(pct[2]) && Number(pct[1]) + Number(pct[2]) > 99.9);
  // The axes say what they show: each principal component with its share of the variance.
  const titles = () => page.evaluate(() => Array.from(document.querySelectorAll('.scatter .axis-title'), (t) => t.textContent));
  assert.deepEqual(await titles(), [`PC1 · ${pct[1]}% of variance`, `PC2 · ${pct[2]}% of variance`]);
  await page.selectOption('select.projection', 'dims');
  await page.waitForFunction(() => /z0 × z1/.test(document.querySelector('.info')?.textContent ?? ''));
  await page.selectOption('select.dim-x', '2');
  await page.waitForFunction(() => /z2 × z1/.test(document.querySelector('.info')?.textContent ?? ''));
  assert.deepEqual(await titles(), ['z2', 'z1']);
  await page.selectOption('select.projection', 'umap');
  const [project] = await waitForPosted(page, 'project');
  assert.equal(project.method, 'umap');
  const coords = new Float32Array(n * 2).map((_, i) => (i % 2 ? 1 : -1) * (i / n));
  await postToWebview(page, { type: 'projection', requestId: project.requestId, coords });
  await page.waitForFunction(() => /UMAP$/.test(document.querySelector('.info')?.textContent ?? ''));
  assert.deepEqual(await titles(), ['UMAP 1', 'UMAP 2']);
  await screenshot(page, '11-umap');
});

test('reconstruction, sampling and the prior grid ask the host and show the replies', async () => {
  await openWithPoints();
  const [kx, ky] = await clientPositionFromAxes(page, KNOWN.x, KNOWN.y);
  await page.mouse.click(kx, ky);
  await page.locator('.marks g.pin').waitFor();
  await page.mouse.move(kx + 200, ky + 200);
  await page.click('vscode-button.reconstruct');
  const [recon] = await waitForPosted(page, 'reconstruct');
  assert.deepEqual([recon.folder, recon.name], ['/data', KNOWN.name], 'the pinned point is reconstructed');
  const terms = { reconstruction: 80, kl: 6, elbo: -86, bitsPerDim: 1.9 };
  await postToWebview(page, {
    type: 'reconstruction',
    requestId: recon.requestId,
    name: KNOWN.name,
    result: {
      originals: greyImages(1),
      reconstructions: { ...greyImages(1), pixels: new Uint8Array(64).fill(200) },
      terms: [terms],
      skipped: [],
    },
  });
  await page.waitForFunction(() =>
    /−ELBO 86\.00 = reconstruction 80\.00 \+ KL 6\.00/.test(document.querySelector('.recon-terms')?.textContent ?? ''),
  );
  const reconPixel = await page.evaluate(() =>
    Array.from(document.querySelector<HTMLCanvasElement>('canvas.recon-decoded')!.getContext('2d')!.getImageData(5, 5, 1, 1).data),
  );
  assert.deepEqual(reconPixel, [200, 200, 200, 255]);

  await page.click('vscode-button.sample-prior');
  const [sample] = await waitForPosted(page, 'sample');
  assert.equal(sample.count, 16);
  assert.deepEqual(sample.mode, { kind: 'prior' });
  const drawn = new Float32Array(32).map((_, i) => i / 10 - 1.5);
  await postToWebview(page, { type: 'images', requestId: sample.requestId, images: greyImages(16), latents: drawn });
  await page.waitForFunction(() => document.querySelector('canvas.samples')?.getAttribute('data-images') === '16');
  // Saving the samples names them by the latents the engine drew.
  await page.click('vscode-button.save-samples');
  const [saveSamples] = await waitForPosted(page, 'saveImages');
  assert.deepEqual(Array.from(saveSamples.latents), Array.from(drawn));
  assert.equal(saveSamples.baseName, 'sample');
  await page.click('vscode-button.sample-around');
  const samples = await waitForPosted(page, 'sample', 2);
  assert.deepEqual(samples[1].mode, { kind: 'around', center: [KNOWN.x, KNOWN.y], radius: 0.5 });

  await page.click('vscode-button.gaussian-grid');
  const [grid] = await waitForPosted(page, 'decode');
  assert.equal(grid.latents.length, 15 * 15 * 2);
  await postToWebview(page, { type: 'images', requestId: grid.requestId, images: greyImages(225) });
  await page.waitForFunction(() => document.querySelector('canvas.manifold-grid')?.getAttribute('data-images') === '225');
  await page.locator('canvas.manifold-grid').scrollIntoViewIfNeeded();
  await screenshot(page, '12-images-panel');
});
