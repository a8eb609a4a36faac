// Prepares `npm run test:electron` (@vscode/test-cli + @vscode/test-electron): bundles the suite
// into out/test/electron/ and writes its workspace (Fashion-MNIST PNGs + one broken file).
// The run itself downloads a VS Code build, which needs internet access to update.code.visualstudio.com
// (or set VSCODE_PATH to an installed VS Code executable); see .vscode-test.mjs.

import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { writeBrokenPng, writeFashionMnist } from '../e2e/fixtures';

const repo = resolve(__dirname, '..', '..');
const out = join(repo, 'out', 'test', 'electron');

async function main(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(__dirname, 'extension.test.ts')],
    outdir: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: true,
    logLevel: 'warning',
  });
  const workspace = join(out, 'workspace', 'fashion');
  await writeFashionMnist(workspace, 300);
  await writeBrokenPng(join(workspace, 'Trouser', 'broken.png'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
