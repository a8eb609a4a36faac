// The fast PNG path (pngjs) against sharp, the reference it replaces: for every PNG kind it takes,
// the same bytes as sharp's pipeline (no tolerance); every file it does not take goes to sharp,
// so damaged files keep today's specific reasons.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Preprocessing } from '../../src/protocol/model';
import { loadFolder } from '../../src/engine/data';
import { decodeBuffer } from '../../src/engine/data/decode';
import { decodeFileFast, decodeReadResult } from '../../src/engine/data/decodeFast';
import { decodePool, stopDecodeThreads } from '../../src/engine/data/decodePool';
import type { LoadedImages, LoadOptions } from '../../src/engine/data/types';
import { decodePngFast, readPngHeader } from '../../src/engine/data/pngFast';
import { chunk, makePng, tempDir } from '../fixtures/images';

const W = 23;
const H = 17; // odd sizes exercise Adam7's partial passes and sub-byte row padding

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}

/** A PNG with packed rows given (filter byte added here): low bit depths, palettes, tRNS, extra chunks. */
function rawPng(o: { width: number; height: number; bitDepth: number; colourType: number; rows: Buffer[]; before?: Buffer[] }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr[8] = o.bitDepth;
  ihdr[9] = o.colourType;
  const raw = Buffer.concat(o.rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    ...(o.before ?? []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Rows of `bits`-bit samples packed big-endian into bytes. */
function packRows(width: number, height: number, bits: number, sample: (x: number, y: number) => number): Buffer[] {
  return Array.from({ length: height }, (_, y) => {
    const row = Buffer.alloc(Math.ceil((width * bits) / 8));
    for (let x = 0; x < width; x++) {
      const bit = x * bits;
      row[bit >> 3] |= sample(x, y) << (8 - bits - (bit & 7));
    }
    return row;
  });
}

function samples(n: number, seed: number, max = 255): number[] {
  const r = random(seed);
  return Array.from({ length: n }, () => r() % (max + 1));
}

/** Alpha with the extremes present: fully transparent, fully opaque and everything between. */
function withAlpha(colour: number[], perPixel: number, seed: number, max = 255): number[] {
  const r = random(seed);
  const out: number[] = [];
  for (let p = 0; p < colour.length / perPixel; p++) {
    out.push(...colour.slice(p * perPixel, (p + 1) * perPixel), p % 7 === 0 ? 0 : p % 7 === 1 ? max : r() % (max + 1));
  }
  return out;
}

/** Grey values written as RGB(A), so a grey run can take the fast path. */
function greyAsRgb(n: number, seed: number): number[] {
  return samples(n, seed).flatMap((v) => [v, v, v]);
}

async function interlaced(png: Buffer, extra: { palette?: boolean } = {}): Promise<Buffer> {
  const meta = await sharp(png).metadata();
  const img = sharp(png);
  const out = meta.depth === 'ushort' ? img.toColourspace(meta.channels! <= 2 ? 'grey16' : 'rgb16') : img;
  return out.png({ progressive: true, palette: extra.palette ?? false }).toBuffer();
}

const palette = (n: number, seed: number) => Buffer.from(samples(n * 3, seed));
const trns = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37) % 256));

interface Kind {
  name: string;
  png: () => Promise<Buffer> | Buffer;
  channels: (1 | 3)[];
}

