// Latent Explorer benchmark: the built webview in headless Chromium (the browser-test harness),
// with 100,000, 1,000,000 and 10,000,000 points, drawn by WebGL2 (SwiftShader here) and by the
// canvas fallback. Figures: time to first paint, median time per pan/zoom frame (the webview's own
// `scatter-draw` performance measures; with WebGL up to the GPU having finished the frame), the
// frame interval, hover latency (pointermove → tooltip shown, also for the very first hover right
// after the first paint), the hover index build, in the page and beside d3-quadtree in Node, and
// the memory the page and the GPU process hold. Run `node esbuild.mjs` first.

import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { quadtree } from 'd3-quadtree';
import type { Browser, Page } from 'playwright-core';
import { packNames } from '../src/protocol/pointNames';
import { GridIndex } from '../webview/core/gridIndex';
import { FRAME_BUDGET } from '../webview/pointsGl';
import { join } from 'node:path';
import { OUTPUT_DIR, clientPositionFromAxes, startHarness, type Renderer } from '../test/webview/harness';
import { initMessage } from '../test/webview/fixtures';
import { postToWebview } from '../test/webview/harness';

interface SizeResult {
  count: number;
  renderer: Renderer;
  /** JS heap in use and array buffers (CDP Runtime.getHeapUsage), the page's renderer process and the GPU process (resident set), MiB. */
  memory: { heapMiB: number; buffersMiB: number; rendererMiB: number; gpuMiB: number };
  firstPaintMs: number;
  paintAfterArrivalMs: number;
  zoomDrawMs: number;
  /** Points drawn per zoom/pan frame, median (WebGL draws a level-of-detail sample above its budget). */
  drawnPerFrame: number;
  /** Level-of-detail tiles ready after (ms), when built. */
  tilesReadyMs: number;
  panDrawMs: number;
  frameIntervalMs: number;
  /** Hover index build: longest main-thread slice, main-thread total, and wall time to ready. */
  indexLongestMs: number;
  indexBusyMs: number;
  indexReadyMs: number;
  firstHoverMs: number;
  hoverSyncMs: number;
  hoverFrameMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/** Builds and posts a PointsMessage of `count` 2-D points (8 Gaussian clusters) inside the page. */
async function postPoints(page: Page, count: number): Promise<number> {
  return page.evaluate((n) => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const mu = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    const names = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const l = i % 8;
      const angle = (l / 8) * 2 * Math.PI;
      const r = Math.sqrt(-2 * Math.log(random() + 1e-12));
      const t = 2 * Math.PI * random();
      mu[2 * i] = 2 * Math.cos(angle) + 0.5 * r * Math.cos(t);
      mu[2 * i + 1] = 2 * Math.sin(angle) + 0.5 * r * Math.sin(t);
      labels[i] = l;
      names[i] = `c${l}/img-${i}.png`;
    }
    // Packed as the host's packNames (src/protocol/pointNames.ts) packs them, before posting: the
    // host's work, timed in Node below. The names are ASCII, so a name's bytes are its characters.
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + names[i].length;
    const packed = { bytes: new TextEncoder().encode(names.join('')), offsets };
    (window as unknown as { __benchMu: Float32Array }).__benchMu = mu;
    // As soon as the first paint is measured, hover point n / 3 and time paint end → tooltip
    // shown: a user who moves the pointer at once waits for anything still blocking the thread.
    (window as unknown as { __firstHover: Promise<number> }).__firstHover = new Promise<number>((resolve) => {
      const observer = new PerformanceObserver((list) => {
        const draw = list.getEntriesByName('scatter-draw')[0];
        if (!draw) return;
        observer.disconnect();
        // WebGL returns before the GPU (SwiftShader here) has drawn: a one-pixel read waits for it.
        const gl = document.querySelector<HTMLCanvasElement>('canvas.points-gl-layer:not([hidden])')?.getContext('webgl2');
        gl?.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
        const paintEnd = gl ? performance.now() : draw.startTime + draw.duration;
        (window as unknown as { __paintEnd: number }).__paintEnd = paintEnd;
        const ticks = (sel: string, horizontal: boolean) =>
          Array.from(document.querySelectorAll<SVGGElement>(`${sel} .tick`)).map((t) => {
            const r = t.querySelector('line')!.getBoundingClientRect();
            return { v: Number(t.textContent!.replace('−', '-')), px: horizontal ? r.left + r.width / 2 : r.top + r.height / 2 };
          });
        const fit = (ts: { v: number; px: number }[], v: number) =>
          ts[0].px + ((v - ts[0].v) * (ts[ts.length - 1].px - ts[0].px)) / (ts[ts.length - 1].v - ts[0].v);
        const k = Math.floor(n / 3);
        const cx = fit(ticks('.scatter .axis-x', true), mu[2 * k]);
        const cy = fit(ticks('.scatter .axis-y', false), mu[2 * k + 1]);
        document
          .querySelector('svg.overlay-layer')!
          .dispatchEvent(new PointerEvent('pointermove', { clientX: cx, clientY: cy, bubbles: true }));
        resolve(document.querySelector<HTMLElement>('.tooltip')!.hidden ? NaN : performance.now() - paintEnd);
      });
      observer.observe({ entryTypes: ['measure'] });
    });
    const t0 = performance.now();
    performance.clearMeasures('scatter-draw');
    (window as unknown as { __harness: { postRaw(m: unknown): void } }).__harness.postRaw({
      type: 'points',
      folder: `/bench/${n}`,
      folderUri: `${location.origin}/img/bench/${n}`,
      names: packed,
      labels,
      labelNames: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'],
      dims: 2,
      mu,
    });
    return t0;
  }, count);
}

