// An in-process layer over the cache's pack files. The two most recently used packs stay in
// memory while in use (released after 10 s idle), so a folder loaded in chunks (the worker
// encodes 512 files at a time) is not re-read and re-hashed per chunk; and partial loads write the pack once it has grown by a quarter (or a
// second after the last chunk), not after every chunk: disk traffic linear in the folder size
// instead of quadratic. Another process's write is noticed by the file's size and mtime.
import { promises as fs } from 'node:fs';
import type { Preprocessing } from '../../protocol/model';
import { readPack, writePack, type CacheEntry } from './cache';

interface HeldPack {
  file: string;
  root: string;
  pre: Preprocessing;
  entries: Map<string, CacheEntry>;
  /** Size and mtime of the file when last read or written here. */
  stamp: string | null;
  /** Keys added in memory and not yet on disk. */
  unwritten: Set<string>;
  maxBytes: number;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

const HELD_PACKS = 2;
const GROWTH_BEFORE_WRITE = 0.25;
const FLUSH_DELAY_MS = 1000;
/** A pack unused this long leaves memory (its pixels can be as large as the data set). */
const IDLE_RELEASE_MS = 10_000;
const held = new Map<string, HeldPack>(); // insertion order = least recently used first

async function stampOf(file: string): Promise<string | null> {
  const st = await fs.stat(file).catch(() => null);
  return st ? `${st.size}:${st.mtimeMs}` : null;
}

async function remember(pack: HeldPack): Promise<void> {
  held.delete(pack.file);
  held.set(pack.file, pack);
  clearTimeout(pack.idle);
  pack.idle = setTimeout(() => void release(pack), IDLE_RELEASE_MS);
  pack.idle.unref();
  while (held.size > HELD_PACKS) await release(held.values().next().value!);
}

async function release(pack: HeldPack): Promise<void> {
  clearTimeout(pack.idle);
  if (held.get(pack.file) === pack) held.delete(pack.file);
  await flush(pack);
}

/** The pack's entries: from memory when the file did not change since, else from disk. */
export async function openPack(file: string, root: string, pre: Preprocessing, maxBytes: number): Promise<Map<string, CacheEntry>> {
  const mine = held.get(file);
  const stamp = await stampOf(file);
  if (mine && mine.stamp === stamp) {
    await remember(mine);
    return mine.entries;
  }
  const entries = await readPack(file, root, pre);
  // Entries this process has not written yet survive another writer's newer file.
  if (mine) for (const key of mine.unwritten) entries.set(key, mine.entries.get(key)!);
  await remember({
    file,
    root,
    pre,
    entries,
    stamp: await stampOf(file),
    unwritten: mine?.unwritten ?? new Set(),
    maxBytes,
    timer: mine?.timer,
  });
  return entries;
}

/**
 * Records the pack's new entries. A complete load (a whole folder) is written now; a partial one
 * when enough is new, else shortly after.
 */
export async function savePack(
  file: string,
  root: string,
  pre: Preprocessing,
  entries: Map<string, CacheEntry>,
  added: Iterable<string>,
  complete: boolean,
  maxBytes: number,
): Promise<void> {
  const pack = held.get(file) ?? { file, root, pre, entries, stamp: null, unwritten: new Set<string>(), maxBytes };
  pack.entries = entries;
  pack.maxBytes = maxBytes;
  for (const key of added) pack.unwritten.add(key);
  await remember(pack);
  const onDisk = entries.size - pack.unwritten.size;
  if (complete || pack.unwritten.size >= Math.max(1, onDisk * GROWTH_BEFORE_WRITE)) {
    await flush(pack, true);
  } else {
    // A second after the last chunk: each save puts it off again, so chunks that keep coming are
    // written only as the pack grows, not once a second.
    clearTimeout(pack.timer);
    pack.timer = setTimeout(() => void flush(pack), FLUSH_DELAY_MS);
    pack.timer.unref(); // never keeps a finished CLI alive; the worker process lives on and flushes
  }
}

async function flush(pack: HeldPack, force = false): Promise<void> {
  clearTimeout(pack.timer);
  pack.timer = undefined;
  if (pack.unwritten.size === 0 && !force) return;
  const writing = [...pack.unwritten];
  await writePack(pack.file, pack.root, pack.pre, pack.entries, pack.maxBytes);
  for (const key of writing) pack.unwritten.delete(key);
  pack.stamp = await stampOf(pack.file);
}

/** Writes every pack with entries not yet on disk (e.g. before a process exits). */
export async function flushImageCache(): Promise<void> {
  for (const pack of [...held.values()]) await flush(pack);
}

/** Writes what is pending and lets go of the packs held in memory. */
export async function releaseImageCache(): Promise<void> {
  for (const pack of [...held.values()]) await release(pack);
}
