// A scripted VS Code host for the Latent Explorer: a loopback HTTP server that serves the page
// rendered by src/host/webviewHtml.ts (real CSP, real nonce), the built bundle, an
// `acquireVsCodeApi()` that records what the webview posts, and Debian's Chromium to drive it.

import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../chromium';
import { webviewHtml } from '../../src/host/webviewHtml';
import type { FromWebviewMessage, PointsMessage, ToWebviewMessage } from '../../src/protocol/webview';
import { initMessage, pointsMessage } from './fixtures';

const ROOT = join(import.meta.dirname, '..', '..');
export const OUTPUT_DIR = join(ROOT, '.test-output', 'webview');

// One small grey PNG stands in for every hovered image.
const PNG = grayPng(8, 8, 128);

function grayPng(width: number, height: number, grey: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, grey);
  for (let r = 0; r < height; r++) rows[r * (width + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Theme variables as VS Code sets them on <html>, and the body class it uses. */
export const THEMES = {
  dark: {
    '--vscode-settings-textInputBackground': '#313131',
    '--vscode-settings-textInputForeground': '#cccccc',
    '--vscode-settings-checkboxBackground': '#313131',
    '--vscode-settings-checkboxBorder': '#3c3c3c',
    '--vscode-settings-checkboxForeground': '#cccccc',
    '--vscode-panelTitle-activeForeground': '#e7e7e7',
    '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
    '--vscode-panelTitle-activeBorder': '#0078d4',
    '--vscode-panel-background': '#1e1e1e',
    '--vscode-settings-headerBorder': '#2b2b2b',
    '--vscode-editor-background': '#1e1e1e',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-focusBorder': '#007fd4',
    '--vscode-charts-foreground': '#cccccc',
    '--vscode-charts-lines': '#cccccc80',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-editorWidget-background': '#252526',
    '--vscode-editorHoverWidget-background': '#252526',
    '--vscode-editorHoverWidget-border': '#454545',
    '--vscode-panel-border': '#80808059',
    '--vscode-dropdown-background': '#3c3c3c',
    '--vscode-dropdown-foreground': '#f0f0f0',
    '--vscode-editor-selectionBackground': '#264f78',
    '--vscode-errorForeground': '#f48771',
    '--vscode-font-family': 'sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-button-background': '#0e639c',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#3a3d41',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-input-background': '#3c3c3c',
    '--vscode-input-foreground': '#cccccc',
  },
  light: {
    '--vscode-settings-textInputBackground': '#ffffff',
    '--vscode-settings-textInputForeground': '#616161',
    '--vscode-settings-textInputBorder': '#cecece',
    '--vscode-settings-checkboxBackground': '#ffffff',
    '--vscode-settings-checkboxBorder': '#cecece',
    '--vscode-settings-checkboxForeground': '#616161',
    '--vscode-panelTitle-activeForeground': '#424242',
    '--vscode-panelTitle-inactiveForeground': '#616161bf',
    '--vscode-panelTitle-activeBorder': '#424242',
    '--vscode-panel-background': '#ffffff',
    '--vscode-settings-headerBorder': '#e5e5e5',
    '--vscode-editor-background': '#ffffff',
    '--vscode-foreground': '#616161',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-focusBorder': '#0090f1',
    '--vscode-charts-foreground': '#616161',
    '--vscode-charts-lines': '#61616180',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-editorWidget-background': '#f3f3f3',
    '--vscode-editorHoverWidget-background': '#f3f3f3',
    '--vscode-editorHoverWidget-border': '#c8c8c8',
    '--vscode-panel-border': '#80808059',
    '--vscode-dropdown-background': '#ffffff',
    '--vscode-dropdown-foreground': '#616161',
    '--vscode-editor-selectionBackground': '#add6ff',
    '--vscode-errorForeground': '#a1260d',
    '--vscode-font-family': 'sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-button-background': '#007acc',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#5f6a79',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-input-background': '#ffffff',
    '--vscode-input-foreground': '#616161',
    '--vscode-input-border': '#cecece',
  },
  'high-contrast': {
    '--vscode-settings-textInputBackground': '#000000',
    '--vscode-settings-textInputForeground': '#ffffff',
    '--vscode-settings-checkboxBackground': '#000000',
    '--vscode-settings-checkboxBorder': '#6fc3df',
    '--vscode-settings-checkboxForeground': '#ffffff',
    '--vscode-panelTitle-activeForeground': '#ffffff',
    '--vscode-panelTitle-inactiveForeground': '#ffffff',
    '--vscode-panelTitle-activeBorder': '#f38518',
    '--vscode-panel-background': '#000000',
    '--vscode-settings-headerBorder': '#6fc3df',
    '--vscode-button-background': '#000000',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-border': '#6fc3df',
    '--vscode-button-secondaryBackground': '#000000',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-editor-background': '#000000',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-focusBorder': '#f38518',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-charts-foreground': '#ffffff',
    '--vscode-charts-lines': '#ffffff',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-yellow': '#ffff00',
    '--vscode-editorWidget-background': '#0c141f',
    '--vscode-editorHoverWidget-background': '#0c141f',
    '--vscode-editorHoverWidget-border': '#6fc3df',
    '--vscode-dropdown-background': '#000000',
    '--vscode-dropdown-foreground': '#ffffff',
    '--vscode-editor-selectionBackground': '#ffffff',
    '--vscode-errorForeground': '#f48771',
    '--vscode-font-family': 'sans-serif',
    '--vscode-font-size': '13px',
  },
} as const;
export type ThemeName = keyof typeof THEMES;

// Runs in the page before the bundle, as VS Code's own preload does.
const HARNESS_JS = `(() => {
  // tsx names the arrow functions a test passes to page.evaluate with esbuild's __name helper.
  window.__name = (f) => f;
  const THEMES = ${JSON.stringify(THEMES)};
  const posted = [];
  const problems = [];
  const typed = { Float32Array, Float64Array, Int32Array, Uint8Array, Uint32Array, Uint8ClampedArray };
  const revive = (v) => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      if (typeof v.__typed === 'string') return new typed[v.__typed](v.data);
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = revive(x);
      return out;
    }
    return v;
  };
  const encode = (v) => {
    if (ArrayBuffer.isView(v)) return { __typed: v.constructor.name, data: Array.from(v) };
    if (Array.isArray(v)) return v.map(encode);
    if (v && typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = encode(x);
      return out;
    }
    return v;
  };
  document.addEventListener('securitypolicyviolation', (e) => problems.push('CSP ' + e.violatedDirective + ' blocked ' + e.blockedURI));
  window.addEventListener('error', (e) => problems.push('error ' + e.message));
  const theme = (name) => {
    const vars = THEMES[name];
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    const apply = () => {
      document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
      document.body.classList.add('vscode-' + name);
    };
    if (document.body) apply(); else document.addEventListener('DOMContentLoaded', apply);
  };
  theme(sessionStorage.getItem('harness-theme') || 'dark');
  let state = JSON.parse(sessionStorage.getItem('harness-state') || 'null');
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => posted.push(m),
    getState: () => state,
    setState: (s) => { state = JSON.parse(JSON.stringify(s)); sessionStorage.setItem('harness-state', JSON.stringify(s)); },
  });
  window.__harness = {
    posted: () => posted.map(encode),
    count: (type) => posted.filter((m) => m.type === type).length,
    clear: () => { posted.length = 0; },
    post: (m) => window.postMessage(revive(m), '*'),
    postRaw: (m) => window.postMessage(m, '*'),
    problems,
    theme: (name) => { sessionStorage.setItem('harness-theme', name); theme(name); },
    state: () => state,
  };
})();`;

export interface Harness {
  url: string;
  browser: Browser;
  close(): Promise<void>;
  /**
   * `clock`: Playwright's fake clock, installed before the page loads (time still flows; tests may jump it).
   * `renderer`: 'canvas', the points are painted by the canvas fallback even though WebGL2 is there;
   * 'webgl', by WebGL2 even on a software renderer (SwiftShader here, where the explorer would
   * otherwise always choose the canvas). Neither: what the explorer chooses.
   */
  newPage(opts?: { reducedMotion?: boolean; clock?: boolean; renderer?: Renderer }): Promise<Page>;
}

/** How the points are drawn: WebGL2 (the default where the browser has it) or the canvas fallback. */
export type Renderer = 'webgl' | 'canvas';

export async function startHarness(): Promise<Harness> {
  const bundle = join(ROOT, 'dist', 'webview.js');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run "node esbuild.mjs" before the webview tests`);
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://${req.headers.host}`;
    if (url.pathname === '/') {
      const nonce = randomBytes(16).toString('base64');
      const html = webviewHtml({
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/dist/webview.css`,
        cspSource: origin,
        nonce,
      }).replace('<link rel="stylesheet"', `<script nonce="${nonce}" src="${origin}/harness.js"></script>\n  <link rel="stylesheet"`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (url.pathname === '/harness.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(HARNESS_JS);
    } else if (url.pathname === '/dist/webview.js' || url.pathname === '/dist/webview.css') {
      const file = join(ROOT, url.pathname);
      const type = file.endsWith('.js') ? 'text/javascript' : 'text/css';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
    } else if (url.pathname.startsWith('/img/') && decodeURIComponent(url.pathname).endsWith('.png')) {
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await launchChromium();
  return {
    url,
    browser,
    async newPage(opts = {}) {
      const context = await browser.newContext({
        viewport: { width: 1200, height: 800 },
        deviceScaleFactor: 1,
        reducedMotion: opts.reducedMotion ? 'reduce' : 'no-preference',
      });
      if (opts.clock) await context.clock.install();
      const page = await context.newPage();
      await page.goto(opts.renderer ? `${url}?renderer=${opts.renderer}` : url);
      await page.waitForSelector('.toolbar');
      return page;
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Talking to the page

type Encoded = unknown;

/** Typed arrays cross into the page as { __typed, data } and are revived there. */
export function encodeTyped(v: unknown): Encoded {
  if (ArrayBuffer.isView(v)) return { __typed: v.constructor.name, data: Array.from(v as unknown as ArrayLike<number>) };
  if (Array.isArray(v)) return v.map(encodeTyped);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeTyped(x)]));
  return v;
}

function decodeTyped(v: unknown): unknown {
  const ctors: Record<string, new (d: number[]) => unknown> = {
    Float32Array,
    Float64Array,
    Int32Array,
    Uint8Array,
    Uint32Array,
    Uint8ClampedArray,
  };
  if (Array.isArray(v)) return v.map(decodeTyped);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.__typed === 'string') return new ctors[o.__typed](o.data as number[]);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeTyped(x)]));
  }
  return v;
}

export async function postToWebview(page: Page, msg: ToWebviewMessage): Promise<void> {
  await page.evaluate((m) => (window as unknown as { __harness: { post(m: unknown): void } }).__harness.post(m), encodeTyped(msg));
}

export async function postedMessages(page: Page): Promise<FromWebviewMessage[]> {
  const raw = await page.evaluate(() => (window as unknown as { __harness: { posted(): unknown[] } }).__harness.posted());
  return decodeTyped(raw) as FromWebviewMessage[];
}

/** Waits (polling each frame in the page) until the webview has posted `count` messages of `type`. */
export async function waitForPosted<T extends FromWebviewMessage['type']>(
  page: Page,
  type: T,
  count = 1,
  timeoutMs = 5000,
): Promise<Extract<FromWebviewMessage, { type: T }>[]> {
  try {
    await page.waitForFunction(
      ([t, n]) => (window as unknown as { __harness: { count(t: string): number } }).__harness.count(t) >= n,
      [type, count] as const,
      { timeout: timeoutMs },
    );
  } catch (e) {
    if ((e as Error).name !== 'TimeoutError') throw e;
    const found = (await postedMessages(page)).filter((m) => m.type === type).length;
    throw new Error(`the webview posted ${found} "${type}" message(s) within ${timeoutMs} ms, expected ${count}`);
  }
  return (await postedMessages(page)).filter((m) => m.type === type) as Extract<FromWebviewMessage, { type: T }>[];
}

/**
 * Resolves once the page has run an animation frame that was queued after everything done so far.
 * The scatter (and the ELBO panel) draw in a requestAnimationFrame callback queued by the change
 * that needs drawing; callbacks run in the order they were queued, so when this frame runs, every
 * change already made (a handled message, a key press or wheel Playwright has delivered, a theme
 * switch) is on the canvas and the axes. Under Playwright's fake clock the frame is a fake one,
 * still run in order.
 */
export async function frameDrawn(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));
}

/** The view transform the webview last saved in its state (saved whenever pan or zoom comes to rest). */
export async function savedTransform(page: Page): Promise<{ k: number; x: number; y: number } | null> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('harness-state') ?? 'null')?.transform ?? null);
}

export async function pageProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as { __harness: { problems: string[] } }).__harness.problems]);
}

export async function setTheme(page: Page, theme: ThemeName): Promise<void> {
  await page.evaluate((t) => (window as unknown as { __harness: { theme(t: string): void } }).__harness.theme(t), theme);
}

/**
 * RGBA of the points at a client position, as shown: the WebGL2 canvas or the canvas fallback,
 * whichever is visible (both fill the scatter). A WebGL canvas is read through a 2-D copy, which
 * un-premultiplies its colours as the page composites them.
 */
export async function pointsPixel(page: Page, clientX: number, clientY: number): Promise<[number, number, number, number]> {
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas.points-layer:not([hidden]), canvas.points-gl-layer:not([hidden])')!;
      const box = canvas.getBoundingClientRect();
      const s = canvas.width / box.width;
      const [px, py] = [Math.round((x - box.left) * s), Math.round((y - box.top) * s)];
      let ctx = canvas.getContext('2d');
      if (!ctx) {
        const copy = document.createElement('canvas');
        copy.width = 1;
        copy.height = 1;
        ctx = copy.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(canvas, px, py, 1, 1, 0, 0, 1, 1);
      }
      const d = ctx.getImageData(ctx.canvas === canvas ? px : 0, ctx.canvas === canvas ? py : 0, 1, 1).data;
      return [d[0], d[1], d[2], d[3]] as [number, number, number, number];
    },
    [clientX, clientY],
  );
}

/** Every colour (r,g,b) drawn on the points layer, whichever renderer draws it. */
export async function pointsColours(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const shown = document.querySelector<HTMLCanvasElement>('canvas.points-layer:not([hidden]), canvas.points-gl-layer:not([hidden])')!;
    let ctx = shown.getContext('2d');
    if (!ctx) {
      const copy = document.createElement('canvas');
      copy.width = shown.width;
      copy.height = shown.height;
      ctx = copy.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(shown, 0, 0);
    }
    const d = ctx.getImageData(0, 0, ctx.canvas.width, ctx.canvas.height).data;
    const seen = new Set<string>();
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return [...seen];
  });
}

/** Which renderer draws the points now. */
export async function pointsRenderer(page: Page): Promise<Renderer> {
  return (await page.locator('.scatter').getAttribute('data-renderer')) as Renderer;
}

/**
 * Client position of a data point read off the drawn axes (two labelled ticks per axis), so a
 * test checks the picture against the numbers a person sees, not against the code's own maths.
 */
export async function clientPositionFromAxes(page: Page, x: number, y: number): Promise<[number, number]> {
  return page.evaluate(
    ([dx, dy]) => {
      const ticks = (sel: string, horizontal: boolean) =>
        Array.from(document.querySelectorAll<SVGGElement>(`${sel} .tick`)).map((t) => {
          const r = t.querySelector('line')!.getBoundingClientRect();
          return { v: Number(t.textContent!.replace('−', '-')), px: horizontal ? r.left + r.width / 2 : r.top + r.height / 2 };
        });
      const fit = (ts: { v: number; px: number }[], v: number) => {
        const [a, b] = [ts[0], ts[ts.length - 1]];
        return a.px + ((v - a.v) * (b.px - a.px)) / (b.v - a.v);
      };
      return [fit(ticks('.scatter .axis-x', true), dx), fit(ticks('.scatter .axis-y', false), dy)] as [number, number];
    },
    [x, y],
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`) });
}

/**
 * The opening most tests share: a new explorer page told about the fixture's model (latent size
 * 2 unless given) and sent `points` (the fixture's 201 by default), once the points are counted
 * and drawn. The count is written while the points message is handled; the points and axes follow
 * in the frame that handler asked for.
 */
export async function openExplorer(
  harness: Harness,
  opts: { reducedMotion?: boolean; clock?: boolean; points?: PointsMessage; latentSize?: number; renderer?: Renderer } = {},
): Promise<Page> {
  const page = await harness.newPage({ reducedMotion: opts.reducedMotion, clock: opts.clock, renderer: opts.renderer });
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage(opts.latentSize));
  const points = opts.points ?? pointsMessage(50, harness.url.replace(/\/$/, ''));
  await postToWebview(page, points);
  await page.waitForFunction(
    (n) => document.querySelector('.info')?.textContent?.includes(`${n.toLocaleString()} points`),
    points.labels.length,
  );
  await frameDrawn(page);
  return page;
}
