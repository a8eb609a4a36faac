// Fashion-MNIST as the project reads it: the IDX reader on Debian's real files, clear errors on
// damaged ones, and the PNG folder the tests and benchmarks train on.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  FASHION_MNIST_CLASSES,
  loadFolder,
  parseIdx,
  prepareFashionMnistFolder,
  readFashionMnist,
  readIdxFile,
  readIdxImageSet,
} from '../../src/engine/data';
import { tempDir } from '../fixtures/images';

let tmp: ReturnType<typeof tempDir>;
before(() => {
  tmp = tempDir();
});
after(() => tmp.remove());

function idx(type: number, dims: number[], data: number[] | Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('IDX reader', () => {
  test('the real Fashion-MNIST test set: 10,000 images of 28×28, 1,000 per label 0–9', async () => {
    const set = await readFashionMnist('test');
    assert.equal(set.count, 10_000);
    assert.deepEqual([set.height, set.width], [28, 28]);
    assert.equal(set.images.length, 10_000 * 784);
    const perLabel = new Array(10).fill(0);
    for (const l of set.labels) perLabel[l]++;
    assert.deepEqual(perLabel, new Array(10).fill(1000));
    // First test image is an ankle boot (label 9) on a black background.
    assert.equal(set.labels[0], 9);
    assert.equal(set.images[0], 0);
    assert.ok(set.images.subarray(0, 784).some((v) => v > 200));
  });

  test('parses small arrays, gzipped or not', async () => {
    const raw = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(parseIdx(raw), { dims: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const file = join(tmp.dir, 'small.idx.gz');
    await fs.writeFile(file, gzipSync(raw));
    assert.deepEqual((await readIdxFile(file)).dims, [2, 3]);
  });

  test('damaged files give errors that say what is wrong', async () => {
    assert.throws(
      () => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 1, 5]), 'x.idx'),
      /x\.idx: not an IDX file: the magic number must start with two zero bytes/,
    );
    assert.throws(() => parseIdx(idx(0x0d, [1], [0, 0, 0, 0])), /type float32 is not supported/);
    assert.throws(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3])), /IDX data truncated: dimensions 2×3 need 6 bytes, found 3/);
    assert.throws(() => parseIdx(idx(0x08, [2], [1, 2, 3])), /has trailing bytes/);
    assert.throws(() => parseIdx(Buffer.from([0, 0, 8, 3, 0, 0])), /truncated IDX header: 3 dimensions need 16 bytes/);
    const bad = join(tmp.dir, 'bad.gz');
    await fs.writeFile(bad, Buffer.concat([gzipSync(idx(0x08, [4], [1, 2, 3, 4])).subarray(0, 12)]));
    await assert.rejects(readIdxFile(bad), /bad\.gz: the gzip data is damaged/);
    await assert.rejects(readIdxFile(join(tmp.dir, 'missing.gz')), /Cannot read .*missing\.gz/);
  });

  test('images and labels of different splits are refused', async () => {
    const images = join(tmp.dir, 'img.idx');
    const labels = join(tmp.dir, 'lab.idx');
    await fs.writeFile(images, idx(0x08, [2, 2, 2], new Uint8Array(8)));
    await fs.writeFile(labels, idx(0x08, [3], [0, 1, 2]));
    await assert.rejects(readIdxImageSet(images, labels), /holds 2 images but .* holds 3 labels/);
    await assert.rejects(readIdxImageSet(labels, images), /expected 3 dimensions .* is this a labels file\?/);
  });
});

describe('Fashion-MNIST PNG folder', () => {
  test('holds the first n test images, one sub-folder per class, pixel-exact; a second call re-uses it', async () => {
    const dir = join(tmp.dir, 'fashion');
    const { count } = await prepareFashionMnistFolder(dir, 40);
    assert.equal(count, 40);
    const set = await readFashionMnist('test');
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.count, 40);
    assert.deepEqual(loaded.pre, { width: 28, height: 28, channels: 1, fit: 'cover' });
    for (const name of loaded.labelNames) assert.ok((FASHION_MNIST_CLASSES as readonly string[]).includes(name));
    loaded.files.forEach((file, k) => {
      const i = Number(file.slice(-9, -4)) - 1; // <class>/00001.png is row 0 of the IDX file
      assert.equal(loaded.labelNames[loaded.labels[k]], FASHION_MNIST_CLASSES[set.labels[i]]);
      assert.deepEqual(loaded.images.subarray(k * 784, (k + 1) * 784), set.images.subarray(i * 784, (i + 1) * 784));
    });
    const before = (await fs.stat(join(dir, 'Ankle_boot', '00001.png'))).mtimeMs;
    await prepareFashionMnistFolder(dir, 40);
    assert.equal((await fs.stat(join(dir, 'Ankle_boot', '00001.png'))).mtimeMs, before);
    assert.equal((await prepareFashionMnistFolder(dir, 12)).count, 12);
    assert.equal((await loadFolder(dir, { cacheDir: false })).count, 12);
  });
});