const KINDS: Kind[] = [
  { name: 'grey 8-bit', png: () => makePng(W, H, 0, samples(W * H, 1)), channels: [1, 3] },
  ...[1, 2, 4].map((bits) => ({
    name: `grey ${bits}-bit`,
    png: () =>
      rawPng({ width: W, height: H, bitDepth: bits, colourType: 0, rows: packRows(W, H, bits, (x, y) => (x + 3 * y) % (1 << bits)) }),
    channels: [1, 3] as (1 | 3)[],
  })),
  {
    name: 'grey 8-bit with tRNS',
    png: () =>
      rawPng({
        width: W,
        height: H,
        bitDepth: 8,
        colourType: 0,
        rows: packRows(W, H, 8, (x, y) => (x * 11 + y) % 256),
        before: [chunk('tRNS', Buffer.from([0, 33]))],
      }),
    channels: [1, 3],
  },
  { name: 'grey+alpha 8-bit', png: () => makePng(W, H, 4, withAlpha(samples(W * H, 2), 1, 3)), channels: [1, 3] },
  { name: 'grey 16-bit', png: () => makePng(W, H, 0, samples(W * H, 4, 65535), 16), channels: [3] },
  { name: 'grey+alpha 16-bit', png: () => makePng(W, H, 4, withAlpha(samples(W * H, 5, 65535), 1, 6, 65535), 16), channels: [3] },
  { name: 'RGB 8-bit', png: () => makePng(W, H, 2, samples(W * H * 3, 7)), channels: [3] },
  { name: 'RGB 8-bit, grey pixels', png: () => makePng(W, H, 2, greyAsRgb(W * H, 8)), channels: [1, 3] },
  { name: 'RGB 16-bit', png: () => makePng(W, H, 2, samples(W * H * 3, 9, 65535), 16), channels: [3] },
  { name: 'RGBA 8-bit', png: () => makePng(W, H, 6, withAlpha(samples(W * H * 3, 10), 3, 11)), channels: [3] },
  { name: 'RGBA 8-bit, grey pixels', png: () => makePng(W, H, 6, withAlpha(greyAsRgb(W * H, 12), 3, 13)), channels: [1, 3] },
  { name: 'RGBA 16-bit', png: () => makePng(W, H, 6, withAlpha(samples(W * H * 3, 14, 65535), 3, 15, 65535), 16), channels: [3] },
  {
    name: 'palette 8-bit with tRNS',
    png: () =>
      rawPng({
        width: W,
        height: H,
        bitDepth: 8,
        colourType: 3,
        rows: packRows(W, H, 8, (x, y) => (x * 5 + y * 3) % 200),
        before: [chunk('PLTE', palette(200, 16)), chunk('tRNS', trns(150))],
      }),
    channels: [3],
  },
  {
    name: 'palette 4-bit, grey entries',
    png: () =>
      rawPng({
        width: W,
        height: H,
        bitDepth: 4,
        colourType: 3,
        rows: packRows(W, H, 4, (x, y) => (x + y) % 16),
        before: [chunk('PLTE', Buffer.from(Array.from({ length: 16 }, (_, i) => [i * 17, i * 17, i * 17]).flat()))],
      }),
    channels: [1, 3],
  },
  {
    name: 'RGB with gAMA, pHYs and tEXt',
    png: () =>
      rawPng({
        width: W,
        height: H,
        bitDepth: 8,
        colourType: 2,
        rows: packRows(W * 3, H, 8, (x, y) => (x * 7 + y * 29) % 256),
        before: [
          chunk('gAMA', Buffer.from([0, 1, 0x86, 0xa0])),
          chunk('pHYs', Buffer.from([0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1])),
          chunk('tEXt', Buffer.from('Comment\0made by hand', 'latin1')),
        ],
      }),
    channels: [3],
  },
];

const pre = (width: number, height: number, channels: 1 | 3): Preprocessing => ({ width, height, channels, fit: 'cover' });

/** sharp's answer for these bytes, as the loader gave it before the fast path existed. */
async function viaSharp(png: Buffer, p: Preprocessing) {
  return decodeBuffer(png, png.length, 0, p, true);
}

