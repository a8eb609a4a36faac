// Issue 9, item 4: every chart series and mark of the ELBO panel, and the active pointer mode, are
// visible in the light, dark and both high-contrast themes — also when a theme emits no charts.*
// colours (the high-contrast themes of the report drew no Reconstruction curve). Screenshots of
// each theme go to .test-output/webview/theme-<name>-*.png.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { initMessage, pointsMessage, seriesMessage } from './fixtures';
import { THEMES, frameDrawn, pageProblems, postToWebview, screenshot, startHarness, waitForPosted, type Harness } from './harness';

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

/** The four kinds of theme VS Code has, each with the body class it sets and the variables it emits. */
const THEME_SETS: Record<string, { bodyClass: string; vars: Record<string, string> }> = {
  light: { bodyClass: 'vscode-light', vars: THEMES.light },
  dark: { bodyClass: 'vscode-dark', vars: THEMES.dark },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: { ...THEMES['high-contrast'], '--vscode-contrastActiveBorder': '#f38518' },
  },
  // High Contrast Light (VS Code's defaults for it); only its own body class, the least VS Code sets.
  'high-contrast-light': {
    bodyClass: 'vscode-high-contrast-light',
    vars: {
      '--vscode-settings-textInputBackground': '#ffffff',
      '--vscode-settings-textInputForeground': '#292929',
      '--vscode-settings-textInputBorder': '#0f4a85',
      '--vscode-settings-checkboxBackground': '#ffffff',
      '--vscode-settings-checkboxBorder': '#0f4a85',
      '--vscode-settings-checkboxForeground': '#292929',
      '--vscode-settings-headerBorder': '#0f4a85',
      '--vscode-panelTitle-activeForeground': '#292929',
      '--vscode-panelTitle-inactiveForeground': '#292929',
      '--vscode-panelTitle-activeBorder': '#b5200d',
      '--vscode-editor-background': '#ffffff',
      '--vscode-panel-background': '#ffffff',
      '--vscode-foreground': '#292929',
      '--vscode-descriptionForeground': '#292929',
      '--vscode-focusBorder': '#006bbd',
      '--vscode-contrastBorder': '#0f4a85',
      '--vscode-contrastActiveBorder': '#006bbd',
      '--vscode-charts-foreground': '#292929',
      '--vscode-charts-lines': '#29292980',
      '--vscode-charts-blue': '#0f4a85',
      '--vscode-charts-orange': '#0f4a85',
      '--vscode-charts-green': '#374e06',
      '--vscode-charts-red': '#b5200d',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-yellow': '#895503',
      '--vscode-editorWidget-background': '#ffffff',
      '--vscode-editorHoverWidget-background': '#ffffff',
      '--vscode-editorHoverWidget-border': '#0f4a85',
      '--vscode-panel-border': '#0f4a85',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#292929',
      '--vscode-dropdown-border': '#0f4a85',
      '--vscode-editor-selectionBackground': '#0f4a85',
      '--vscode-errorForeground': '#b5200d',
      '--vscode-font-family': 'sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-button-background': '#0f4a85',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#0f4a85',
      '--vscode-button-secondaryBackground': '#ffffff',
      '--vscode-button-secondaryForeground': '#292929',
      '--vscode-input-background': '#ffffff',
      '--vscode-input-foreground': '#292929',
      '--vscode-input-border': '#0f4a85',
    },
  },
};

/** Replaces every --vscode-* variable and the theme class, as VS Code does on a theme change. */
async function applyTheme(vars: Record<string, string>, bodyClass: string): Promise<void> {
  await page.evaluate(
    ([v, cls]) => {
      const style = document.documentElement.style;
      for (const name of Array.from(style)) if (name.startsWith('--vscode-')) style.removeProperty(name);
      for (const [k, x] of Object.entries(v)) style.setProperty(k, x);
      document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
      document.body.classList.add(cls);
    },
    [vars, bodyClass] as const,
  );
  await frameDrawn(page);
}

const withoutChartColours = (vars: Record<string, string>) =>
  Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith('--vscode-charts-')));