async function firstPaint(page: Page, t0: number): Promise<{ total: number; afterArrival: number }> {
  await page.waitForFunction((t) => performance.getEntriesByName('scatter-draw').some((e) => e.startTime > t), t0, { timeout: 60_000 });
  await page.waitForFunction(() => (window as unknown as { __paintEnd?: number }).__paintEnd !== undefined, undefined, { timeout: 60_000 });
  return page.evaluate((t) => {
    const end = (window as unknown as { __paintEnd: number }).__paintEnd;
    const arrived = performance.getEntriesByName('points-received').pop()!.startTime;
    return { total: end - t, afterArrival: end - arrived };
  }, t0);
}

/** Drives `frames` zoom or pan steps, one per animation frame, and returns draw durations and frame intervals. */
async function drive(page: Page, kind: 'zoom' | 'pan', frames: number): Promise<{ draws: number[]; intervals: number[]; drawn: number[] }> {
  return page.evaluate(
    async ([k, n]) => {
      const svg = document.querySelector<SVGSVGElement>('svg.overlay-layer')!;
      const box = svg.getBoundingClientRect();
      const cx = box.left + box.width / 2;
      const cy = box.top + box.height / 2;
      const nextFrame = () => new Promise<number>((r) => requestAnimationFrame(r));
      await nextFrame();
      performance.clearMeasures('scatter-draw');
      const stamps: number[] = [];
      // With WebGL a frame is done when the GPU has drawn it: a one-pixel read right after the
      // scatter's draw (queued before this frame callback) waits for that; the canvas path is done when its draw returns.
      const gl = document.querySelector<HTMLCanvasElement>('canvas.points-gl-layer:not([hidden])')?.getContext('webgl2');
      const pixel = new Uint8Array(4);
      const frames: number[] = [];
      const drawn: number[] = [];
      if (k === 'pan') svg.dispatchEvent(new MouseEvent('mousedown', { clientX: cx, clientY: cy, bubbles: true, view: window, button: 0 }));
      for (let i = 0; i < n; i++) {
        if (k === 'zoom') {
          const deltaY = i % 20 < 10 ? -60 : 60;
          svg.dispatchEvent(new WheelEvent('wheel', { clientX: cx, clientY: cy, deltaY, bubbles: true, cancelable: true, view: window }));
        } else {
          const dx = 150 * Math.sin(i / 8);
          window.dispatchEvent(new MouseEvent('mousemove', { clientX: cx + dx, clientY: cy + dx / 2, bubbles: true, view: window }));
        }
        stamps.push(await nextFrame());
        const draw = performance.getEntriesByName('scatter-draw').pop() as PerformanceMeasure | undefined;
        if (draw) drawn.push((draw.detail as { drawn: number }).drawn);
        if (draw && gl) {
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
          frames.push(performance.now() - draw.startTime);
        } else if (draw) frames.push(draw.duration);
        performance.clearMeasures('scatter-draw');
      }
      if (k === 'pan') window.dispatchEvent(new MouseEvent('mouseup', { clientX: cx, clientY: cy, bubbles: true, view: window }));
      await nextFrame();
      const draws = frames;
      const intervals = stamps.slice(1).map((t, i) => t - stamps[i]);
      return { draws, intervals, drawn };
    },
    [kind, frames] as const,
  );
}