describe('fast PNG path: the same pixels as sharp', () => {
  for (const kind of KINDS) {
    for (const adam7 of [false, true]) {
      for (const channels of kind.channels) {
        test(`${kind.name}${adam7 ? ', interlaced' : ''} → ${channels} channel${channels === 1 ? '' : 's'}`, async () => {
          const plain = await kind.png();
          const png = adam7 ? await interlaced(plain) : plain;
          const header = readPngHeader(png);
          assert.ok(!('sharp' in header), `header refused: ${JSON.stringify(header)}`);
          if (adam7) assert.equal(png[28], 1, 'the fixture is interlaced');
          const p = pre(W, H, channels);
          const fast = decodePngFast(png, p);
          assert.ok('pixels' in fast, `fast path not taken: ${JSON.stringify(fast)}`);
          const ref = await viaSharp(png, p);
          assert.ok(ref.ok, `sharp failed: ${JSON.stringify(ref)}`);
          assert.equal(fast.pixels.length, ref.pixels.length);
          const diff = fast.pixels.findIndex((v, i) => v !== ref.pixels[i]);
          assert.equal(diff, -1, `first difference at byte ${diff}: fast ${fast.pixels[diff]}, sharp ${ref.pixels[diff]}`);
        });
      }
    }
  }

  // The 8-bit, non-interlaced files are unfiltered here rather than by pngjs: every filter type,
  // in rows of each colour type, against sharp.
  for (const [colourType, perPixel, channels] of [
    [0, 1, 1],
    [2, 3, 3],
    [4, 2, 1],
    [6, 4, 3],
  ] as const) {
    test(`8-bit colour type ${colourType}, rows filtered with None, Sub, Up, Average and Paeth → ${channels} channel(s)`, async () => {
      const stride = W * perPixel;
      const values = colourType === 2 || colourType === 6 ? samples(W * H * perPixel, 40) : samples(W * H * perPixel, 41);
      const px = (y: number, i: number) => (y < 0 || i < 0 ? 0 : values[y * stride + i]);
      const rows = Array.from({ length: H }, (_, y) => {
        const filter = y % 5;
        const row = Buffer.alloc(stride + 1);
        row[0] = filter;
        for (let i = 0; i < stride; i++) {
          const a = px(y, i - perPixel);
          const b = px(y - 1, i);
          const c = px(y - 1, i - perPixel);
          const p = a + b - c;
          const paeth =
            Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
          const predicted = [0, a, b, (a + b) >> 1, paeth][filter];
          row[i + 1] = (px(y, i) - predicted) & 255;
        }
        return row;
      });
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(W, 0);
      ihdr.writeUInt32BE(H, 4);
      ihdr[8] = 8;
      ihdr[9] = colourType;
      const png = Buffer.concat([
        Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
        chunk('IHDR', ihdr),
        chunk('IDAT', deflateSync(Buffer.concat(rows))),
        chunk('IEND', Buffer.alloc(0)),
      ]);
      const p = pre(W, H, channels);
      const fast = decodePngFast(png, p);
      assert.ok('pixels' in fast, `fast path not taken: ${JSON.stringify(fast)}`);
      const ref = await viaSharp(png, p);
      assert.ok(ref.ok, `sharp failed: ${JSON.stringify(ref)}`);
      assert.deepEqual(fast.pixels, new Uint8Array(ref.pixels));
    });
  }

  test('a palette PNG written by sharp (quantised, interlaced, with transparency)', async () => {
    const rgba = Buffer.from(withAlpha(samples(W * H * 3, 20), 3, 21));
    const png = await sharp(rgba, { raw: { width: W, height: H, channels: 4 } })
      .png({ palette: true, progressive: true, colours: 64 })
      .toBuffer();
    assert.equal(png[25], 3, 'the fixture has a palette');
    const fast = decodePngFast(png, pre(W, H, 3));
    assert.ok('pixels' in fast);
    const ref = await viaSharp(png, pre(W, H, 3));
    assert.ok(ref.ok);
    assert.deepEqual(fast.pixels, new Uint8Array(ref.pixels));
  });
});

describe('fast PNG path: what it leaves to sharp', () => {
  const grey = makePng(W, H, 0, samples(W * H, 30));
  const cases: [string, () => Promise<Buffer> | Buffer, Preprocessing, RegExp][] = [
    ['a size other than the run’s (sharp resizes)', () => grey, pre(12, 12, 1), /resiz/],
    ['16-bit to grey', () => makePng(W, H, 0, samples(W * H, 31, 65535), 16), pre(W, H, 1), /16-bit/],
    ['colour to grey when a pixel is not grey', () => makePng(W, H, 2, samples(W * H * 3, 32)), pre(W, H, 1), /colour to grey/],
    [
      'an ICC profile',
      async () =>
        sharp(Buffer.from(samples(W * H * 3, 33)), { raw: { width: W, height: H, channels: 3 } })
          .withIccProfile('p3')
          .png()
          .toBuffer(),
      pre(W, H, 3),
      /iCCP/,
    ],
    ['bytes after IEND', () => Buffer.concat([grey, Buffer.from('trailing')]), pre(W, H, 1), /after IEND/],
  ];
  for (const [name, make, p, why] of cases) {
    test(`${name}: sharp decodes it, and the loader's answer is sharp's`, async () => {
      const png = await make();
      const fast = decodePngFast(png, p);
      assert.ok('sharp' in fast, `expected a hand-over, got ${JSON.stringify(Object.keys(fast))}`);
      assert.match(fast.sharp, why);
      const viaLoader = await decodeBuffer(png, png.length, 0, p);
      assert.deepEqual(viaLoader, await viaSharp(png, p));
      assert.ok(viaLoader.ok);
    });
  }
});

