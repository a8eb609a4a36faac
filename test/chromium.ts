// Debian's Chromium, driven by playwright-core, as every browser test and the end-to-end tests
// start it: no sandbox (root in CI), no GPU, no traffic beyond the pages the tests serve.
// WebGL2 still works, on SwiftShader (ANGLE over SwiftShader's Vulkan, on the CPU): Chromium 156
// gives it headless even with --disable-gpu. --enable-unsafe-swiftshader is Chromium's opt-in for
// WebGL on SwiftShader once its automatic fallback goes; Playwright passes it too, it is named here
// so the WebGL browser tests and the bench do not hang on that default.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