async function hover(page: Page, count: number): Promise<{ sync: number[]; frame: number[] }> {
  const sync: number[] = [];
  const frame: number[] = [];
  for (let j = 0; j < 15; j++) {
    const r = await hoverOnce(page, Math.floor(((j + 0.5) / 15) * count));
    sync.push(r.sync);
    frame.push(r.frame);
  }
  return { sync, frame };
}

/** Hovers point i: pointermove dispatch → tooltip filled (sync) and → the next frame. */
async function hoverOnce(page: Page, i: number): Promise<{ sync: number; frame: number }> {
  const [x, y] = await page.evaluate((k) => {
    const mu = (window as unknown as { __benchMu: Float32Array }).__benchMu;
    return [mu[2 * k], mu[2 * k + 1]];
  }, i);
  const [px, py] = await clientPositionFromAxes(page, x, y);
  const r = await page.evaluate(
    async ([cx, cy]) => {
      const svg = document.querySelector<SVGSVGElement>('svg.overlay-layer')!;
      const tip = document.querySelector<HTMLElement>('.tooltip')!;
      svg.dispatchEvent(new PointerEvent('pointerleave', { bubbles: false }));
      const t0 = performance.now();
      svg.dispatchEvent(new PointerEvent('pointermove', { clientX: cx, clientY: cy, bubbles: true }));
      const t1 = performance.now();
      const shown = !tip.hidden;
      await new Promise<number>((res) => requestAnimationFrame(res));
      return { shown, sync: t1 - t0, frame: performance.now() - t0 };
    },
    [px, py] as const,
  );
  if (!r.shown) throw new Error(`bench/webview.ts: hovering point ${i} at (${px}, ${py}) showed no tooltip`);
  return r;
}

/** Resident set of a process, MiB (0 when it cannot be read). */
function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * What the page holds after a garbage collection: V8's heap and the array buffers (the points'
 * typed arrays), and the resident sets of its renderer process (the largest renderer: the only page
 * open holds the points) and of the GPU process, where SwiftShader keeps the vertex buffers that a
 * GPU would keep in its own memory.
 */
async function memory(browser: Browser, page: Page): Promise<SizeResult['memory']> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  await cdp.detach();
  const system = await browser.newBrowserCDPSession();
  const { processInfo } = (await system.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
  await system.detach();
  const of = (type: string) => Math.max(0, ...processInfo.filter((p) => p.type === type).map((p) => rssMiB(p.id)));
  return {
    heapMiB: heap.usedSize / 2 ** 20,
    buffersMiB: (heap.backingStorageSize ?? NaN) / 2 ** 20,
    rendererMiB: of('renderer'),
    gpuMiB: of('GPU'),
  };
}

async function measure(browser: Browser, page: Page, count: number, renderer: Renderer): Promise<SizeResult> {
  const t0 = await postPoints(page, count);
  const paint = await firstPaint(page, t0);
  const firstHoverMs = await page.evaluate(() => (window as unknown as { __firstHover: Promise<number> }).__firstHover);
  await page.waitForFunction(() => performance.getEntriesByName('hover-index-build').length > 0, undefined, { timeout: 300_000 });
  const index = await page.evaluate(() => {
    const m = performance.getEntriesByName('hover-index-build').pop() as PerformanceMeasure;
    const detail = m.detail as { busyMs: number; longestMs: number };
    return { ready: m.duration, busy: detail.busyMs, longest: detail.longestMs };
  });
  // Above its frame budget the WebGL renderer builds level-of-detail tiles after the hover index.
  const tilesReadyMs =
    renderer === 'webgl' && count > FRAME_BUDGET.software
      ? await page
          .waitForFunction(() => performance.getEntriesByName('lod-tiles-build').pop()?.duration, undefined, { timeout: 120_000 })
          .then((h) => h.jsonValue() as Promise<number>)
      : NaN;
  // What the points look like once settled, for a person to compare the renderers.
  await page.screenshot({ path: join(OUTPUT_DIR, `bench-${renderer}-${count}.png`) });
  const zoom = await drive(page, 'zoom', 60);
  const pan = await drive(page, 'pan', 60);
  const h = await hover(page, count);
  return {
    count,
    renderer,
    memory: await memory(browser, page),
    firstPaintMs: paint.total,
    paintAfterArrivalMs: paint.afterArrival,
    zoomDrawMs: median(zoom.draws),
    drawnPerFrame: median([...zoom.drawn, ...pan.drawn]),
    tilesReadyMs,
    panDrawMs: median(pan.draws),
    frameIntervalMs: median([...zoom.intervals, ...pan.intervals]),
    indexLongestMs: index.longest,
    indexBusyMs: index.busy,
    indexReadyMs: index.ready,
    firstHoverMs,
    hoverSyncMs: median(h.sync),
    hoverFrameMs: median(h.frame),
  };
}

