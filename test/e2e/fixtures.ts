// Test data for the end-to-end suite: Fashion-MNIST images (Debian's dataset-fashion-mnist) as
// PNG files in one sub-folder per class, plus files that must be skipped.

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodePng } from '../../src/engine/data';

const DATASET = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot'];

function readIdx(file: string, magic: number): Buffer {
  const data = gunzipSync(readFileSync(join(DATASET, file)));
  if (data.readUInt32BE(0) !== magic)
    throw new Error(`${join(DATASET, file)}: not an IDX file with magic ${magic}; reinstall dataset-fashion-mnist.`);
  return data;
}

/**
 * Writes the first `count` test-set images of the given classes as `<dir>/<class>/NNNNN.png`.
 * Returns how many PNGs were written.
 */
export async function writeFashionMnist(dir: string, count: number, classes = [0, 1, 7]): Promise<number> {
  const images = readIdx('t10k-images-idx3-ubyte.gz', 2051);
  const labels = readIdx('t10k-labels-idx1-ubyte.gz', 2049);
  const total = images.readUInt32BE(4);
  let written = 0;
  for (let i = 0; i < total && written < count; i++) {
    const label = labels[8 + i];
    if (!classes.includes(label)) continue;
    const folder = join(dir, CLASSES[label]);
    await mkdir(folder, { recursive: true });
    const pixels = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
    await writeFile(join(folder, `${String(i).padStart(5, '0')}.png`), await encodePng(pixels, 28, 28, 1));
    written++;
  }
  return written;
}

/** A file named .png that is not a PNG (the engine must skip it and name it in the log). */
export async function writeBrokenPng(file: string): Promise<void> {
  await writeFile(file, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from('truncated, not really a PNG')]));
}