function rgba(css: string): [number, number, number, number] | null {
  const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(css.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
}

/** WCAG contrast of two sRGB colours. */
function contrast(a: readonly number[], b: readonly number[]): number {
  const lum = (c: readonly number[]) => {
    const [r, g, bl] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour each part of the charts is painted with, and the page background. */
async function chartColours(): Promise<{ background: string; parts: [string, string, string][] }> {
  return page.evaluate(() => {
    const parts: [string, string, string][] = [];
    const one = (what: string, selector: string, prop: 'stroke' | 'fill') => {
      const node = document.querySelector(selector);
      parts.push([what, node ? getComputedStyle(node)[prop] : 'missing', node?.getAttribute('d') ?? '']);
    };
    for (const key of ['negElbo', 'reconstruction', 'kl']) {
      one(`${key} series`, `.chart-${key} path.series`, 'stroke');
      one(`${key} axis`, `.chart-${key} .axis-y path`, 'stroke');
      one(`${key} title`, `.chart-${key} text.chart-title`, 'fill');
    }
    one('train mark', '.chart-negElbo .mark-train', 'fill');
    one('validation mark', '.chart-negElbo .mark-val', 'fill');
    one('log p(x) mark', '.chart-negElbo .mark-logpx', 'fill');
    one('active KL bar', '.chart-kl-dims rect.bar.active', 'fill');
    return { background: getComputedStyle(document.body).backgroundColor, parts };
  });
}

/** The colours covering the outer two pixels of an element's box (its face, border and outline). */
async function frameColours(selector: string): Promise<Set<string>> {
  const box = (await page.locator(selector).boundingBox())!;
  const clip = { x: box.x - 2, y: box.y - 2, width: box.width + 4, height: box.height + 4 };
  const png = PNG.sync.read(await page.screenshot({ clip }));
  const counts = new Map<string, number>();
  let total = 0;
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const edge = Math.min(x, y, png.width - 1 - x, png.height - 1 - y);
      if (edge < 1 || edge > 4) continue;
      const i = 4 * (y * png.width + x);
      const key = `${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    }
  return new Set([...counts].filter(([, n]) => n >= total * 0.08).map(([k]) => k));
}

test('every chart series and mark, and the active pointer mode, are visible in light, dark and both high-contrast themes', async () => {
  page = await harness.newPage();
  await waitForPosted(page, 'ready');
  await postToWebview(page, initMessage());
  await postToWebview(page, pointsMessage(30, harness.url.replace(/\/$/, '')));
  await postToWebview(page, seriesMessage(600, 3));
  // A running training shows the Training view by itself.
  await page.waitForFunction(() => document.querySelector('.chart-reconstruction path.series')?.getAttribute('d'));
  await page.click('vscode-button.mode-brush');

  const problems: string[] = [];
  for (const [name, theme] of Object.entries(THEME_SETS)) {
    for (const [variant, vars] of [
      ['', theme.vars],
      ['-no-chart-colours', withoutChartColours(theme.vars)],
    ] as const) {
      await applyTheme(vars, theme.bodyClass);
      const { background, parts } = await chartColours();
      const bg = rgba(background)!;
      for (const [what, css, d] of parts) {
        const c = rgba(css);
        if (!c || c[3] < 0.5) problems.push(`${name}${variant}: ${what} is painted "${css}"`);
        else if (contrast(c, bg) < 2) problems.push(`${name}${variant}: ${what} ${css} hardly differs from the background ${background}`);
        if (what.endsWith('series') && !d) problems.push(`${name}${variant}: ${what} has no path`);
      }
      await screenshot(page, `theme-${name}${variant}-training`);
    }
    // The active mode stands out from the others (its face, border or outline).
    const active = await frameColours('vscode-button.mode-brush');
    const others = [await frameColours('vscode-button.mode-pan'), await frameColours('vscode-button.mode-lasso')];
    for (const other of others) {
      const same = active.size === other.size && [...active].every((c) => other.has(c));
      if (same) problems.push(`${name}: the active pointer mode looks like the others (${[...active].join(' | ')})`);
    }
    await page.click('vscode-tab-header.tab-images');
    await frameDrawn(page);
    await screenshot(page, `theme-${name}-images`);
    await page.click('vscode-tab-header.tab-training');
  }
  assert.deepEqual(problems, []);
});
