// Loading images into one uint8 array: from the cache where the file did not change, decoded in
// parallel otherwise; every unusable file reported and the rest kept.
import { createHash } from 'node:crypto';
import { Stats, promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import type { FileProblem } from '../../protocol/engine';
import type { Preprocessing } from '../../protocol/model';
import { DEFAULT_CACHE_MAX_BYTES, defaultCacheDir, packPath, readChoice, writeChoice, type CacheEntry } from './cache';
import { openPack, savePack } from './packStore';
import { decodeBuffer, decodeImage, type DecodeOutcome } from './decode';
import type { ThreadOutcome } from './decodeFast';
import { decodePool } from './decodePool';
import { choosePreprocessing, validatePreprocessing } from './preprocessing';
import { describeFsError, scanFolder } from './scan';
import { compareCodeUnits, type LoadOptions, type LoadedImages, type ScanResult } from './types';
import { EngineError } from '../../protocol/errors';

/** One file to load: where it is, its key in the cache pack, its label index. */
interface LoadItem {
  path: string;
  rel: string;
  label: number;
  size: number;
  mtimeMs: number;
}

const PROGRESS_INTERVAL_MS = 100;
/** Below this many files to decode, the main thread alone is quicker than starting threads. */
const THREAD_MIN_FILES = 200;
/** Files per message to a decode thread: few enough to balance, many enough to amortise a message. */
const THREAD_BATCH = 64;

/** About the core count, and at least 4 so file reads overlap decoding on small machines. */
export function decodeConcurrency(): number {
  return Math.max(4, availableParallelism());
}

export async function loadFolder(root: string, opts: LoadOptions = {}): Promise<LoadedImages> {
  return (await loadFolderWithFingerprint(root, opts)).loaded;
}

/** loadFolder, plus the sha256 over sorted relative paths, sizes and mtimes of the images used. */
export async function loadFolderWithFingerprint(
  root: string,
  opts: LoadOptions = {},
): Promise<{ loaded: LoadedImages; fingerprint: string }> {
  const absRoot = resolve(root);
  const scan = await scanFolder(absRoot, { signal: opts.signal });
  for (const p of scan.problems) opts.onProblem?.(p);
  if (scan.files.length === 0) throw noImagesError(absRoot, scan, []);

  const labelNames = opts.labelNames ?? scan.labelNames;
  const labelIndex = new Map(labelNames.map((name, i) => [name, i]));
  const items: LoadItem[] = scan.files.map((f) => ({
    path: f.path,
    rel: relative(absRoot, f.path),
    label: f.label === null ? -1 : (labelIndex.get(f.label) ?? -1),
    size: f.size,
    mtimeMs: f.mtimeMs,
  }));
  const pre = await resolvePreprocessing(absRoot, items, opts);
  opts.signal?.throwIfAborted();
  const loaded = await loadItems(items, pre, [...labelNames], absRoot, false, opts);
  loaded.skipped.unshift(...scan.problems);
  if (loaded.count === 0) throw noImagesError(absRoot, scan, loaded.skipped);
  const used = new Set(loaded.files);
  const rows = items.filter((i) => used.has(i.path)).map((i) => `${i.rel}\t${i.size}\t${Math.round(i.mtimeMs)}`);
  rows.sort(compareCodeUnits);
  return { loaded, fingerprint: createHash('sha256').update(rows.join('\n')).digest('hex') };
}

/** Loads the given files (a subset of a folder, or a few files); never throws for unusable files. */
export async function loadFiles(files: string[], pre: Preprocessing, opts: LoadOptions = {}): Promise<LoadedImages> {
  const valid = validatePreprocessing(pre);
  const paths = files.map((f) => resolve(f));
  const labelRoot = opts.labelRoot === undefined ? undefined : resolve(opts.labelRoot);
  const labelOf = (path: string): string | null => {
    if (labelRoot === undefined) return basename(dirname(path));
    const parts = relative(labelRoot, path).split(sep);
    return parts.length > 1 && parts[0] !== '..' ? parts[0] : null;
  };
  const labelNames =
    opts.labelNames ??
    (labelRoot === undefined ? [] : [...new Set(paths.map(labelOf).filter((l): l is string => l !== null))].sort(compareCodeUnits));
  const labelIndex = new Map(labelNames.map((name, i) => [name, i]));
  const packRoot = labelRoot ?? commonFolder(paths);

  const items: LoadItem[] = [];
  const statProblems: FileProblem[] = [];
  const stats = await Promise.all(
    paths.map((path) =>
      fs.stat(path).then(
        (st) => st,
        (err: unknown) => err,
      ),
    ),
  );
  paths.forEach((path, i) => {
    const st = stats[i];
    if (!(st instanceof Stats)) {
      const problem = { file: path, reason: `cannot be read: ${describeFsError(st)}` };
      statProblems.push(problem);
      opts.onProblem?.(problem);
      return;
    }
    const label = labelOf(path);
    items.push({
      path,
      rel: relative(packRoot, path),
      label: label === null ? -1 : (labelIndex.get(label) ?? -1),
      size: st.size,
      mtimeMs: st.mtimeMs,
    });
  });
  const loaded = await loadItems(items, valid, [...labelNames], packRoot, true, opts);
  loaded.skipped.unshift(...statProblems);
  return loaded;
}

async function resolvePreprocessing(root: string, items: LoadItem[], opts: LoadOptions): Promise<Preprocessing> {
  const g = opts.pre ?? {};
  if (g.width !== undefined && g.height !== undefined && g.channels !== undefined && g.fit !== undefined) {
    return validatePreprocessing(g as Preprocessing);
  }
  const cacheDir = opts.cacheDir === false ? null : (opts.cacheDir ?? defaultCacheDir());
  const listing = createHash('sha256').update(JSON.stringify(g));
  for (const i of items) listing.update(`${i.rel}\t${i.size}\t${i.mtimeMs}\n`);
  const listingKey = listing.digest('hex');
  const remembered = cacheDir === null ? null : await readChoice(cacheDir, root, listingKey);
  if (remembered) return validatePreprocessing(remembered);
  const pre = await choosePreprocessing(
    items.map((i) => i.path),
    g,
    decodeConcurrency(),
  );
  if (cacheDir !== null) await writeChoice(cacheDir, root, listingKey, pre);
  return pre;
}

function commonFolder(paths: string[]): string {
  if (paths.length === 0) return resolve('.');
  let common = dirname(paths[0]).split(sep);
  for (const p of paths) {
    const parts = dirname(p).split(sep);
    let n = 0;
    while (n < common.length && n < parts.length && common[n] === parts[n]) n++;
    common = common.slice(0, n);
  }
  return common.join(sep) || sep;
}

async function loadItems(
  items: LoadItem[],
  pre: Preprocessing,
  labelNames: string[],
  packRoot: string,
  partial: boolean,
  opts: LoadOptions,
): Promise<LoadedImages> {
  const pixelBytes = pre.width * pre.height * pre.channels;
  const cacheDir = opts.cacheDir === false ? null : (opts.cacheDir ?? defaultCacheDir());
  const pack = cacheDir === null ? null : packPath(cacheDir, packRoot, pre);
  const maxBytes = opts.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const cached = pack === null ? new Map<string, CacheEntry>() : await openPack(pack, packRoot, pre, maxBytes);

  const staging = new Uint8Array(items.length * pixelBytes);
  const ok = new Uint8Array(items.length);
  const problems: (FileProblem | null)[] = new Array(items.length).fill(null);
  const fresh = new Map<string, CacheEntry>();
  const toDecode: number[] = [];
  let done = 0;
  let lastProgress = 0;
  const progress = (force = false) => {
    const now = Date.now();
    if (force || now - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = now;
      opts.onProgress?.(done, items.length);
    }
  };
  const fail = (i: number, reason: string) => {
    problems[i] = { file: items[i].path, reason };
    opts.onProblem?.(problems[i]!);
  };

  let fromCache = 0;
  items.forEach((item, i) => {
    const hit = cached.get(item.rel);
    if (hit && hit.size === item.size && hit.mtimeMs === item.mtimeMs) {
      fresh.set(item.rel, hit);
      if (hit.pixels) {
        staging.set(hit.pixels, i * pixelBytes);
        ok[i] = 1;
        fromCache++;
      } else {
        fail(i, hit.problem ?? 'could not be decoded');
      }
      done++;
    } else {
      toDecode.push(i);
    }
  });
  progress(true);

  let next = 0;
  let decoded = 0; // files read and decoded now, usable or not
  const added: string[] = [];
  const saveCache = async (complete: boolean) => {
    if (pack === null) return;
    const dropped = complete && !partial && [...cached.keys()].some((rel) => !fresh.has(rel));
    if (decoded === 0 && !dropped) return;
    // A full load keeps only files that exist; a partial or cancelled one keeps the other entries.
    const whole = complete && !partial;
    await savePack(pack, packRoot, pre, whole ? fresh : new Map([...cached, ...fresh]), added, whole, maxBytes);
  };
  const record = (i: number, out: DecodeOutcome) => {
    const item = items[i];
    if (out.ok) {
      staging.set(out.pixels, i * pixelBytes);
      ok[i] = 1;
      fresh.set(item.rel, { size: out.size, mtimeMs: out.mtimeMs, pixels: out.pixels });
      added.push(item.rel);
    } else {
      fail(i, out.reason);
      if (out.cacheable && out.size !== undefined && out.mtimeMs !== undefined) {
        fresh.set(item.rel, { size: out.size, mtimeMs: out.mtimeMs, problem: out.reason });
        added.push(item.rel);
      }
    }
    decoded++;
    done++;
    progress();
  };
  const threads = toDecode.length >= THREAD_MIN_FILES ? decodePool() : undefined;
  try {
    if (threads) {
      // Batches to the decode threads, two per thread in flight so none waits for the next.
      await Promise.all(
        Array.from({ length: 2 * threads.size }, async () => {
          while (next < toDecode.length) {
            opts.signal?.throwIfAborted();
            const batch = toDecode.slice(next, next + THREAD_BATCH);
            next += batch.length;
            let reply;
            try {
              reply = await threads.decode(
                batch.map((i) => items[i].path),
                pre,
              );
            } catch {
              // The thread died: these files are decoded here instead.
              for (const i of batch) record(i, await decodeImage(items[i].path, pre));
              continue;
            }
            for (let k = 0; k < batch.length; k++) {
              const out: ThreadOutcome = reply.outcomes[k];
              if ('bytes' in out) {
                const bytes = Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
                record(batch[k], await decodeBuffer(bytes, out.size, out.mtimeMs, pre, true));
              } else if (out.ok) {
                record(batch[k], { ...out, pixels: reply.pixels.subarray(k * pixelBytes, (k + 1) * pixelBytes) });
              } else {
                record(batch[k], out);
              }
            }
          }
        }),
      );
    } else {
      await Promise.all(
        Array.from({ length: Math.min(decodeConcurrency(), toDecode.length) }, async () => {
          while (next < toDecode.length) {
            opts.signal?.throwIfAborted();
            const i = toDecode[next++];
            record(i, await decodeImage(items[i].path, pre));
          }
        }),
      );
    }
    opts.signal?.throwIfAborted();
  } catch (err) {
    // Cancelled: what was decoded so far is kept, so the next load starts where this one stopped.
    await saveCache(false);
    throw err;
  }
  progress(true);
  await saveCache(true);

  let count = 0;
  for (let i = 0; i < items.length; i++) count += ok[i];
  const images = count === items.length ? staging : new Uint8Array(count * pixelBytes);
  const files: string[] = [];
  const labels = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < items.length; i++) {
    if (!ok[i]) continue;
    if (images !== staging) images.set(staging.subarray(i * pixelBytes, (i + 1) * pixelBytes), k * pixelBytes);
    files.push(items[i].path);
    labels[k++] = items[i].label;
  }
  return {
    pre,
    images,
    count,
    files,
    labels,
    labelNames,
    skipped: problems.filter((p): p is FileProblem => p !== null),
    decoded,
    fromCache,
  };
}

function noImagesError(root: string, scan: ScanResult, skipped: FileProblem[]): EngineError {
  const { count: others, extensions } = scan.otherFiles;
  let detail: string;
  if (scan.files.length > 0) {
    const images = new Set(scan.files.map((f) => f.path));
    const first = skipped.find((p) => images.has(p.file)) ?? skipped[0];
    const n = scan.files.length;
    detail = `${n} image${n === 1 ? '' : 's'} could not be read (see warnings${first ? `; e.g. ${basename(first.file)}: ${first.reason}` : ''})`;
  } else if (others > 0) {
    detail = `${others} file${others === 1 ? '' : 's'} found, none PNG/JPEG/WebP/GIF (found ${extensions.join(', ')})`;
  } else {
    detail = 'the folder holds no files (hidden files and folders are skipped)';
  }
  return new EngineError('no-images', `No usable images in ${root}: ${detail}.`);
}
