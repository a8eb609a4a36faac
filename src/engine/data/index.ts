// The data module: image folders → uint8 arrays of the run's size (scan, decode with sharp,
// cache), the built-in demo set, PNG writing, and Fashion-MNIST for tests and benchmarks.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { DatasetSource, DatasetSummary } from '../../protocol/model';
import { DEMO_COUNT, DEMO_PRE, DEMO_SEED, renderDemo } from './demo';
import { loadFolderWithFingerprint } from './load';
import { type LoadOptions, type LoadedImages } from './types';

export { scanFolder } from './scan';
export { loadFolder, loadFiles } from './load';
export { demoImages, drawShape, writeDemoFolder, DEMO_CLASSES, DEMO_FACTORS, type DemoImages } from './demo';
export { encodePng, writePngs } from './png';
export { parseIdx, readIdxFile, readIdxImageSet, type IdxArray, type IdxImageSet } from './idx';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  prepareFashionMnistFolder,
  readFashionMnist,
  writeFashionMnistPngs,
} from './fashionMnist';
export { defaultCacheDir } from './cache';
export { flushImageCache, releaseImageCache } from './packStore';
export { MAX_FILE_BYTES, MAX_INPUT_PIXELS, type ImageFile, type LoadOptions, type LoadedImages, type ScanResult } from './types';

/** A folder or the demo set, loaded, with the summary a run manifest records. */
export async function loadDataset(source: DatasetSource, opts: LoadOptions = {}): Promise<LoadedImages & { summary: DatasetSummary }> {
  if (source.kind === 'demo') {
    const pre = { ...DEMO_PRE, ...opts.pre };
    const demo = renderDemo(DEMO_COUNT, DEMO_SEED, pre);
    if (opts.labelNames) {
      const given = new Map(opts.labelNames.map((n, i) => [n, i]));
      demo.labels = demo.labels.map((l) => given.get(demo.labelNames[l]) ?? -1);
      demo.labelNames = [...opts.labelNames];
    }
    opts.onProgress?.(demo.count, demo.count);
    const fingerprint = createHash('sha256').update(`latent-atlas demo v1\t${DEMO_COUNT}\t${DEMO_SEED}`).digest('hex');
    const { factors: _factors, ...images } = demo;
    return { ...images, summary: { source, count: demo.count, skipped: 0, fingerprint } };
  }
  const root = resolve(source.path);
  const { loaded, fingerprint } = await loadFolderWithFingerprint(root, opts);
  return {
    ...loaded,
    summary: { source: { kind: 'folder', path: root }, count: loaded.count, skipped: loaded.skipped.length, fingerprint },
  };
}
