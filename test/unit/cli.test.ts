// The headless CLI as a person runs it (the bundled dist-like cli.js, piped output): exit codes,
// usage text, the run path, PNG samples, the info report.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { freeRunDir } from '../../src/cli';
import { demoFolder, REPO, tempDir } from './worker-fixtures';

// The CLI and worker are bundled as they ship (same esbuild options as esbuild.mjs), into a folder
// under node_modules/.cache so the bundles resolve sharp like dist/ does, without touching dist/.
const BUNDLE_DIR = join(REPO, 'node_modules', '.cache', 'latent-atlas-cli-test', String(process.pid));
const CLI = join(BUNDLE_DIR, 'cli.js');
let root: string;
let images: string;

function cli(args: string[], cwd = root): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function bundle(): Promise<void> {
  const node = {
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    format: 'cjs' as const,
    logLevel: 'warning' as const,
    external: ['vscode', 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  };
  await esbuild.build({ ...node, entryPoints: { worker: join(REPO, 'src/engine/worker.ts') }, outdir: BUNDLE_DIR });
  await esbuild.build({ ...node, entryPoints: { cli: join(REPO, 'src/cli.ts') }, outdir: BUNDLE_DIR, banner: { js: '#!/usr/bin/env node' } });
  await fs.mkdir(join(BUNDLE_DIR, 'wasm'), { recursive: true });
  const wasm = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of await fs.readdir(wasm)) if (f.endsWith('.wasm')) await fs.copyFile(join(wasm, f), join(BUNDLE_DIR, 'wasm', f));
}

before(async () => {
  await bundle();
  root = await tempDir('cli');
  images = await demoFolder(join(root, 'shapes'), 90);
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(BUNDLE_DIR, { recursive: true, force: true });
  await fs.rmdir(dirname(BUNDLE_DIR)).catch(() => undefined);
});

describe('latent-atlas CLI', () => {
  let runDir = '';

  test('train on a small folder exits 0 and prints where the run landed', async () => {
    const r = await cli(['train', images, '--epochs', '1', '--batch', '30', '--out', join(root, 'runs'), '--latent', '2']);
    assert.equal(r.code, 0, r.stderr);
    const m = /Run saved: (.+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    runDir = m[1]!.trim();
    assert.ok(runDir.startsWith(join(root, 'runs', 'shapes-')), 'default name from the folder name and date');
    const manifest = JSON.parse(await fs.readFile(join(runDir, 'run.json'), 'utf8'));
    assert.equal(manifest.epochsCompleted, 1);
    assert.match(r.stdout, /epoch 1: train −ELBO/);
  });

  test('sample -n 5 --out d writes 5 PNG files of the run\'s size', async () => {
    const out = join(root, 'samples');
    const r = await cli(['sample', runDir, '-n', '5', '--out', out, '--seed', '3']);
    assert.equal(r.code, 0, r.stderr);
    const files = (await fs.readdir(out)).filter((f) => f.endsWith('.png'));
    assert.equal(files.length, 5);
    const meta = await sharp(join(out, files[0]!)).metadata();
    assert.deepEqual([meta.width, meta.height], [28, 28]);
    const again = await cli(['sample', runDir, '-n', '2', '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await fs.readdir(out)).length, 7, 'existing samples are never overwritten');
  });

  test('info prints the manifest and the history table; encode reports skipped files', async () => {
    const info = await cli(['info', runDir]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /State\s+complete, 1\/1 epochs/);
    assert.match(info.stdout, /Labels\s+circle, square, triangle/);
    assert.match(info.stdout, /^1\s+\d+\s+[\d.]+/m);
    await fs.writeFile(join(images, 'circle', 'zz-broken.png'), 'not an image');
    const enc = await cli(['encode', runDir, images]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stderr, /skipped .*zz-broken\.png: /);
    assert.match(enc.stdout, /Encoded 90 images/);
    await fs.rm(join(images, 'circle', 'zz-broken.png'));
  });

  test('Ctrl-C cancels cleanly: exit 130 and the run keeps its last good checkpoint', async () => {
    const child = spawn(process.execPath, [CLI, 'train', images, '--epochs', '500', '--batch', '30', '--out', join(root, 'runs'), '--name', 'interrupted'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!interrupted && /^epoch 1:/m.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stdout);
    assert.match(stdout, /Training cancelled after \d+ epoch\(s\); the run keeps its last good checkpoint/);
    const manifest = JSON.parse(await fs.readFile(join(root, 'runs', 'interrupted', 'run.json'), 'utf8'));
    assert.equal(manifest.state, 'cancelled');
    assert.ok(manifest.epochsCompleted >= 1 && manifest.checkpoint);
    const info = await cli(['info', join(root, 'runs', 'interrupted')]);
    assert.equal(info.code, 0, info.stderr);
  });

  test('bad arguments exit 2 with the usage text', async () => {
    for (const args of [['train'], ['train', images, '--epochs', 'zero'], ['frobnicate'], ['sample', runDir, '--out', 'x'], ['train', images, '--arch', 'rnn']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, /Usage:/);
    }
    const notRun = await cli(['info', root]);
    assert.equal(notRun.code, 2);
    assert.match(notRun.stderr, /not a Latent Atlas run folder/);
  });

  test('a folder without usable images exits 3 naming the folder', async () => {
    const empty = join(root, 'empty');
    await fs.mkdir(empty);
    await fs.writeFile(join(empty, 'notes.txt'), 'hello');
    const r = await cli(['train', empty, '--out', join(root, 'runs')]);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(empty), r.stderr);
  });

  test('default run names never clobber an existing run', async () => {
    const out = join(root, 'names');
    const first = await freeRunDir(out, 'my data');
    await fs.mkdir(first, { recursive: true });
    const second = await freeRunDir(out, 'my data');
    assert.notEqual(first, second);
    assert.equal(second, `${first}-2`);
  });
});
