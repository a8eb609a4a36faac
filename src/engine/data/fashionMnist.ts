// Fashion-MNIST from Debian's dataset-fashion-mnist package, turned into a PNG folder with one
// sub-folder per class, so tests and benchmarks exercise the same folder path a user has.
import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { readIdxImageSet, type IdxImageSet } from './idx';
import { encodePng } from './png';

export const FASHION_MNIST_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt_top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle_boot',
] as const;

export type Split = 'train' | 'test';

export function fashionMnistFiles(split: Split, dir = FASHION_MNIST_DIR): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: join(dir, `${prefix}-images-idx3-ubyte.gz`), labels: join(dir, `${prefix}-labels-idx1-ubyte.gz`) };
}

export async function readFashionMnist(split: Split, dir = FASHION_MNIST_DIR): Promise<IdxImageSet> {
  const files = fashionMnistFiles(split, dir);
  if (!existsSync(files.images)) {
    throw new Error(`Fashion-MNIST not found: ${files.images} is missing. Install it with: sudo apt-get install dataset-fashion-mnist`);
  }
  const set = await readIdxImageSet(files.images, files.labels);
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] >= FASHION_MNIST_CLASSES.length)
      throw new Error(`${files.labels}: label ${set.labels[i]} at index ${i} is not a Fashion-MNIST class (0–9).`);
  }
  return set;
}

/**
 * Writes the first `n` images of a split as `<outDir>/<class>/<index>.png` (index 1-based, the
 * image's row in the IDX file, 5 digits). Returns how many were written.
 */
export async function writeFashionMnistPngs(
  outDir: string,
  split: Split,
  n: number,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const set = await readFashionMnist(split);
  const count = Math.min(Math.max(0, Math.floor(n)), set.count);
  for (const cls of FASHION_MNIST_CLASSES) await fs.mkdir(join(outDir, cls), { recursive: true });
  const pixelBytes = set.width * set.height;
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const i = next++;
        const png = await encodePng(set.images.subarray(i * pixelBytes, (i + 1) * pixelBytes), set.width, set.height, 1);
        const name = `${String(i + 1).padStart(5, '0')}.png`;
        await fs.writeFile(join(outDir, FASHION_MNIST_CLASSES[set.labels[i]], name), png);
        if (++done % 1000 === 0) onProgress?.(done, count);
      }
    }),
  );
  onProgress?.(count, count);
  return count;
}

/**
 * A folder of the first `n` Fashion-MNIST images of a split (test by default) for benchmarks and
 * tests; re-used when a previous call completed it (marker file `.complete.json`, hidden from scans).
 */
export async function prepareFashionMnistFolder(dir: string, n: number, split: Split = 'test'): Promise<{ dir: string; count: number }> {
  const abs = resolve(dir);
  const marker = join(abs, '.complete.json');
  let previous: { count: number; split: Split } | null = null;
  try {
    previous = JSON.parse(await fs.readFile(marker, 'utf8')) as { count: number; split: Split };
  } catch {
    // not prepared yet
  }
  if (previous && previous.split === split && previous.count === n) return { dir: abs, count: previous.count };
  // Only folders this function wrote (it left the marker) are cleared; others are written into.
  if (previous) {
    await fs.rm(marker, { force: true });
    for (const cls of FASHION_MNIST_CLASSES) await fs.rm(join(abs, cls), { recursive: true, force: true });
  }
  const count = await writeFashionMnistPngs(abs, split, n);
  await fs.writeFile(marker, JSON.stringify({ count, split }));
  return { dir: abs, count };
}
