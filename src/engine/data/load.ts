// Loading images into one uint8 array: from the cache where the file did not change, decoded in
// parallel otherwise; every unusable file reported and the rest kept.
import { createHash } from 'node:crypto';
import { Stats, promises as fs, stat } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import type { FileProblem } from '../../protocol/engine';
import type { Preprocessing } from '../../protocol/model';
import { DEFAULT_CACHE_MAX_BYTES, defaultCacheDir, packPath, readChoice, writeChoice, type CacheEntry } from './cache';
import { openPack, savePack } from './packStore';
import { decodeBuffer, decodeImage, type DecodeOutcome } from './decode';
import { decodeFileFast, decodeReadResult, type FastFileOutcome, type ReadReply, type ThreadOutcome } from './decodeFast';
import { decodePool, decodeThreadsGiven, type DecodeThread, type ReaderThread } from './decodePool';
import { choosePreprocessing, probeSample, validatePreprocessing } from './preprocessing';
import { describeFsError, scanFolder } from './scan';
import { compareCodeUnits, sortByCodeUnits, type LoadOptions, type LoadedImages, type ScanResult } from './types';
import { EngineError } from '../../protocol/errors';

/** One file to load: where it is, its key in the cache pack, its label index. */
interface LoadItem {
  path: string;
  rel: string;
  label: number;
  /** NaN until read: a folder's scan leaves them to the decoding, or to the cache check. */
  size: number;
  mtimeMs: number;
}

const PROGRESS_INTERVAL_MS = 100;
/** Below this many files to decode, the main thread alone is quicker than starting threads. */
const THREAD_MIN_FILES = 200;
/** Files per message to a decode thread: few enough to balance, many enough to amortise a message. */
const THREAD_BATCH = 64;
/** The main thread decodes for this long at a time, then lets other events in. */
const MAIN_SLICE_MS = 4;
/** Files per message to the reader thread, and how many such messages are out at once. */
const READ_BATCH = 128;
const READS_IN_FLIGHT = 4;
/**
 * With nothing else left, the main thread waits this long for the reader's last batches before it
 * reads those files itself (a batch takes the reader ~1–2 ms; longer means it is starved of a core).
 */
const READ_WAIT_MS = 30;
/** Files up to this size are read synchronously on the main thread; larger ones asynchronously. */
const MAIN_SYNC_BYTES = 1 << 20;
/** The main thread decodes this long before deciding whether threads are worth starting. */
const THREAD_DECISION_MS = 40; // os.cpus() counts in 10 ms ticks
/** While no threads run on a long load, how often cores are looked at again. */
const THREAD_RECHECK_MS = 500;
/**
 * Threads are started when the main thread alone would need longer than this for the rest. A
 * fresh thread needs ~60 ms to start and ~100 ms more before its code is compiled (its first
 * files cost 5–10× a warm thread's) on the 2-core test machine: below this, it only competes.
 */
const THREAD_WORTH_MS = 600;

