// The headless CLI as a person runs it (the bundled dist-like cli.js, piped output): exit codes,
// usage text, the run path, PNG samples, the info report; and its faults: a full disk, an --out
// that is a file, numbers out of bounds, Ctrl-C in the last epoch, IWAE kept on resume.

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

function cli(args: string[], cwd = root, env = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    external: ['vscode', 'sharp', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  };
  await esbuild.build({ ...node, entryPoints: { worker: join(REPO, 'src/engine/worker.ts') }, outdir: BUNDLE_DIR });
  await esbuild.build({
    ...node,
    entryPoints: { cli: join(REPO, 'src/cli.ts') },
    outdir: BUNDLE_DIR,
    banner: { js: '#!/usr/bin/env node' },
  });
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

  test("sample -n 5 --out d writes 5 PNG files of the run's size", async () => {
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

  test('sample and demo-data write their PNG files in the worker: the CLI process loads neither sharp nor TensorFlow.js', async () => {
    // Preloaded in every process of the command (NODE_OPTIONS reaches the forked worker too), but
    // armed only in the CLI's own: a require of sharp or tfjs there fails the command.
    const stub = join(root, 'no-engine-in-cli.cjs');
    await fs.writeFile(
      stub,
      `if (/cli\\.js$/.test(process.argv[1] || '')) {
  const Module = require('module');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (/^(sharp|@tensorflow\\/)/.test(request)) throw new Error('the CLI process loaded ' + request);
    return load.call(this, request, ...rest);
  };
}
`,
    );
    const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${stub}` };
    const out = join(root, 'samples-in-worker');
    const r = await cli(['sample', runDir, '-n', '3', '--out', out, '--seed', '5'], root, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Wrote 3 images to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.deepEqual((await fs.readdir(out)).sort(), ['sample-001.png', 'sample-002.png', 'sample-003.png']);
    assert.equal((await sharp(join(out, 'sample-001.png')).metadata()).format, 'png');
    const demo = join(root, 'demo-in-worker');
    const d = await cli(['demo-data', demo], root, env);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^Wrote 10000 demo images to /m);
    assert.deepEqual((await fs.readdir(demo)).sort(), ['circle', 'square', 'triangle']);
    // The stub is armed: the same require in a process named cli.js does fail.
    const armed = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--require', stub, '-e', 'require("sharp")', 'cli.js'], { stdio: 'ignore' });
      child.on('close', resolve);
    });
    assert.notEqual(armed, 0);
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
    // The images the model gets most wrong, with their figures.
    assert.match(
      enc.stdout,
      /Worst reconstructed \(of 90\):\n( {2}(circle|square|triangle)\/\S+\.png {2}reconstruction [\d.]+ {2}KL [\d.]+ {2}−ELBO [\d.]+ nats\n?){5}/,
    );
    await fs.rm(join(images, 'circle', 'zz-broken.png'));
  });

  test('neighbours lists the encoded images nearest to one, without itself; export writes every point as CSV', async () => {
    const query = join(images, 'square', (await fs.readdir(join(images, 'square'))).sort()[0]!);
    const near = await cli(['neighbours', runDir, query, '-k', '5']);
    assert.equal(near.code, 0, near.stderr);
    const rows = near.stdout.trim().split('\n');
    assert.match(rows[0]!, new RegExp(`^5 nearest to .*square.* \\(euclidean\\):$`));
    assert.equal(rows.length, 6);
    const distances = rows.slice(1).map((r) => Number(/^\s+\d+\s+([\d.]+)\s+(circle|square|triangle)\s+\S/.exec(r)![1]));
    assert.deepEqual(
      [...distances].sort((a, b) => a - b),
      distances,
    );
    assert.ok(!near.stdout.includes(`  ${query}\n`), 'the query is not its own neighbour');
    const wide = await cli(['neighbours', runDir, query, '-k', '3', '--metric', 'bhattacharyya']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, /^3 nearest to .* \(bhattacharyya\):/);

    const csv = join(root, 'tables', 'shapes.csv');
    const exported = await cli(['export', runDir, images, '--csv', csv]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /Wrote 90 rows to .*\nmap_x, map_y: the two latent coordinates \(the latent is 2-D\)/);
    const lines = (await fs.readFile(csv, 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], 'file,folder,label,map_x,map_y,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma');
    assert.equal(lines.length, 91);
    const cells = lines[1]!.split(',');
    assert.equal(cells.length, 13);
    assert.ok(['circle', 'square', 'triangle'].includes(cells[2]!));
    assert.deepEqual(cells.slice(3, 5), cells.slice(5, 7), 'a 2-D latent is its own map');
    assert.ok(Math.abs(Number(cells[11]) + Number(cells[9]) + Number(cells[10])) < 1e-3, 'elbo = −reconstruction − kl');
    const bare = await cli(['export', runDir, images, '--csv', csv, '--map', 'none']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(
      (await fs.readFile(csv, 'utf8')).split('\n')[0],
      'file,folder,label,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma',
    );
    const missing = await cli(['export', runDir, join(root, 'never-encoded'), '--csv', csv]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no encoding of .*never-encoded: encode the folder with this model first/);
  });

  test('export-onnx writes the run as ONNX; describe writes a manifest for model files; info and encode take the model folder', async () => {
    const onnx = join(root, 'exported');
    const exported = await cli(['export-onnx', runDir, '--out', onnx]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /Wrote encoder\.onnx, decoder\.onnx, latent-atlas-model\.json to /);
    // As a person with only the two ONNX files would have them.
    await fs.rm(join(onnx, 'latent-atlas-model.json'));
    const asked = await cli(['describe', onnx]);
    assert.equal(asked.code, 2);
    assert.match(asked.stdout, /Encoder encoder\.onnx: takes x \[N, 784\], returns mu \[N, 2\], logvar \[N, 2\]/);
    assert.match(asked.stdout, /Decoder decoder\.onnx: takes z \[N, 2\], returns logits \[N, 784\]/);
    assert.match(asked.stderr, /How were pixels scaled .* → --range 0,1 \| --range -1,1 \| --mean M --std S/);
    assert.match(asked.stderr, /What does the decoder return\? .* → --decoder-output logits\|probabilities\|means/);
    const described = await cli(['describe', onnx, '--range', '0,1', '--decoder-output', 'logits', '--classes', 'circle,square,triangle']);
    assert.equal(described.code, 0, described.stderr);
    const manifest = JSON.parse(await fs.readFile(join(onnx, 'latent-atlas-model.json'), 'utf8'));
    assert.deepEqual(manifest.input, { name: 'x', width: 28, height: 28, channels: 1, layout: 'NCHW', flatten: true });
    assert.deepEqual(manifest.classes, ['circle', 'square', 'triangle']);
    const again = await cli(['describe', onnx, '--range', '0,1', '--decoder-output', 'logits']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /latent-atlas-model\.json exists already; edit it, or delete it/);
    const info = await cli(['info', onnx]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Model\s+exported \(trained elsewhere, ONNX\)/);
    assert.match(info.stdout, /Input\s+28×28×1, NCHW flattened, x = p/);
    const enc = await cli(['encode', onnx, images]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout, new RegExp(`Encoded 90 images .* into ${onnx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const resumed = await cli(['resume', onnx, '--epochs', '3']);
    assert.equal(resumed.code, 2);
    assert.match(resumed.stderr, /was trained elsewhere \(an imported model\), so Latent Atlas cannot train it further/);
  });

  test('Ctrl-C cancels cleanly: exit 130 and the run keeps its last good checkpoint', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'train', images, '--epochs', '500', '--batch', '30', '--out', join(root, 'runs'), '--name', 'interrupted'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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
    assert.match(stdout, /Training cancelled after \d+ of 500 epochs; the run keeps its last good checkpoint \(epoch \d+\)/);
    assert.match(stdout, /Continue it with: latent-atlas resume .*interrupted$/m);
    const manifest = JSON.parse(await fs.readFile(join(root, 'runs', 'interrupted', 'run.json'), 'utf8'));
    assert.equal(manifest.state, 'cancelled');
    assert.ok(manifest.epochsCompleted >= 1 && manifest.checkpoint);
    const info = await cli(['info', join(root, 'runs', 'interrupted')]);
    assert.equal(info.code, 0, info.stderr);
    // A run that says 'training' while nobody holds its lock was interrupted: info says how to go on.
    await fs.writeFile(join(root, 'runs', 'interrupted', 'run.json'), JSON.stringify({ ...manifest, state: 'training' }, null, 2));
    const crashed = await cli(['info', join(root, 'runs', 'interrupted')]);
    assert.equal(crashed.code, 0, crashed.stderr);
    assert.match(
      crashed.stdout,
      /^State\s+training \(interrupted: nothing trains it now; continue with "latent-atlas resume .*interrupted"\)/m,
    );
    await fs.writeFile(join(root, 'runs', 'interrupted', 'run.json'), JSON.stringify(manifest, null, 2));
  });

  test('bad arguments exit 2 with the usage text', async () => {
    for (const args of [
      ['train'],
      ['train', images, '--epochs', 'zero'],
      ['frobnicate'],
      ['sample', runDir, '--out', 'x'],
      ['train', images, '--arch', 'rnn'],
    ]) {
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

/** history.jsonl of a run, one summary per epoch. */
async function history(runDir: string): Promise<{ epoch: number; logPx?: { k: number } }[]> {
  const text = await fs.readFile(join(runDir, 'history.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('latent-atlas CLI faults', () => {
  test('a full disk exits 4 naming the file and saying to free space and resume; resume then works', async () => {
    // A disk that fills up at the first epoch end: every append to history.jsonl fails with ENOSPC
    // (as Node reports it for a write: no path), in the CLI and in the worker it forks.
    const stub = join(root, 'disk-full.cjs');
    await fs.writeFile(
      stub,
      `const fsp = require('fs').promises;
const open = fsp.open;
fsp.open = async function (path, ...rest) {
  const handle = await open.call(this, path, ...rest);
  if (String(path).endsWith('history.jsonl')) {
    handle.appendFile = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    };
  }
  return handle;
};
`,
    );
    const runDir = join(root, 'runs', 'disk-full');
    const full = await cli(['train', images, '--epochs', '1', '--batch', '30', '--out', join(root, 'runs'), '--name', 'disk-full'], root, {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${stub}`,
    });
    assert.equal(full.code, 4, full.stderr);
    assert.ok(full.stderr.includes(`Disk full while writing ${join(runDir, 'history.jsonl')}: free space`), full.stderr);
    assert.match(full.stderr, /Continue with: latent-atlas resume .*disk-full$/m);
    assert.doesNotMatch(full.stderr, /Usage:|\n\s+at /, 'no usage text, no stack trace');
    const resumed = await cli(['resume', runDir, '--epochs', '1']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(
      (await history(runDir)).map((s) => s.epoch),
      [1],
    );
  });

  test('--out naming a file is refused before any work, in plain words', async () => {
    const file = join(root, 'not-a-folder.txt');
    await fs.writeFile(file, 'hello');
    const r = await cli(['train', images, '--epochs', '1', '--out', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out .*not-a-folder\.txt is a file, not a folder/);
    assert.doesNotMatch(r.stdout, /Loading|Training on/, 'nothing was loaded');
    const below = await cli(['sample', join(root, 'runs', 'disk-full'), '-n', '1', '--out', join(file, 'samples')]);
    assert.equal(below.code, 2, below.stderr);
    assert.match(below.stderr, /not-a-folder\.txt is a file/);
  });

  test('numeric flags are checked against the bounds of the settings, naming the flag and the range', async () => {
    // A folder that does not exist: if a flag got through, the command would fail on it quickly.
    const missing = join(root, 'no-such-folder');
    const cases: [string[], RegExp][] = [
      [
        ['train', missing, '--epochs', '99999999999999999999'],
        /--epochs must be a whole number from 1 to 10000, got "99999999999999999999"/,
      ],
      [['train', missing, '--latent', '300'], /--latent must be a whole number from 1 to 256, got "300"/],
      [['train', missing, '--lr', 'Infinity'], /--lr must be a number from 0\.000001 to 1, got "Infinity"/],
      [['train', missing, '--sigma', '0'], /--sigma must be a number from 0\.001 to 10/],
      [['train', missing, '--iwae', '1e9'], /--iwae must be a whole number from 0 to 5000/],
      [['train', missing, '--size', '4096x4096'], /--size must look like 28x28, with sides from 1 to 1024/],
      [
        ['sample', join(root, 'runs', 'disk-full'), '-n', '1', '--out', join(root, 'x'), '--seed', '1e30'],
        /--seed must be a whole number from 0 to 2147483647/,
      ],
      [['resume', join(root, 'runs', 'disk-full'), '--epochs', '1e20'], /--epochs must be a whole number from 1 to 10000/],
      [['resume', join(root, 'runs', 'disk-full'), '--iwae', '2.5'], /--iwae must be a whole number from 0 to 5000, got "2.5"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  test("Ctrl-C after the last epoch's steps exits 130: the run says cancelled and keeps that epoch", async () => {
    // One step per epoch (81 training images, batch 128) and a long IWAE estimate at its end: the
    // engine's "Training on <backend>" comes right before that step, so the cancel lands after it,
    // while the epoch is evaluated and saved.
    const child = spawn(
      process.execPath,
      [CLI, 'train', images, '--epochs', '1', '--batch', '128', '--iwae', '2000', '--out', join(root, 'runs'), '--name', 'last-epoch'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!interrupted && /^Training on [\w-]+( \(.*\))?$/m.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(interrupted, stdout);
    assert.equal(code, 130, `${stdout}\n${stderr}`);
    assert.doesNotMatch(stdout, /Run saved/);
    assert.match(stdout, /Training stopped after its last epoch had finished: all 1 epochs are saved in .*last-epoch$/m);
    assert.match(stdout, /Train it further with: latent-atlas resume .*last-epoch --epochs 11$/m);
    const manifest = JSON.parse(await fs.readFile(join(root, 'runs', 'last-epoch', 'run.json'), 'utf8'));
    assert.equal(manifest.state, 'cancelled', 'the engine reports the stop, not a completed run');
    assert.equal(manifest.epochsCompleted, 1);
    assert.ok(manifest.checkpoint);
  });

  test("resume keeps the run's IWAE setting; --iwae K changes it; runs without the setting resume without it", async () => {
    const trained = await cli([
      'train',
      images,
      '--epochs',
      '1',
      '--batch',
      '30',
      '--iwae',
      '3',
      '--out',
      join(root, 'runs'),
      '--name',
      'iwae',
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const runDir = join(root, 'runs', 'iwae');
    const runJson = join(runDir, 'run.json');
    assert.equal(JSON.parse(await fs.readFile(runJson, 'utf8')).training.iwaeSamples, 3);

    const kept = await cli(['resume', runDir, '--epochs', '2']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^epoch 2: .*log p\(x\) ≥ -?[\d.]+ \(k=3\)/m);

    const changed = await cli(['resume', runDir, '--epochs', '3', '--iwae', '4']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(JSON.parse(await fs.readFile(runJson, 'utf8')).training.iwaeSamples, 4);
    assert.deepEqual(
      (await history(runDir)).map((s) => s.logPx?.k),
      [3, 3, 4],
    );

    // A run written before the setting was stored: read as 0 (no estimate).
    const manifest = JSON.parse(await fs.readFile(runJson, 'utf8'));
    delete manifest.training.iwaeSamples;
    await fs.writeFile(runJson, JSON.stringify(manifest, null, 2));
    const old = await cli(['resume', runDir, '--epochs', '4']);
    assert.equal(old.code, 0, old.stderr);
    assert.equal((await history(runDir)).at(-1)!.logPx, undefined);
  });
});
