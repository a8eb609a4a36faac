// Files worth keeping (issue 9) and the label warning (issue 10), engine side: a saved
// interpolation is one numbered set with lerp and slerp named apart and a sheet with a row per
// method, grey stays grey; the Projector's sprite is a square grid within 8192 px whose cells follow
// the points; scanLabels sees a folder whose only sub-folder is train/, and the CLI says so.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { EngineClient } from '../../src/client/engineClient';
import type { ImageBatch } from '../../src/protocol/engine';
import { labelWarning } from '../../src/protocol/labels';
import { composeSheet, writeImageSet } from '../../src/engine/data/imageSet';
import { shrinkImage, spriteLayout } from '../../src/engine/data/sprite';
import { client, demoFolder, REPO, SMALL_TRAINING, tempDir, trainBody, TSX_IMPORT } from './worker-fixtures';

let root: string;

before(async () => {
  root = await tempDir('outputs');
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** `count` grey w×h images, image i filled with the value i + 1. */
function greyBatch(count: number, w: number, h: number): ImageBatch {
  const pixels = new Uint8Array(count * w * h);
  for (let i = 0; i < count; i++) pixels.fill(i + 1, i * w * h, (i + 1) * w * h);
  return { count, width: w, height: h, channels: 1, pixels };
}

describe('saved image sets', () => {
  test('a sheet lays the images out in equal rows, row-major, with a gap between them', () => {
    const sheet = composeSheet(greyBatch(6, 3, 2), 2);
    assert.deepEqual([sheet.count, sheet.width, sheet.height, sheet.channels], [1, 3 * 3 + 2 * 2, 2 * 2 + 2, 1]);
    const at = (x: number, y: number) => sheet.pixels[y * sheet.width + x];
    assert.equal(at(0, 0), 1, 'first image top left');
    assert.equal(at(5, 0), 2, 'second image right of it');
    assert.equal(at(10, 1), 3, 'third image ends the first row');
    assert.equal(at(0, 4), 4, 'fourth image starts the second row');
    assert.equal(at(3, 0), 255, 'a gap between images');
    assert.throws(() => composeSheet(greyBatch(5, 3, 2), 2), /equal rows/);
  });

  test('an interpolation is one numbered set: lerp and slerp named apart, a grey sheet, never overwriting', async () => {
    const dir = join(root, 'interpolations');
    const batch = greyBatch(16, 28, 28);
    const first = await writeImageSet(batch, dir, 'interpolation', { rows: ['lerp', 'slerp'], sheet: true });
    assert.equal(first.sheet, join(dir, 'interpolation-001.png'));
    assert.deepEqual(first.files.slice(0, 2), [join(dir, 'interpolation-001-lerp-01.png'), join(dir, 'interpolation-001-lerp-02.png')]);
    assert.equal(first.files[8], join(dir, 'interpolation-001-slerp-01.png'));
    assert.equal(first.files.length, 16);
    const sheet = await sharp(first.sheet!).metadata();
    assert.deepEqual([sheet.width, sheet.height, sheet.channels], [8 * 28 + 7 * 2, 2 * 28 + 2, 1], 'grey data gives a grey sheet');
    assert.equal((await sharp(first.files[0]!).metadata()).channels, 1, 'and grey files');
    // The slerp row's first image is the batch's ninth (value 9).
    const { data } = await sharp(first.files[8]!).raw().toBuffer({ resolveWithObject: true });
    assert.equal(data[0], 9);
    const second = await writeImageSet(batch, dir, 'interpolation', { rows: ['lerp', 'slerp'], sheet: true });
    assert.equal(second.sheet, join(dir, 'interpolation-002.png'), 'the next save is the next set');
    // A set number any file already uses is taken.
    await fs.writeFile(join(dir, 'interpolation-003-notes.txt'), 'mine');
    const third = await writeImageSet(greyBatch(2, 4, 4), dir, 'interpolation', {});
    assert.deepEqual(third.files, [join(dir, 'interpolation-004-01.png'), join(dir, 'interpolation-004-02.png')]);
    assert.equal(await fs.readFile(join(dir, 'interpolation-003-notes.txt'), 'utf8'), 'mine');
  });
});

describe("the Projector's sprite", () => {
  test('a square grid of thumbnails within 8192 px: full size while they fit, shrunk when not', () => {
    assert.deepEqual(spriteLayout(300, 28, 28), { columns: 18, width: 28, height: 28 });
    assert.deepEqual(spriteLayout(1, 64, 32), { columns: 1, width: 64, height: 32 });
    const many = spriteLayout(100_000, 28, 28);
    assert.equal(many.columns, 317);
    assert.ok(many.columns * many.width <= 8192 && many.width >= 25, `${many.width} px thumbnails`);
    const wide = spriteLayout(70_000, 64, 32);
    assert.ok(wide.columns * wide.width <= 8192 && wide.columns * wide.height <= 8192);
    assert.equal(wide.width, 2 * wide.height, 'the aspect ratio is kept');
  });

  test('shrinking averages each source box', () => {
    const px = Uint8Array.from([0, 100, 50, 50, 200, 200, 10, 30]);
    assert.deepEqual([...shrinkImage(px, 4, 2, 1, 2, 1)], [(0 + 100 + 200 + 200) / 4, (50 + 50 + 10 + 30) / 4]);
    assert.equal(shrinkImage(px, 4, 2, 1, 4, 2), px, 'the same size is kept as is');
  });
});

describe('through the worker', () => {
  let engine: EngineClient;
  let images: string;
  let runDir: string;
  before(async () => {
    engine = client();
    images = await demoFolder(join(root, 'images'), 60);
    runDir = join(root, 'runs', 'tiny');
    await engine.request<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 1 } }));
  });
  after(async () => {
    await engine.dispose();
  });

  test('writeDecoded with rows and a sheet writes the named set and its sheet; without them, flat files as before', async () => {
    const dir = join(root, 'saved');
    const latents = new Float32Array(2 * 4 * 2).map((_, i) => (i % 5) / 5 - 0.4);
    const set = await engine.request<'writeDecoded'>({
      type: 'writeDecoded',
      runDir,
      latents,
      dir,
      stem: 'interpolation',
      rows: ['lerp', 'slerp'],
      sheet: true,
    });
    assert.equal(set.sheet, join(dir, 'interpolation-001.png'));
    assert.deepEqual(
      set.files.map((f) => f.slice(dir.length + 1)),
      ['lerp', 'slerp'].flatMap((r) => [1, 2, 3, 4].map((i) => `interpolation-001-${r}-0${i}.png`)),
    );
    const meta = await sharp(set.sheet!).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [4 * 28 + 3 * 2, 2 * 28 + 2, 1]);
    const flat = await engine.request<'writeDecoded'>({
      type: 'writeDecoded',
      runDir,
      latents: latents.subarray(0, 4),
      dir,
      stem: 'sample',
    });
    assert.deepEqual(flat, { files: [join(dir, 'sample-001.png'), join(dir, 'sample-002.png')] });
    await assert.rejects(
      engine.request<'writeDecoded'>({
        type: 'writeDecoded',
        runDir,
        latents: latents.subarray(0, 6),
        dir,
        stem: 'x',
        rows: ['lerp', 'slerp'],
      }),
      /3 images do not make 2 equal rows/,
    );
    await assert.rejects(
      engine.request<'writeDecoded'>({ type: 'writeDecoded', runDir, latents, dir, stem: 'x', rows: ['../up', 'b'] }),
      /cannot name a row/,
    );
  });

  test('writeSprite puts thumbnails in point order; an unreadable file leaves its cell empty', async () => {
    const files = (await fs.readdir(join(images, 'circle'))).sort().map((f) => join(images, 'circle', f));
    const broken = join(root, 'broken.png');
    await fs.writeFile(broken, 'not a png');
    const order = [files[0]!, broken, files[1]!, files[2]!, files[3]!];
    const path = join(root, 'projector', 'sprite.png');
    const sprite = await engine.request<'writeSprite'>({ type: 'writeSprite', runDir, files: order, path });
    assert.deepEqual([sprite.columns, sprite.width, sprite.height], [3, 28, 28]);
    assert.deepEqual(
      sprite.skipped.map((s) => s.file),
      [broken],
    );
    const meta = await sharp(path).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [84, 84, 1], 'a grey run gives a grey sprite');
    const data = await sharp(path).extractChannel(0).raw().toBuffer();
    const cell = (i: number) => {
      let sum = 0;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) sum += data[(Math.floor(i / 3) * 28 + y) * 84 + (i % 3) * 28 + x]!;
      return sum;
    };
    const own = await sharp(files[1]!).extractChannel(0).raw().toBuffer();
    assert.equal(cell(1), 0, "the broken file's cell is empty");
    assert.equal(
      cell(2),
      own.reduce((a, b) => a + b, 0),
      'the third cell holds the third file',
    );
    assert.equal(cell(8), 0, 'cells past the last point are empty');
  });

  test('scanLabels counts the images per first-level sub-folder; one sub-folder "train" is warned of', async () => {
    const nested = join(root, 'nested');
    await demoFolder(join(nested, 'train'), 12);
    const scan = await engine.request<'scanLabels'>({ type: 'scanLabels', folder: nested });
    assert.deepEqual(scan, { folder: nested, images: 12, unlabelled: 0, labels: [{ name: 'train', images: 12 }] });
    const warning = labelWarning(scan);
    assert.equal(warning?.below, 'train');
    assert.match(warning!.message, /All 12 images .* are in one sub-folder, "train"/);
    const below = await engine.request<'scanLabels'>({ type: 'scanLabels', folder: join(nested, 'train') });
    assert.deepEqual(
      below.labels.map((l) => l.name),
      ['circle', 'square', 'triangle'],
    );
    assert.equal(labelWarning(below), null);
  });
});

test('`latent-atlas train` on a folder whose only sub-folder is train/ warns on stderr and offers the folder below', async () => {
  const nested = join(root, 'cli-nested');
  await demoFolder(join(nested, 'train'), 12);
  const args = [
    '--import',
    TSX_IMPORT,
    join(REPO, 'src', 'cli.ts'),
    'train',
    nested,
    '--epochs',
    '1',
    '--batch',
    '8',
    '--out',
    join(root, 'cli-runs'),
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.match(stderr, /latent-atlas: warning: All 12 images of .* are in one sub-folder, "train"/);
  assert.match(stderr, new RegExp(`latent-atlas train ${join(nested, 'train').replace(/[/\\]/g, '.')}`));
  assert.doesNotMatch(stdout, /warning/, 'the warning is on stderr only');
});