describe('damaged PNGs keep their specific reasons', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.remove());

  test('bad CRC, a cut in the middle and a bomb are each named; sharp’s second opinion still reads a PNG without IEND', async () => {
    const good = makePng(W, H, 0, samples(W * H, 40));
    const badCrc = Buffer.from(good);
    const idat = badCrc.indexOf('IDAT', 0, 'latin1');
    badCrc[idat + 4 + badCrc.readUInt32BE(idat - 4)] ^= 0xff; // first byte of IDAT's CRC
    const files: Record<string, Buffer> = {
      'good.png': good,
      'bad-crc.png': badCrc,
      'cut.png': good.subarray(0, idat + 20),
      'no-iend.png': good.subarray(0, good.length - 12),
      'bomb.png': makePng(4, 4, 0, new Uint8Array(16), 8, { width: 100000, height: 100000 }),
    };
    for (const [name, png] of Object.entries(files)) {
      if (name !== 'good.png') assert.ok(!('pixels' in decodePngFast(png, pre(W, H, 1))), `${name} must not decode on the fast path`);
      await fs.writeFile(join(tmp.dir, name), png);
    }
    const loaded = await loadFolder(tmp.dir, { pre: pre(W, H, 1), cacheDir: false });
    // sharp accepts a PNG whose image data is whole but whose IEND is missing, as it did before.
    assert.deepEqual(
      loaded.files.map((f) => f.slice(tmp.dir.length + 1)),
      ['good.png', 'no-iend.png'],
    );
    assert.deepEqual(loaded.images.subarray(W * H), loaded.images.subarray(0, W * H));
    const reason = (name: string) => loaded.skipped.find((s) => s.file.endsWith(`/${name}`))?.reason ?? '';
    assert.match(reason('bad-crc.png'), /^truncated or corrupt PNG file \(.+\)$/);
    assert.match(reason('cut.png'), /^truncated or corrupt PNG file \(.+\)$/);
    assert.match(reason('bomb.png'), /^too large: declares 100000×100000 pixels/);
    // The bomb is refused from its header alone, before anything is inflated.
    assert.ok('reason' in decodePngFast(files['bomb.png'], pre(W, H, 1)));
  });
});

