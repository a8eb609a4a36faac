// What bench/load-folder.ts bundles: the data module's loading API as the engine ships it.
export { flushImageCache, loadFolder, releaseImageCache } from '../src/engine/data';
export { stopDecodeThreads } from '../src/engine/data/decodePool';
