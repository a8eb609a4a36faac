// The points drawn by WebGL2 and by the canvas fallback (issue 13, item 2): the same points in the
// same colours at the same spots, hidden classes gone, a pan moves them, hover finds them; with
// WebGL a crowd of points reads as density (a lone point among hundreds of thousands is faint, the
// crowd solid); a lost WebGL context falls back to the canvas. Headless Chromium here has WebGL2
// through SwiftShader; `?renderer=webgl` makes the explorer use it (on a software renderer it
// would always choose the canvas) and `?renderer=canvas` forces the fallback.
// Run `node esbuild.mjs` first.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { KNOWN, initMessage } from './fixtures';
import {
  clientPositionFromAxes,
  frameDrawn,
  pageProblems,
  pointsPixel,
  pointsRenderer,
  screenshot,
  startHarness,
  type Harness,
  type Renderer,
  openExplorer,
  postToWebview,
  waitForPosted,
} from './harness';

let harness: Harness;
let page: Page | null = null;

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
  page = null;
});

const CATS_DARK = [0xd1, 0x86, 0x16];

async function knownPixel(p: Page): Promise<[number, number, number, number]> {
  const [kx, ky] = await clientPositionFromAxes(p, KNOWN.x, KNOWN.y);
  return pointsPixel(p, kx, ky);
}

for (const renderer of ['webgl', 'canvas'] as Renderer[]) {
  test(`${renderer}: the known point in its label colour at its spot; hidden classes vanish; a pan moves it; hover finds it`, async () => {
    const p = (page = await openExplorer(harness, { renderer }));
    assert.equal(await pointsRenderer(p), renderer);
    assert.deepEqual(await knownPixel(p), [...CATS_DARK, 255], 'the lone known cat is drawn opaque in the cats colour');
    const [ex, ey] = await clientPositionFromAxes(p, -0.5, -0.5);
    assert.equal((await pointsPixel(p, ex, ey))[3], 0, 'the empty middle stays empty');
    await screenshot(p, `renderer-${renderer}`);

    await p.locator('.legend-item[data-label="1"]').click();
    await frameDrawn(p);
    assert.equal((await knownPixel(p))[3], 0, 'hiding the cats hides the known cat');
    await p.locator('.legend-item[data-label="1"]').click();
    await frameDrawn(p);
    assert.deepEqual(await knownPixel(p), [...CATS_DARK, 255]);

    // Drag the empty middle 120 px right and 80 px down: the point follows the axes.
    const [kx0, ky0] = await clientPositionFromAxes(p, KNOWN.x, KNOWN.y);
    await p.mouse.move(ex, ey);
    await p.mouse.down();
    await p.mouse.move(ex + 60, ey + 40, { steps: 3 });
    await p.mouse.move(ex + 120, ey + 80, { steps: 3 });
    await p.mouse.up();
    await frameDrawn(p);
    const [kx1, ky1] = await clientPositionFromAxes(p, KNOWN.x, KNOWN.y);
    assert.ok(Math.abs(kx1 - kx0 - 120) < 2 && Math.abs(ky1 - ky0 - 80) < 2, `the axes moved with the drag: ${[kx0, ky0]} → ${[kx1, ky1]}`);
    assert.deepEqual(await pointsPixel(p, kx1, ky1), [...CATS_DARK, 255], 'the point is drawn where it moved');
    assert.equal((await pointsPixel(p, kx0, ky0))[3], 0, 'and no longer where it was');

    await p.mouse.move(kx1 + 2, ky1 + 1);
    await p.locator('.tooltip').waitFor({ state: 'visible' });
    assert.equal(await p.locator('.tooltip .tooltip-path').textContent(), KNOWN.name);
  });

  test(`${renderer}: a crowd of 300,000 points beside a lone one`, async () => {
    const p = (page = await harness.newPage({ renderer }));
    await waitForPosted(p, 'ready');
    await postToWebview(p, initMessage());
    await postCrowd(p, 300_000);
    await p.waitForFunction(() => document.querySelector('.info')?.textContent?.includes('300,001 points'), undefined, { timeout: 30_000 });
    // On SwiftShader WebGL draws this many points from level-of-detail tiles once they are built
    // (webview/core/tiles.ts): every tile keeps at least one point, so the lone one is drawn.
    if (renderer === 'webgl')
      await p.waitForFunction(() => performance.getEntriesByName('lod-tiles-build').length > 0, undefined, { timeout: 30_000 });
    await frameDrawn(p);
    assert.equal(await pointsRenderer(p), renderer);
    const [cx, cy] = await clientPositionFromAxes(p, 2, 2);
    const crowd = await pointsPixel(p, cx, cy);
    const lone = await knownPixel(p);
    await screenshot(p, `renderer-${renderer}-crowd`);
    assert.deepEqual(crowd, [...CATS_DARK, 255], 'the crowd is solid in its colour');
    // Its colour, to the rounding of an 8-bit premultiplied pixel when it is faint.
    assert.ok(
      lone.slice(0, 3).every((v, i) => Math.abs(v - CATS_DARK[i]) <= 3),
      `the lone point keeps its colour (${lone})`,
    );
    if (renderer === 'webgl') {
      // Density-aware: opacity grows with the count of points under a pixel.
      assert.ok(lone[3] > 40 && lone[3] < 200, `the lone point is drawn faint beside the crowd (alpha ${lone[3]})`);
    } else {
      assert.equal(lone[3], 255, 'the canvas fallback draws every point opaque');
    }
  });
}

