// What a person sees when a folder holds odd files: every unusable file is named with a specific
// reason, the rest loads, and every supported format and pixel layout arrives as the run's uint8.
import assert from 'node:assert/strict';
import { promises as fs, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { FileProblem } from '../../src/protocol/engine';
import { loadFolder } from '../../src/engine/data';
import type { EngineError } from '../../src/protocol/errors';
import { encodeAs, greyPng, makePng, noisyRgbPng, tempDir } from '../fixtures/images';

const GREY28 = { width: 28, height: 28, channels: 1 as const, fit: 'cover' as const };
let tmp: ReturnType<typeof tempDir>;
let n = 0;

async function folder(files: Record<string, Buffer | string>): Promise<string> {
  const dir = join(tmp.dir, `case-${++n}`);
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(join(dir, name, '..'), { recursive: true });
    await fs.writeFile(join(dir, name), content);
  }
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

function reasonFor(skipped: FileProblem[], name: string): string {
  const p = skipped.find((s) => s.file.endsWith(`/${name}`));
  assert.ok(p, `expected ${name} among the skipped files: ${JSON.stringify(skipped)}`);
  return p.reason;
}

before(() => {
  tmp = tempDir();
});
after(() => tmp.remove());

describe('unusable files', () => {
  test('each is skipped with its own reason and the good image still loads', async () => {
    const noisy = noisyRgbPng(64, 64);
    const dir = await folder({
      'good.png': greyPng(28, 28),
      'empty.png': Buffer.alloc(0),
      'truncated.png': noisy.subarray(0, noisy.length >> 1),
      'notes.png': 'these are my notes, not a picture\n',
      'bomb.png': makePng(4, 4, 0, new Uint8Array(16), 8, { width: 100000, height: 100000 }),
    });
    const seen: FileProblem[] = [];
    const loaded = await loadFolder(dir, { pre: GREY28, cacheDir: false, onProblem: (p) => seen.push(p) });

    assert.equal(loaded.count, 1);
    assert.deepEqual(loaded.files, [join(dir, 'good.png')]);
    assert.equal(loaded.images.length, 28 * 28);
    assert.equal(loaded.skipped.length, 4);
    assert.deepEqual(seen.map((p) => p.file).sort(), loaded.skipped.map((p) => p.file).sort());
    for (const p of loaded.skipped) assert.ok(p.file.startsWith(dir), `absolute path expected, got ${p.file}`);
    assert.match(reasonFor(loaded.skipped, 'empty.png'), /^empty file/);
    assert.match(reasonFor(loaded.skipped, 'truncated.png'), /truncated or corrupt PNG/);
    assert.match(reasonFor(loaded.skipped, 'notes.png'), /not an image.*looks like text/);
    assert.match(reasonFor(loaded.skipped, 'bomb.png'), /too large: declares 100000×100000 pixels.*40-megapixel limit/);
  });

  test('a file above the size limit is refused without being read', async () => {
    const dir = await folder({ 'good.png': greyPng(28, 28), 'huge.png': greyPng(28, 28) });
    truncateSync(join(dir, 'huge.png'), 150 * 1024 * 1024); // sparse: no disk used
    const loaded = await loadFolder(dir, { pre: GREY28, cacheDir: false });
    assert.equal(loaded.count, 1);
    assert.match(reasonFor(loaded.skipped, 'huge.png'), /too large: 150 MB, above the 100 MB file-size limit/);
  });

  test('a file with an image extension but another format inside (SVG) is not handed to a decoder', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>';
    const dir = await folder({ 'good.png': greyPng(28, 28), 'vector.png': svg });
    const loaded = await loadFolder(dir, { pre: GREY28, cacheDir: false });
    assert.match(reasonFor(loaded.skipped, 'vector.png'), /not an image: the content is not PNG, JPEG, WebP or GIF/);
  });
});

