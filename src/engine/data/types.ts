// Shapes of the data module's API (re-exported by ./index.ts; the worker, run store and CLI code
// against them).
import type { Preprocessing } from '../../protocol/model';
import type { FileProblem } from '../../protocol/engine';

export interface ImageFile {
  /** Absolute path. */
  path: string;
  /** The path relative to the scanned root. */
  rel: string;
  /** First-level sub-folder under the scanned root, or null for images directly in the root. */
  label: string | null;
  /** NaN when the scan was asked not to read them. */
  size: number;
  mtimeMs: number;
}

export interface ScanResult {
  /** Image files (by extension), sorted by path relative to the root. */
  files: ImageFile[];
  /** Directories or links that could not be followed, with the reason. */
  problems: FileProblem[];
  /** Sorted names of the first-level sub-folders that hold at least one image. */
  labelNames: string[];
  /** Files that were not images by extension: how many, and which extensions (for error messages). */
  otherFiles: { count: number; extensions: string[] };
}

export interface LoadedImages {
  pre: Preprocessing;
  /** count × height × width × channels bytes, row-major. */
  images: Uint8Array;
  count: number;
  /** Absolute paths of the images that loaded, in image order (the demo set: names such as
   *  `circle/00001.png`, as writeDemoFolder lays them out). */
  files: string[];
  /** Index into labelNames, −1 for no label. */
  labels: Int32Array;
  labelNames: string[];
  /** Every file that could not be used, with a plain-words reason. */
  skipped: FileProblem[];
  /** Files read and decoded now (usable or not), and images taken from the uint8 cache. */
  decoded: number;
  fromCache: number;
}

export interface LoadOptions {
  /** Missing fields are chosen from the data (most common size up to 64×64; grey when all are). */
  pre?: Partial<Preprocessing>;
  /** Fixed label order (a trained run's); labels not in it become −1. */
  labelNames?: string[];
  /** loadFiles only: the folder whose first-level sub-folders are the labels. Without it a file's
   *  label is its parent folder's name when that is in labelNames. */
  labelRoot?: string;
  /** Where decoded uint8 data is cached; false turns the cache off.
   *  Default: $XDG_CACHE_HOME/latent-atlas, else ~/.cache/latent-atlas. */
  cacheDir?: string | false;
  /** Upper bound on the cache folder's size; least recently used entries go first. Default 2 GiB. */
  cacheMaxBytes?: number;
  signal?: AbortSignal;
  /** Called as soon as a file is skipped. */
  onProblem?(p: FileProblem): void;
  onProgress?(done: number, total: number): void;
}

/** Decompression-bomb guards. */
export const MAX_INPUT_PIXELS = 40_000_000;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

export { IMAGE_EXTENSIONS } from '../../protocol/limits';

/** Byte-wise (not locale) order, so every machine sorts the same way. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts in place by `key` in code-unit order; one pass when already sorted (a folder walk nearly always is). */
export function sortByCodeUnits<T>(list: T[], key: (t: T) => string): T[] {
  for (let i = 1; i < list.length; i++) {
    if (key(list[i - 1]) > key(list[i])) return list.sort((a, b) => compareCodeUnits(key(a), key(b)));
  }
  return list;
}
