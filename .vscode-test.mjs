// `npm run test:electron`: the integration suite in a real VS Code via @vscode/test-cli.
// It downloads a VS Code build unless VSCODE_PATH names an installed VS Code executable, so it
// cannot run on machines without access to update.code.visualstudio.com (use test/e2e there).
// On a headless Linux run it under `xvfb-run -a npm run test:electron`.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'electron',
  files: 'out/test/electron/**/*.test.js',
  workspaceFolder: 'out/test/electron/workspace/fashion',
  extensionDevelopmentPath: '.',
  ...(process.env.VSCODE_PATH ? { useInstallation: { fromPath: process.env.VSCODE_PATH } } : { version: 'stable' }),
  launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  mocha: { ui: 'tdd', timeout: 300_000 },
});
