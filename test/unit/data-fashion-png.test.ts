// Fashion-MNIST written as PNG files, as the load benchmark and most users' folders have them: the
// fast path (our own inflate and unfiltering) gives exactly the IDX file's pixels, sharp's and
// pngjs's, and a whole folder loads to those pixels on the threads and on the main thread alone.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import type { Preprocessing } from '../../src/protocol/model';
import { FASHION_MNIST_CLASSES, loadFolder, readFashionMnist, writeFashionMnistPngs } from '../../src/engine/data';
import { decodeBuffer } from '../../src/engine/data/decode';
import { decodeFileFast } from '../../src/engine/data/decodeFast';
import { decodePool, stopDecodeThreads } from '../../src/engine/data/decodePool';
import { decodePngFast } from '../../src/engine/data/pngFast';
import { tempDir } from '../fixtures/images';

const N = 600; // above the loader's threshold for decode threads
const PRE: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'cover' };

describe('Fashion-MNIST PNGs: the fast path against the IDX file, sharp and pngjs', () => {
  const tmp = tempDir();
  let idx: Awaited<ReturnType<typeof readFashionMnist>>;
  before(async () => {
    await writeFashionMnistPngs(tmp.dir, 'test', N);
    idx = await readFashionMnist('test');
  });
  after(async () => {
    await stopDecodeThreads();
    tmp.remove();
  });

  const fileOf = (i: number) => join(tmp.dir, FASHION_MNIST_CLASSES[idx.labels[i]], `${String(i + 1).padStart(5, '0')}.png`);
  const expected = (i: number) => idx.images.subarray(i * 784, (i + 1) * 784);

  test('every file decodes on the fast path to the IDX pixels, which are sharp’s and pngjs’s too', async () => {
    for (let i = 0; i < N; i++) {
      const buf = await fs.readFile(fileOf(i));
      const fast = decodePngFast(buf, PRE);
      assert.ok('pixels' in fast, `${fileOf(i)}: ${JSON.stringify(fast)}`);
      assert.deepEqual(fast.pixels, expected(i), fileOf(i));
      const viaSharp = await decodeBuffer(buf, buf.length, 0, PRE, true);
      assert.ok(viaSharp.ok);
      assert.deepEqual(viaSharp.pixels, expected(i), `${fileOf(i)}: sharp`);
      const viaPngjs = PNG.sync.read(buf).data.filter((_, k) => k % 4 === 0);
      assert.deepEqual(new Uint8Array(viaPngjs), expected(i), `${fileOf(i)}: pngjs`);
    }
  });

  test('a decode thread answers as the main thread does, file by file', async () => {
    const paths = Array.from({ length: 100 }, (_, i) => fileOf(i));
    const broken = tempDir();
    await fs.writeFile(join(broken.dir, 'cut.png'), (await fs.readFile(fileOf(0))).subarray(0, 80));
    await fs.writeFile(join(broken.dir, 'text.png'), 'not a picture');
    paths.push(join(broken.dir, 'cut.png'), join(broken.dir, 'text.png'), join(broken.dir, 'missing.png'));
    process.env.LATENT_ATLAS_DECODE_THREADS = '1';
    try {
      const [thread] = decodePool()!.start();
      const reply = await thread.decode(paths, PRE);
      assert.ok(await thread.online);
      paths.forEach((path, k) => {
        const here = decodeFileFast(path, PRE);
        const there = reply.outcomes[k];
        if ('pixels' in here) {
          assert.deepEqual(there, { ok: true, size: here.size, mtimeMs: here.mtimeMs }, path);
          assert.deepEqual(reply.pixels.subarray(k * 784, (k + 1) * 784), here.pixels, path);
        } else if ('bytes' in here) {
          assert.ok('bytes' in there, path);
          assert.deepEqual(Buffer.from(there.bytes), Buffer.from(here.bytes), path);
        } else {
          assert.deepEqual(there, here, path);
        }
      });
    } finally {
      delete process.env.LATENT_ATLAS_DECODE_THREADS;
      await stopDecodeThreads();
      broken.remove();
    }
  });

  for (const threads of ['2', '0']) {
    test(`the folder loads to the IDX pixels (${threads === '0' ? 'main thread only' : `${threads} decode threads`})`, async () => {
      const before = process.env.LATENT_ATLAS_DECODE_THREADS;
      process.env.LATENT_ATLAS_DECODE_THREADS = threads;
      try {
        await stopDecodeThreads();
        const loaded = await loadFolder(tmp.dir, { cacheDir: false });
        assert.deepEqual(loaded.pre, PRE);
        assert.equal(loaded.count, N);
        assert.deepEqual(loaded.skipped, []);
        for (let k = 0; k < N; k++) {
          const i = Number(loaded.files[k].slice(-9, -4)) - 1;
          assert.equal(loaded.files[k], fileOf(i));
          assert.deepEqual(loaded.images.subarray(k * 784, (k + 1) * 784), expected(i), loaded.files[k]);
        }
      } finally {
        if (before === undefined) delete process.env.LATENT_ATLAS_DECODE_THREADS;
        else process.env.LATENT_ATLAS_DECODE_THREADS = before;
      }
    });
  }
});