describe('no usable image', () => {
  test('an empty folder names the folder', async () => {
    const dir = await folder({});
    await assert.rejects(loadFolder(dir, { cacheDir: false }), (err: EngineError) => {
      assert.equal(err.code, 'no-images');
      assert.match(err.message, new RegExp(`No usable images in ${dir}: the folder holds no files`));
      return true;
    });
  });

  test('a folder of other files says which kinds it found', async () => {
    const dir = await folder({ 'a.txt': 'x', 'b.csv': '1,2', 'sub/c.txt': 'y' });
    await assert.rejects(loadFolder(dir, { cacheDir: false }), (err: EngineError) => {
      assert.equal(err.code, 'no-images');
      assert.equal(err.message, `No usable images in ${dir}: 3 files found, none PNG/JPEG/WebP/GIF (found .csv, .txt).`);
      return true;
    });
  });

  test('a folder whose images are all broken points to the warnings', async () => {
    const dir = await folder({ 'a.png': Buffer.alloc(0), 'b.jpg': 'text' });
    await assert.rejects(loadFolder(dir, { cacheDir: false }), (err: EngineError) => {
      assert.equal(err.code, 'no-images');
      assert.match(err.message, /2 images could not be read \(see warnings; e\.g\. a\.png: empty file/);
      return true;
    });
  });

  test('a missing folder says so', async () => {
    const dir = join(tmp.dir, 'does-not-exist');
    await assert.rejects(loadFolder(dir, { cacheDir: false }), (err: EngineError) => {
      assert.equal(err.code, 'no-images');
      assert.match(err.message, /cannot be opened \(it no longer exists\)/);
      return true;
    });
  });
});

describe('pixel layouts', () => {
  test('16-bit PNG is scaled to 8 bits', async () => {
    const samples = Array.from({ length: 256 }, (_, i) => i * 257); // 0…65535 across a 16×16 image
    const dir = await folder({ 'deep.png': makePng(16, 16, 0, samples, 16) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual(loaded.pre, { width: 16, height: 16, channels: 1, fit: 'cover' });
    for (let i = 0; i < 256; i++) assert.ok(Math.abs(loaded.images[i] - i) <= 1, `pixel ${i}: ${loaded.images[i]}`);
  });

  test('RGBA: transparent pixels become black, opaque ones keep their colour', async () => {
    // Left half transparent red, right half opaque red.
    const samples: number[] = [];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) samples.push(255, 0, 0, x < 4 ? 0 : 255);
    const dir = await folder({ 'sprite.png': makePng(8, 8, 6, samples) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.pre.channels, 3);
    const px = (x: number, y: number) => Array.from(loaded.images.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    assert.deepEqual(px(0, 0), [0, 0, 0]);
    assert.deepEqual(px(7, 7), [255, 0, 0]);
  });

  test('grey with alpha loads as one grey channel', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 16; i++) samples.push(200, i < 8 ? 0 : 255);
    const dir = await folder({ 'ga.png': makePng(4, 4, 4, samples) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.pre.channels, 1);
    assert.deepEqual(Array.from(loaded.images), [...Array(8).fill(0), ...Array(8).fill(200)]);
  });

  test('mixed sizes are all brought to the most common size', async () => {
    const dir = await folder({ 'a.png': greyPng(12, 12), 'b.png': greyPng(12, 12), 'c.png': greyPng(40, 20), 'd.png': greyPng(5, 9) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual(loaded.pre, { width: 12, height: 12, channels: 1, fit: 'cover' });
    assert.equal(loaded.count, 4);
    assert.equal(loaded.images.length, 4 * 144);
  });

  test('large images default to 64×64', async () => {
    const dir = await folder({ 'a.png': greyPng(100, 100), 'b.png': greyPng(100, 100) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual([loaded.pre.width, loaded.pre.height], [64, 64]);
  });

  test('a given size and channel count win over the data', async () => {
    const dir = await folder({ 'a.png': greyPng(12, 12) });
    const loaded = await loadFolder(dir, { cacheDir: false, pre: { width: 6, height: 4, channels: 3, fit: 'fill' } });
    assert.deepEqual(loaded.pre, { width: 6, height: 4, channels: 3, fit: 'fill' });
    assert.equal(loaded.images.length, 6 * 4 * 3);
  });

  test('RGB files with grey pixels count as grey; one coloured file makes the set colour', async () => {
    const grey = makePng(
      4,
      4,
      2,
      Array.from({ length: 48 }, (_, i) => Math.floor(i / 3) * 16),
    );
    const greyDir = await folder({ 'g1.png': grey, 'g2.png': grey });
    assert.equal((await loadFolder(greyDir, { cacheDir: false })).pre.channels, 1);
    const mixedDir = await folder({ 'g1.png': grey, 'red.png': await encodeAs('png', 4, 4, [255, 0, 0]) });
    assert.equal((await loadFolder(mixedDir, { cacheDir: false })).pre.channels, 3);
  });

  test('unicode file names load and keep their names', async () => {
    const name = 'façade 画像.png';
    const dir = await folder({ [name]: greyPng(28, 28), 'ünïcödé/ß.png': greyPng(28, 28) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.count, 2);
    assert.ok(loaded.files.includes(join(dir, name)));
    assert.deepEqual(loaded.labelNames, ['ünïcödé']);
  });
});

describe('formats', () => {
  for (const [format, ext] of [
    ['jpeg', 'jpg'],
    ['webp', 'webp'],
    ['gif', 'gif'],
  ] as const) {
    test(`${format.toUpperCase()} decodes with its colour`, async () => {
      const dir = await folder({ [`blue.${ext}`]: await encodeAs(format, 10, 10, [20, 40, 220]) });
      const loaded = await loadFolder(dir, { cacheDir: false });
      assert.equal(loaded.count, 1);
      assert.deepEqual(loaded.pre, { width: 10, height: 10, channels: 3, fit: 'cover' });
      const [r, g, b] = loaded.images;
      assert.ok(Math.abs(r - 20) < 12 && Math.abs(g - 40) < 12 && Math.abs(b - 220) < 12, `got ${r},${g},${b}`);
    });
  }

  test('a truncated file of any format is reported, never half-read', async () => {
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const files: Record<string, Buffer> = { 'good.png': greyPng(8, 8) };
    for (const format of ['jpeg', 'webp', 'gif', 'png'] as const) {
      const image = sharp(noise, { raw: { width: 64, height: 64, channels: 3 } });
      const whole = await image[format]().toBuffer();
      files[`cut.${format}`] = whole.subarray(0, Math.floor(whole.length * 0.9));
    }
    const loaded = await loadFolder(await folder(files), { cacheDir: false });
    assert.equal(loaded.count, 1);
    for (const format of ['jpeg', 'webp', 'gif', 'png']) {
      assert.match(reasonFor(loaded.skipped, `cut.${format}`), new RegExp(`^truncated or corrupt ${format.toUpperCase()} file \\(.+\\)$`));
    }
  });

  test('extensions are matched case-insensitively and a JPEG named .PNG still decodes', async () => {
    const dir = await folder({ 'A.PNG': await encodeAs('jpeg', 8, 8, [90, 90, 90]), 'B.JpEg': await encodeAs('jpeg', 8, 8, [90, 90, 90]) });
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.count, 2);
    assert.equal(loaded.pre.channels, 1);
  });

  test('only the first frame of an animated GIF is used', async () => {
    const frames = Buffer.concat([Buffer.alloc(16, 255), Buffer.alloc(16, 0)]);
    const gif = await sharp(frames, { raw: { width: 4, height: 8, channels: 1, pageHeight: 4 } })
      .gif()
      .toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const dir = await folder({ 'anim.gif': gif });
    const loaded = await loadFolder(dir, { cacheDir: false, pre: { width: 4, height: 4, channels: 1, fit: 'fill' } });
    assert.equal(loaded.count, 1);
    assert.ok(
      loaded.images.every((v) => v > 200),
      `first frame is white: ${Array.from(loaded.images)}`,
    );
  });
});
