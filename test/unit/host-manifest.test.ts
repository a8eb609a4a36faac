// The manifest and the extension bundle agree with the code: every contributed command is
// registered, every setting the host reads is declared with bounds, menus show where they should,
// and activation loads no TensorFlow.js.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { settingKeys } from '../../src/host/settings';

const repo = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

test('every contributed command is in category VAE and registered by activate()', () => {
  const source = readFileSync(join(repo, 'src', 'extension.ts'), 'utf8');
  const ids: string[] = contributes.commands.map((c: { command: string }) => c.command);
  for (const c of contributes.commands) assert.equal(c.category, 'VAE', `${c.command} has category VAE`);
  for (const id of ids) assert.match(source, new RegExp(`'${id.replace('.', '\\.')}':`), `${id} is registered in src/extension.ts`);
  const titles = Object.fromEntries(contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  assert.deepEqual(
    [
      'vae.train',
      'vae.stopTraining',
      'vae.loadModel',
      'vae.encodeFolder',
      'vae.openExplorer',
      'vae.sample',
      'vae.exportProjector',
      'vae.exportOnnx',
    ].map((id) => `VAE: ${titles[id]}`),
    [
      'VAE: Train',
      'VAE: Stop Training',
      'VAE: Load Model',
      'VAE: Encode Image Folder',
      'VAE: Open Latent Explorer',
      'VAE: Sample into Workspace',
      'VAE: Export for Embedding Projector',
      'VAE: Export Model as ONNX',
    ],
  );
});

test('folder commands are on the explorer context menu, titled by what they do there; context-only ones are hidden from the palette', () => {
  const context = contributes.menus['explorer/context'];
  const palette = contributes.menus.commandPalette;
  const source = readFileSync(join(repo, 'src', 'extension.ts'), 'utf8');
  const title = (id: string) => contributes.commands.find((c: { command: string }) => c.command === id)?.title;
  // A menu entry shows its command's own title: the context menu has commands of its own, which
  // run the palette commands' functions on the folder right-clicked.
  const folderCommands = [
    ['vae.trainFolder', 'Train a VAE on This Folder', 'trainCommand'],
    ['vae.encodeFolderFromExplorer', 'Encode with the Active VAE', 'encodeFolderCommand'],
  ];
  for (const [id, expected, fn] of folderCommands) {
    const entry = context.find((m: { command: string }) => m.command === id);
    assert.ok(entry, `${id} is on the explorer context menu`);
    assert.match(entry.when, /explorerResourceIsFolder/);
    assert.equal(title(id), expected);
    assert.equal(palette.find((m: { command: string }) => m.command === id)?.when, 'false', `${id} is hidden from the palette`);
    assert.match(source, new RegExp(`'${id.replace('.', '\\.')}': \\(uri\\?: vscode\\.Uri\\) => ${fn}\\(host, uri\\)`), `${id} runs ${fn}`);
  }
  for (const id of ['vae.train', 'vae.encodeFolder']) {
    assert.ok(!context.some((m: { command: string }) => m.command === id), `${id} ("${title(id)}") is not on the context menu`);
  }
  assert.equal(palette.find((m: { command: string }) => m.command === 'vae.loadRunFolder')?.when, 'false');
  assert.match(palette.find((m: { command: string }) => m.command === 'vae.stopTraining')?.when, /latentAtlas\.training/);
});

test('every setting the host reads is declared, described and bounded', () => {
  const props = contributes.configuration.properties;
  const read = settingKeys();
  for (const key of read) {
    const p = props[`vae.${key}`];
    assert.ok(p, `vae.${key} is declared in package.json`);
    assert.ok(typeof p.description === 'string' && p.description.length > 20, `vae.${key} has a description`);
    if (p.type === 'integer' || p.type === 'number') assert.ok(p.minimum !== undefined && p.maximum !== undefined, `vae.${key} has bounds`);
    if (p.type === 'string' && p.enum) assert.ok(p.enum.includes(p.default), `vae.${key} default is one of its values`);
  }
  const declared = Object.keys(props).map((k) => k.slice('vae.'.length));
  assert.deepEqual(
    declared.filter((k) => !read.includes(k)),
    [],
    'no declared setting goes unused',
  );
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('the extension bundle loads no TensorFlow.js and no native module at activation', async () => {
  const result = await esbuild.build({
    entryPoints: [join(repo, 'src', 'extension.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    minify: true,
    external: ['vscode', 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(
    inputs.filter((i) => /tensorflow|sharp|engine\//.test(i)),
    [],
    'nothing from tfjs, sharp or the engine',
  );
  const requires = [...new Set(result.outputFiles[0].text.match(/require\("[^"]+"\)/g))].sort();
  assert.ok(
    requires.every((r) => /require\("(vscode|node:[\w/]+)"\)/.test(r)),
    `only vscode and node built-ins: ${requires.join(', ')}`,
  );
  assert.ok(result.outputFiles[0].contents.length < 150_000, `extension.js stays small (${result.outputFiles[0].contents.length} bytes)`);
  assert.deepEqual(pkg.activationEvents, ['onWebviewPanel:latentAtlas.explorer']);
});