/** The same clustered points as the page's, built in Node. */
function nodePoints(n: number): Float32Array {
  let seed = 12345;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const mu = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const angle = ((i % 8) / 8) * 2 * Math.PI;
    const r = Math.sqrt(-2 * Math.log(random() + 1e-12));
    const t = 2 * Math.PI * random();
    mu[2 * i] = 2 * Math.cos(angle) + 0.5 * r * Math.cos(t);
    mu[2 * i + 1] = 2 * Math.sin(angle) + 0.5 * r * Math.sin(t);
  }
  return mu;
}

/** The host's packing of the page's names (packNames), median of 3, in Node as in the extension host. */
function packTime(n: number): number {
  const names = Array.from({ length: n }, (_, i) => `c${i % 8}/img-${i}.png`);
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    packNames(names);
    runs.push(performance.now() - t);
  }
  return median(runs);
}

/** Build time of the grid index and of the d3-quadtree it replaced, median of 3, in Node. */
function indexBuilds(n: number): { grid: number; quadtree: number } {
  const c = nodePoints(n);
  const time = (f: () => unknown) => {
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      f();
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  const ids = Array.from({ length: n }, (_, i) => i);
  return {
    grid: time(() => GridIndex.build(c)),
    // Above a million points the quadtree takes gigabytes of nodes; it is left out.
    quadtree:
      n > 1_000_000
        ? NaN
        : time(() =>
            quadtree<number>()
              .x((i) => c[2 * i])
              .y((i) => c[2 * i + 1])
              .addAll(ids),
          ),
  };
}

export async function run(): Promise<string> {
  const harness = await startHarness();
  const results: SizeResult[] = [];
  const loadAtStart = loadavg()[0];
  let browserVersion = '';
  try {
    browserVersion = harness.browser.version();
    const runs: [Renderer, number][] = [
      ['canvas', 100_000],
      ['webgl', 100_000],
      ['canvas', 1_000_000],
      ['webgl', 1_000_000],
      ['canvas', 10_000_000],
      ['webgl', 10_000_000],
    ];
    // BENCH_EXPLORER_RUNS=webgl:10000000,canvas:100000 measures only those.
    const only = process.env.BENCH_EXPLORER_RUNS?.split(',').map((r) => r.trim());
    for (const [renderer, count] of runs.filter(([r, c]) => !only || only.includes(`${r}:${c}`))) {
      process.stderr.write(`bench: Latent Explorer, ${count.toLocaleString('en-US')} points, ${renderer}…\n`);
      const page = await harness.newPage({ renderer });
      await postToWebview(page, initMessage());
      const shown = await page.locator('.scatter').getAttribute('data-renderer');
      if (shown !== renderer) throw new Error(`bench/webview.ts: asked for ${renderer}, the explorer draws with ${shown}`);
      results.push(await measure(harness.browser, page, count, renderer));
      await page.context().close();
    }
  } finally {
    await harness.close();
  }
  const counts = [...new Set(results.map((r) => r.count))];
  const builds = counts.map((count) => ({ count, ...indexBuilds(count) }));
  const packs = counts.map((count) => ({ count, ms: packTime(count) }));
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  const m = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  const goal = (r: SizeResult) => (r.count <= 100_000 ? 16 : 50);
  const rows = results.map(
    (r) =>
      `| ${r.count.toLocaleString('en-US')} | ${r.renderer} | ${f(r.firstPaintMs)} (${f(r.paintAfterArrivalMs)}) | ${f(r.zoomDrawMs)} | ${f(r.panDrawMs)} | ${goal(r)} | ${Math.max(r.zoomDrawMs, r.panDrawMs) <= goal(r) ? 'met' : 'missed'} | ${f(r.frameIntervalMs)} | ${r.drawnPerFrame.toLocaleString('en-US')}${Number.isFinite(r.tilesReadyMs) ? ` (tiles ready after ${f(r.tilesReadyMs)} ms)` : ''} | ${f(r.indexLongestMs)} / ${f(r.indexBusyMs)} / ${f(r.indexReadyMs)} | ${f(r.firstHoverMs)} | ${f(r.hoverSyncMs)} / ${f(r.hoverFrameMs)} | ${m(r.memory.heapMiB)} / ${m(r.memory.buffersMiB)} / ${m(r.memory.rendererMiB)} / ${m(r.memory.gpuMiB)} |`,
  );
  return [
    '## Latent Explorer webview',
    '',
    `Headless Chromium ${browserVersion} (no GPU, \`--disable-gpu\`: WebGL2 runs on SwiftShader, ANGLE over its Vulkan, on the same CPU cores), 1200×800 page at device pixel ratio 1, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; load average ${loadAtStart.toFixed(1)} when the run started and ${loadavg()[0].toFixed(1)} when it ended (other work shares these cores, so figures vary between runs). ` +
      'Points are 2-D (8 labelled Gaussian clusters), posted as a `points` message built in the page (the 10M message too: 80 MB of coordinates, 40 MB of labels, 190 MB of names), ' +
      'drawn by WebGL2 (webview/pointsGl.ts: coordinates uploaded once, the view a uniform, density accumulated in a float target) or by the canvas fallback (webview/pointsLayer.ts: pixel by pixel into one ImageData per frame, `?renderer=canvas`).',
    '',
    '| points | renderer | first paint (after arrival), ms | zoom frame, median (ms) | pan frame, median (ms) | goal (ms/frame) | goal | frame interval, median (ms) | points drawn per frame, median | hover index: longest slice / main-thread total / ready after (ms) | first hover after first paint (ms) | hover: handler / to next frame, median (ms) | memory: JS heap / array buffers / renderer process / GPU process (MiB) |',
    '|---:|:---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'First paint: from posting the `points` message to the end of the first scatter draw (WebGL: to the GPU having drawn it, waited for by a one-pixel `readPixels`); in brackets, from the moment the explorer starts handling it ' +
      "(the difference is the browser's structured clone of the message: the points' file names travel as UTF-8 bytes and offsets, two typed arrays, see src/protocol/pointNames.ts). " +
      `Packing the names is the host's work before posting, outside this time: ${packs.map((p) => `${f(p.ms)} ms at ${p.count.toLocaleString('en-US')}`).join(', ')} in Node (once per encoding; the host keeps them for replays). ` +
      "Frame: the webview's own `scatter-draw` performance measure around manifold, points, axes and overlays, one wheel or drag step per animation frame (60 frames each); " +
      'with WebGL, from the start of that measure to the end of a one-pixel `readPixels` right after it, which waits for SwiftShader to finish the frame (the GL calls return before). ' +
      "Memory, after the pan, zoom and hovers and a forced garbage collection: V8's heap in use and the array buffers (the typed arrays: coordinates, labels, names, draw classes, the hover index; CDP `Runtime.getHeapUsage`), " +
      "and the resident set (VmRSS) of the page's renderer process and of Chromium's GPU process, where SwiftShader holds the vertex buffers and the float target a GPU would hold in its own memory. " +
      'Frame interval: median time between animation frames while driving (headless Chromium paces frames at about 60 Hz when a frame fits). ' +
      'Hover uses a uniform grid index over data coordinates (one counting sort over typed arrays; queries scan the cells under the pick circle, so the nearest point is exact). ' +
      'It is built once per projection, starting 50 ms after the points arrive, in slices of about 8 ms between frames and events; until it is ready a hover scans every point (also exact). ' +
      "The index columns give the longest single slice (the longest the main thread is blocked), the slices' total, and the wall time from the start until the index is ready. " +
      "First hover: from the end of the first paint to the tooltip shown, for a pointermove dispatched as soon as the paint's measure is observed (it waits for whatever still blocks the main thread). " +
      'Hover: pointermove dispatch → tooltip filled (handler), and → the next animation frame, median of 15.',
    '',
    'Hover index built in one go in Node on the same points (median of 3), beside the d3-quadtree (`addAll`) the webview used before; the quadtree was built in one blocking pass, so its time was also the wait of a first hover:',
    '',
    '| points | grid index (ms) | d3-quadtree (ms) |',
    '|---:|---:|---:|',
    ...builds.map((b) => `| ${b.count.toLocaleString('en-US')} | ${f(b.grid)} | ${f(b.quadtree)} |`),
    '',
  ].join('\n');
}

if (process.argv[1] && /bench[\\/]webview\.ts$/.test(process.argv[1])) {
  run().then(
    (md) => process.stdout.write(md + '\n'),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