describe('decode threads', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(async () => {
    delete process.env.LATENT_ATLAS_DECODE_THREADS;
    await stopDecodeThreads();
    tmp.remove();
  });

  const writeMixedFolder = async (dir: string, count: number) => {
    // Fast-path PNGs, PNGs and JPEGs for sharp, and unusable files, in every batch.
    for (let i = 0; i < count; i++) {
      const name = join(dir, `c${i % 3}`, `${String(i).padStart(4, '0')}`);
      await fs.mkdir(join(name, '..'), { recursive: true });
      if (i % 50 === 7) await fs.writeFile(`${name}.png`, 'not a picture');
      else if (i % 50 === 8) await fs.writeFile(`${name}.png`, Buffer.alloc(0));
      else if (i % 50 === 9) await fs.writeFile(`${name}.png`, makePng(W, H, 0, samples(W * H, i)).subarray(0, 60));
      else if (i % 10 === 3)
        await fs.writeFile(
          `${name}.jpg`,
          await sharp(Buffer.from(samples(16 * 16, i)), { raw: { width: 16, height: 16, channels: 1 } })
            .jpeg()
            .toBuffer(),
        );
      else if (i % 10 === 4) await fs.writeFile(`${name}.png`, makePng(W + 1, H, 0, samples((W + 1) * H, i)));
      else await fs.writeFile(`${name}.png`, makePng(W, H, 2, greyAsRgb(W * H, i)));
    }
  };
  const load = async (dir: string, threads: string | undefined, more: LoadOptions = {}) => {
    if (threads === undefined) delete process.env.LATENT_ATLAS_DECODE_THREADS;
    else process.env.LATENT_ATLAS_DECODE_THREADS = threads;
    return loadFolder(dir, { pre: pre(W, H, 1), cacheDir: false, ...more });
  };
  const assertSameLoad = (got: LoadedImages, alone: LoadedImages) => {
    assert.deepEqual(got.files, alone.files);
    assert.deepEqual(got.labels, alone.labels);
    // sharp's own detail for a damaged file varies from call to call under concurrency (libvips
    // reports 'libpng read error' or 'Unknown error' for the same bytes), so it is left out here.
    const reasons = (l: LoadedImages) => l.skipped.map((p) => `${p.file}: ${p.reason.replace(/ \(.*\)$/, '')}`);
    assert.deepEqual(reasons(got), reasons(alone));
    assert.ok(Buffer.from(got.images).equals(Buffer.from(alone.images)), 'the same pixels');
  };

  test('a folder large enough for the threads loads exactly as on the main thread alone', async () => {
    const dir = join(tmp.dir, 'threads');
    await writeMixedFolder(dir, 300);
    const alone = await load(dir, '0');
    assert.equal(alone.count, 300 - 18);
    assertSameLoad(await load(dir, '2'), alone);
  });

  test('the reader thread reads each file as the main thread would, size limits and failures included', async () => {
    const dir = join(tmp.dir, 'reader');
    await writeMixedFolder(dir, 200);
    const paths = (await fs.readdir(dir, { recursive: true })).filter((f) => /\.(png|jpg)$/.test(f)).map((f) => join(dir, f));
    paths.sort();
    paths.splice(100, 0, join(dir, 'gone.png')); // cannot be opened
    const large = join(dir, 'large.png');
    await fs.writeFile(large, makePng(64, 64, 0, samples(64 * 64, 1)));
    paths.splice(50, 0, large);
    delete process.env.LATENT_ATLAS_DECODE_THREADS;
    const reader = decodePool()!.reader()!;
    assert.ok(await reader.online);
    // A file larger than this is left for an asynchronous read, as on the main thread.
    const limit = 2000;
    const { results, bytes } = await reader.read(paths, limit);
    assert.equal(results.length, paths.length);
    const kinds = new Set<string>();
    paths.forEach((path, k) => {
      const here = decodeFileFast(path, pre(W, H, 1), limit);
      const there = decodeReadResult(results[k], bytes, pre(W, H, 1));
      const kind = here === 'async' ? 'async' : 'pixels' in here ? 'pixels' : 'bytes' in here ? 'sharp' : 'refused';
      kinds.add(kind);
      if (here === 'async' || there === 'async') assert.equal(there, here, path);
      else if ('pixels' in here) assert.deepEqual(there, { ...here, pixels: here.pixels }, path);
      else if ('bytes' in here) assert.ok('bytes' in there && Buffer.from(there.bytes).equals(Buffer.from(here.bytes)), path);
      else assert.deepEqual(there, here, path);
    });
    assert.deepEqual([...kinds].sort(), ['async', 'pixels', 'refused', 'sharp']);
  });

  test('a load the reader thread helps, and one whose threads are stopped halfway, lose nothing', async () => {
    const dir = join(tmp.dir, 'helped');
    await writeMixedFolder(dir, 2000);
    const alone = await load(dir, '0');
    assert.equal(alone.count, 2000 - 120);

    // The reader is running before the load starts, so it reads most of the files (and no decode
    // threads from the tests before, which a load would use instead).
    await stopDecodeThreads();
    delete process.env.LATENT_ATLAS_DECODE_THREADS;
    const reader = decodePool()!.reader()!;
    assert.ok(await reader.online);
    const before = reader.filesRead();
    assertSameLoad(await load(dir, undefined), alone);
    assert.ok(reader.filesRead() - before >= 128, `the reader thread read ${reader.filesRead() - before} of the 2,000 files`);

    // Stopped when the first unusable file is reported: the batches it held are read here.
    assert.ok(await decodePool()!.reader()!.online);
    let stopped: Promise<void> | undefined;
    const halted = await load(dir, undefined, { onProblem: () => void (stopped ??= stopDecodeThreads()) });
    assert.ok(stopped, 'the threads were stopped during the load');
    assertSameLoad(halted, alone);
  });
});