/** Idle time of all cores since `before` (os.cpus() then), in cores: 1.0 is one core idle throughout. */
function idleCores(before: ReturnType<typeof cpus>): number {
  const after = cpus();
  let idle = 0;
  let total = 0;
  after.forEach((cpu, k) => {
    const was = before[k]?.times;
    if (!was) return;
    const t = cpu.times;
    idle += t.idle - was.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq - (was.user + was.nice + was.sys + was.idle + was.irq);
  });
  return total > 0 ? (idle / total) * after.length : 0;
}

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
  // Sizes and times are read where each file is opened (or, when the cache holds the folder, all
  // together before it is checked): one system call per image less on a cold load.
  const scan = await scanFolder(absRoot, { signal: opts.signal, stat: false });
  // A folder large enough for the reader thread starts it now: it is online by the time the
  // preprocessing is chosen (a thread takes ~60 ms to start on the 2-core test machine).
  if (scan.files.length >= THREAD_MIN_FILES) decodePool()?.reader();
  for (const p of scan.problems) opts.onProblem?.(p);
  if (scan.files.length === 0) throw noImagesError(absRoot, scan, []);

  const labelNames = opts.labelNames ?? scan.labelNames;
  const labelIndex = new Map(labelNames.map((name, i) => [name, i]));
  const items: LoadItem[] = scan.files.map((f) => ({
    path: f.path,
    rel: f.rel,
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
  sortByCodeUnits(rows, (r) => r);
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
  // The choice depends on the listing and on the sampled files alone: those are its key.
  const sample = probeSample(items);
  await statItems(sample);
  const listing = createHash('sha256').update(JSON.stringify(['v2', g]));
  for (const i of items) listing.update(`${i.rel}\n`);
  for (const i of sample) listing.update(`${i.rel}\t${i.size}\t${i.mtimeMs}\n`);
  const listingKey = listing.digest('hex');
  const remembered = cacheDir === null ? null : await readChoice(cacheDir, root, listingKey);
  if (remembered) return validatePreprocessing(remembered);
  const pre = await choosePreprocessing(
    sample.map((i) => i.path),
    g,
    decodeConcurrency(),
  );
  if (cacheDir !== null) await writeChoice(cacheDir, root, listingKey, pre);
  return pre;
}

/** Reads the sizes and times of items that lack them (NaN where a file cannot be read). */
async function statItems(items: LoadItem[]): Promise<Map<LoadItem, NodeJS.ErrnoException>> {
  const failed = new Map<LoadItem, NodeJS.ErrnoException>();
  // The callback form: fs.promises.stat costs ~3× more per file.
  await Promise.all(
    items
      .filter((item) => Number.isNaN(item.size))
      .map(
        (item) =>
          new Promise<void>((done) =>
            stat(item.path, (err, st) => {
              if (err) failed.set(item, err);
              else [item.size, item.mtimeMs] = [st.size, st.mtimeMs];
              done();
            }),
          ),
      ),
  );
  return failed;
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
  // Where a pack exists, the files' sizes and times (to check it against) are read while it is.
  const packOnDisk =
    pack !== null &&
    (await fs.access(pack).then(
      () => true,
      () => false,
    ));
  const statting = packOnDisk ? statItems(items) : undefined;
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
  // A cold load (nothing cached) needs no sizes and times before decoding: each is read then.
  const unreadable = cached.size > 0 ? await (statting ?? statItems(items)) : new Map<LoadItem, NodeJS.ErrnoException>();
  items.forEach((item, i) => {
    const err = unreadable.get(item);
    if (err) {
      fail(i, `cannot be read (${describeFsError(err)})`);
      done++;
      return;
    }
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
    // A full load keeps only files that exist; a partial or cancelled one keeps the other entries
    // (added to the pack's own map, not copied with it: a folder encoded in chunks adds to it each time).
    const whole = complete && !partial;
    if (!whole) for (const [rel, entry] of fresh) cached.set(rel, entry);
    await savePack(pack, packRoot, pre, whole ? fresh : cached, added, whole, maxBytes);
  };
  // The main thread decodes each image straight into its place in `staging`, and the cache keeps
  // that view: no array and no copy per image (10,000 small arrays cost a garbage collector
  // measurably more than the decoding on the test machine).
  const slot = (i: number) => staging.subarray(i * pixelBytes, (i + 1) * pixelBytes);
  const record = (i: number, out: DecodeOutcome) => {
    const item = items[i];
    if (out.size !== undefined && out.mtimeMs !== undefined) {
      item.size = out.size;
      item.mtimeMs = out.mtimeMs;
    }
    if (out.ok) {
      // Decoded here straight into its place (see slot), or elsewhere and copied in.
      if (out.pixels.buffer !== staging.buffer || out.pixels.byteOffset !== i * pixelBytes) staging.set(out.pixels, i * pixelBytes);
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
  // Files sharp decodes (everything the fast path does not take), a few at a time: sharp runs them
  // on libuv's threads. Whoever holds such a file's bytes waits for room before reading more.
  const sharpJobs = new JobLimit(decodeConcurrency());
  const take = (i: number, out: FastFileOutcome) => {
    if (out === 'async') {
      sharpJobs.run(async () => record(i, await decodeImage(items[i].path, pre)));
    } else if ('bytes' in out) {
      const bytes = Buffer.from(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
      sharpJobs.run(async () => record(i, await decodeBuffer(bytes, out.size, out.mtimeMs, pre, true)));
    } else if ('pixels' in out) {
      record(i, { ok: true, ...out });
    } else {
      record(i, out);
    }
  };
  // Files handed to a thread and not answered yet. At the end the main thread decodes those
  // itself, from the back, so a thread that is slow (starved on a busy machine, still starting)
  // never holds the load up; its late answers for them are dropped.
  const settled = new Uint8Array(items.length);
  const outstanding = new Set<number[]>();
  let finished = false; // a thread's answer after the load ended (or was cancelled) is dropped
  const settle = (i: number, out: FastFileOutcome) => {
    if (settled[i] || finished) return;
    settled[i] = 1;
    take(i, out);
  };
  // Files the main thread reads itself after all (the reader thread failed or was too slow).
  const retry: number[] = [];
  const nextForMain = (): number | undefined => {
    while (retry.length > 0) {
      const i = retry.pop()!;
      if (!settled[i]) return i;
    }
    if (next < toDecode.length) return toDecode[next++];
    for (const batch of outstanding) {
      for (let k = batch.length - 1; k >= 0; k--) if (!settled[batch[k]]) return batch[k];
    }
    return undefined;
  };
  // The reader thread reads files ahead for the main thread, which decodes them from memory: the
  // four system calls per file (open, fstat, read, close: about 40 % of its time per small PNG)
  // move to another core. Batches claimed by the reader wait in `reading` until they arrive.
  const readBatches: { batch: number[]; reply: ReadReply; k: number }[] = [];
  const reading = new Map<number[], number>(); // batch → when it was asked for
  let readArrived: (() => void) | undefined;
  const onReader = async (reader: ReaderThread) => {
    if (!(await reader.online)) return;
    // Once decode threads run, they read for themselves and the reader has served its turn.
    while (next < toDecode.length && !finished && threads.length === 0) {
      opts.signal?.throwIfAborted();
      await sharpJobs.room();
      // Smaller batches towards the end, so the main thread never waits long for the last one.
      const size = Math.max(8, Math.min(READ_BATCH, Math.ceil((toDecode.length - next) / 8)));
      const batch = toDecode.slice(next, next + size);
      next += batch.length;
      reading.set(batch, performance.now());
      try {
        const reply = await reader.read(
          batch.map((i) => items[i].path),
          MAIN_SYNC_BYTES,
        );
        readBatches.push({ batch, reply, k: 0 });
      } catch {
        retry.push(...batch); // the reader stopped: the main thread reads these itself
        return;
      } finally {
        reading.delete(batch);
        readArrived?.();
      }
    }
  };
  /** Decodes the next file the reader has read, if any. */
  const decodeRead = (): boolean => {
    while (readBatches.length > 0) {
      const head = readBatches[0];
      while (head.k < head.batch.length) {
        const k = head.k++;
        const i = head.batch[k];
        if (settled[i]) continue;
        settle(i, decodeReadResult(head.reply.results[k], head.reply.bytes, pre, slot(i)));
        return true;
      }
      readBatches.shift();
    }
    return false;
  };
  /** Nothing else left: wait for the reader's batches, or take over the late ones. */
  const awaitReads = async () => {
    const oldest = Math.min(...reading.values());
    const wait = oldest + READ_WAIT_MS - performance.now();
    if (wait <= 0) {
      for (const [batch, asked] of reading) {
        if (asked !== oldest) continue;
        reading.delete(batch); // its reply, if it comes, finds these files settled
        retry.push(...batch.filter((i) => !settled[i]));
      }
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      readArrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    readArrived = undefined;
  };
  // The main thread decodes too, in slices between other events: from the start, while the
  // threads start (tens of milliseconds each), and alone when there are none.
  const onMainThread = async () => {
    for (;;) {
      opts.signal?.throwIfAborted();
      await sharpJobs.room();
      const until = performance.now() + MAIN_SLICE_MS;
      let i: number | undefined;
      for (;;) {
        if (!decodeRead()) {
          if ((i = nextForMain()) === undefined) break;
          settle(i, decodeFileFast(items[i].path, pre, MAIN_SYNC_BYTES, slot(i)));
        }
        if (performance.now() >= until || sharpJobs.full()) break;
      }
      if (i === undefined && readBatches.length === 0) {
        if (reading.size === 0) return;
        await awaitReads();
        continue;
      }
      decideThreads?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const pool = toDecode.length >= THREAD_MIN_FILES ? decodePool() : undefined;
  // One reader wherever there is a second core; its code is small, so it is useful within
  // milliseconds of starting (a decode thread needs ~100 ms more to compile its decoder).
  const reader = pool?.reader();
  const threads: DecodeThread[] = [];
  if (reader) for (let k = 0; k < READS_IN_FLIGHT; k++) void onReader(reader).catch(() => undefined);
  const onThread = async (thread: DecodeThread) => {
    if (!(await thread.online)) return;
    while (next < toDecode.length) {
      opts.signal?.throwIfAborted();
      await sharpJobs.room();
      // Smaller batches towards the end, so no one is left holding a long one.
      const left = toDecode.length - next;
      const size = Math.max(4, Math.min(THREAD_BATCH, Math.ceil(left / (4 * (threads.length + 1)))));
      const batch = toDecode.slice(next, next + size);
      next += batch.length;
      outstanding.add(batch);
      let reply;
      try {
        reply = await thread.decode(
          batch.map((i) => items[i].path),
          pre,
        );
      } catch {
        // The thread died: the main thread decodes these files.
        for (const i of batch) if (!settled[i]) settle(i, decodeFileFast(items[i].path, pre, MAIN_SYNC_BYTES, slot(i)));
        continue;
      } finally {
        outstanding.delete(batch);
      }
      for (let k = 0; k < batch.length; k++) {
        const out: ThreadOutcome = reply.outcomes[k];
        if ('ok' in out && out.ok) settle(batch[k], { ...out, pixels: reply.pixels.subarray(k * pixelBytes, (k + 1) * pixelBytes) });
        else settle(batch[k], out);
      }
    }
  };
  // Two batches in flight per thread, so none waits for its next.
  const feed = (started: DecodeThread[]) => {
    for (const thread of started.slice(threads.length)) {
      threads.push(thread);
      for (let k = 0; k < 2; k++) void onThread(thread).catch(() => undefined);
    }
  };
  // Threads cost tens of milliseconds to start and more to warm up, and only help where a core
  // is idle: LATENT_ATLAS_DECODE_THREADS starts them at once; otherwise threads still running
  // from an earlier load are used at once, and new ones start once the main thread has decoded
  // for a moment, when the rest would take it a while and cores sat idle meanwhile.
  let decideThreads: (() => void) | undefined;
  if (pool && (decodeThreadsGiven() !== undefined || pool.running().length > 0)) {
    feed(decodeThreadsGiven() === undefined ? pool.running() : pool.start());
  } else if (pool) {
    // Looked at again every few hundred milliseconds while none run: a long load starts threads
    // once cores free up.
    let cpusBefore = cpus();
    let readerBefore = reader?.utilization();
    let since = performance.now();
    let nextBefore = next;
    let wait = THREAD_DECISION_MS;
    decideThreads = () => {
      const elapsed = performance.now() - since;
      if (elapsed < wait) return;
      const rest = ((toDecode.length - next) * elapsed) / Math.max(1, next - nextBefore);
      // The reader's core counts as free: a decode thread takes its place (and reads for itself).
      const readerShare = reader && readerBefore ? performance.eventLoopUtilization(reader.utilization(), readerBefore).utilization : 0;
      const idle = Math.floor(idleCores(cpusBefore) + (Number.isFinite(readerShare) ? readerShare : 0) + 0.25);
      if (rest > THREAD_WORTH_MS && idle > 0) {
        decideThreads = undefined;
        feed(pool.start(idle));
      } else if (rest <= THREAD_WORTH_MS) {
        decideThreads = undefined;
      } else {
        [cpusBefore, readerBefore, since, nextBefore, wait] = [cpus(), reader?.utilization(), performance.now(), next, THREAD_RECHECK_MS];
      }
    };
  }

  try {
    // Done when the main thread finds nothing left: every file is decoded, here or by a thread.
    await onMainThread();
    await sharpJobs.idle();
    finished = true;
    opts.signal?.throwIfAborted();
  } catch (err) {
    finished = true;
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

/** At most `limit` jobs running at once; `room` waits while as many more are queued. */
class JobLimit {
  private running = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private waiters: (() => void)[] = [];
  private failure: unknown;

  constructor(private readonly limit: number) {}

  run(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  full(): boolean {
    return this.queue.length >= this.limit;
  }

  /** Resolves when fewer than `limit` jobs wait; rejects with the first job's failure. */
  async room(): Promise<void> {
    while (this.full() && this.failure === undefined) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Resolves when every job has finished. */
  async idle(): Promise<void> {
    while ((this.running > 0 || this.queue.length > 0) && this.failure === undefined) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private pump(): void {
    while (this.running < this.limit && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      job().then(
        () => this.finished(),
        (err: unknown) => {
          this.failure ??= err;
          this.finished();
        },
      );
    }
  }

  private finished(): void {
    this.running--;
    this.pump();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
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