test('on a software renderer (SwiftShader here) the explorer chooses the canvas for a few hundred points', async () => {
  const p = (page = await openExplorer(harness));
  assert.equal(await pointsRenderer(p), 'canvas');
  assert.deepEqual(await knownPixel(p), [...CATS_DARK, 255]);
});

test('webgl: a lost context falls back to the canvas, which draws the same points', async () => {
  const p = (page = await openExplorer(harness, { renderer: 'webgl' }));
  assert.equal(await pointsRenderer(p), 'webgl');
  await p.evaluate(() => {
    const gl = document.querySelector<HTMLCanvasElement>('canvas.points-gl-layer')!.getContext('webgl2')!;
    gl.getExtension('WEBGL_lose_context')!.loseContext();
  });
  await p.waitForFunction(() => document.querySelector<HTMLElement>('.scatter')?.dataset.renderer === 'canvas');
  await frameDrawn(p);
  assert.deepEqual(await knownPixel(p), [...CATS_DARK, 255]);
  await p.locator('.legend-item[data-label="1"]').click();
  await frameDrawn(p);
  assert.equal((await knownPixel(p))[3], 0, 'hiding the cats still hides the known cat');
});

/** `n` cats around (2, 2), tight enough to pile up, and the known cat alone at its spot; built in the page. */
async function postCrowd(p: Page, n: number): Promise<void> {
  await p.evaluate(
    ([count, known]) => {
      let seed = 99;
      const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
      const mu = new Float32Array(2 * (count + 1));
      const names: string[] = [];
      for (let i = 0; i < count; i++) {
        const r = 0.05 * Math.sqrt(-2 * Math.log(random() + 1e-12));
        const t = 2 * Math.PI * random();
        mu[2 * i] = 2 + r * Math.cos(t);
        mu[2 * i + 1] = 2 + r * Math.sin(t);
        names.push(`cats/c-${i}.png`);
      }
      mu[2 * count] = known.x;
      mu[2 * count + 1] = known.y;
      names.push(known.name);
      // Packed as src/protocol/pointNames.ts packs them: UTF-8 bytes and an offset per name.
      const bytes = names.map((s) => new TextEncoder().encode(s));
      const offsets = new Uint32Array(names.length + 1);
      bytes.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.length));
      const all = new Uint8Array(offsets[names.length]);
      bytes.forEach((b, i) => all.set(b, offsets[i]));
      (window as unknown as { __harness: { postRaw(m: unknown): void } }).__harness.postRaw({
        type: 'points',
        folder: '/crowd',
        folderUri: `${location.origin}/img/crowd`,
        names: { bytes: all, offsets },
        labels: new Int32Array(count + 1).fill(1),
        labelNames: ['birds', 'cats', 'dogs', 'fish'],
        dims: 2,
        mu,
      });
    },
    [n, { x: KNOWN.x, y: KNOWN.y, name: KNOWN.name }] as const,
  );
}
