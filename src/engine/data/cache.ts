// The uint8 cache: decoded pixels per (folder, preprocessing), one pack file holding every image
// of the folder keyed by relative path, size and mtime, so a re-run decodes nothing and a
// changed file is decoded alone. Writes are atomic; a damaged pack is ignored and rebuilt.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Preprocessing } from '../../protocol/model';

const MAGIC = Buffer.from('LATATLC1', 'latin1');
const FORMAT_VERSION = 1;
export const DEFAULT_CACHE_MAX_BYTES = 2 * 1024 ** 3;
/** Temporary files older than this were left by a crashed writer. */
const STALE_TMP_MS = 60 * 60 * 1000;

export interface CacheEntry {
  size: number;
  mtimeMs: number;
  /** Decoded pixels, or the reason the file's content cannot be used. */
  pixels?: Uint8Array;
  problem?: string;
}

interface PackHeader {
  version: number;
  root: string;
  pre: Preprocessing;
  blobSha256: string;
  /** [relative path, size, mtimeMs, index into the blob or −1, problem] */
  entries: [string, number, number, number, string | null][];
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'latent-atlas');
}

function packsDir(cacheDir: string): string {
  return join(cacheDir, `images-v${FORMAT_VERSION}`);
}

export function packPath(cacheDir: string, root: string, pre: Preprocessing): string {
  const key = JSON.stringify([root, pre.width, pre.height, pre.channels, pre.fit]);
  return join(packsDir(cacheDir), `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.pack`);
}

function samePre(a: Preprocessing, b: Preprocessing): boolean {
  return a.width === b.width && a.height === b.height && a.channels === b.channels && a.fit === b.fit;
}

/** The pack's entries, or an empty map when it is missing, damaged or for other data. */
export async function readPack(file: string, root: string, pre: Preprocessing): Promise<Map<string, CacheEntry>> {
  const entries = new Map<string, CacheEntry>();
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch {
    return entries;
  }
  try {
    if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return entries;
    const headerLength = buf.readUInt32LE(MAGIC.length);
    const blobStart = MAGIC.length + 4 + headerLength;
    if (blobStart > buf.length) return entries;
    const header = JSON.parse(buf.subarray(MAGIC.length + 4, blobStart).toString('utf8')) as PackHeader;
    if (header.version !== FORMAT_VERSION || header.root !== root || !samePre(header.pre, pre)) return entries;
    const blob = buf.subarray(blobStart);
    if (createHash('sha256').update(blob).digest('hex') !== header.blobSha256) return entries;
    const pixelBytes = pre.width * pre.height * pre.channels;
    for (const [rel, size, mtimeMs, index, problem] of header.entries) {
      if (index >= 0) {
        if ((index + 1) * pixelBytes > blob.length) return new Map();
        entries.set(rel, { size, mtimeMs, pixels: blob.subarray(index * pixelBytes, (index + 1) * pixelBytes) });
      } else if (typeof problem === 'string') {
        entries.set(rel, { size, mtimeMs, problem });
      }
    }
    // Touch it: eviction removes the least recently used packs first.
    const now = new Date();
    await fs.utimes(file, now, now).catch(() => undefined);
    return entries;
  } catch {
    return new Map();
  }
}

/** Writes the pack atomically (temporary name, then rename), then trims the cache to its bound. */
/** Images per writev call (IOV_MAX is 1024 on Linux; libuv splits larger calls itself). */
const WRITE_GROUP = 1024;

export async function writePack(
  file: string,
  root: string,
  pre: Preprocessing,
  entries: Map<string, CacheEntry>,
  maxBytes: number,
): Promise<void> {
  const pixelBytes = pre.width * pre.height * pre.channels;
  // The images are written from where they are, not copied into one blob first: a fresh buffer
  // the size of the data set costs a page fault per 4 KiB on first touch (~30 ms for 10,000
  // 28×28 images on the test machine, seconds for a million).
  const images: Uint8Array[] = [];
  const blobHash = createHash('sha256');
  const rows: PackHeader['entries'] = [];
  for (const [rel, e] of entries) {
    if (e.pixels) {
      if (e.pixels.length !== pixelBytes) continue; // never made so; left out rather than shift every image after it
      blobHash.update(e.pixels);
      rows.push([rel, e.size, e.mtimeMs, images.length, null]);
      images.push(e.pixels);
    } else if (e.problem !== undefined) {
      rows.push([rel, e.size, e.mtimeMs, -1, e.problem]);
    }
  }
  const header: PackHeader = {
    version: FORMAT_VERSION,
    root,
    pre,
    blobSha256: blobHash.digest('hex'),
    entries: rows,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const total = MAGIC.length + 4 + headerBytes.length + images.length * pixelBytes;
  if (total > maxBytes) return; // a folder larger than the whole bound is not cached

  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.mkdir(dirname(file), { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      let written = (await handle.writev([MAGIC, length, headerBytes])).bytesWritten;
      for (let k = 0; k < images.length; k += WRITE_GROUP) written += (await handle.writev(images.slice(k, k + WRITE_GROUP))).bytesWritten;
      if (written !== total) throw new Error('short write');
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    return; // a cache that cannot be written only costs time
  }
  await evict(dirname(file), maxBytes, file);
}

/** Removes least recently used packs (and stale temporary files) until the folder fits `maxBytes`. */
async function evict(dir: string, maxBytes: number, keep: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  const packs: { path: string; size: number; mtimeMs: number }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = await fs.stat(path).catch(() => null);
    if (!st?.isFile()) continue;
    if (name.includes('.tmp-')) {
      if (now - st.mtimeMs > STALE_TMP_MS) await fs.rm(path, { force: true }).catch(() => undefined);
      continue;
    }
    if (name.endsWith('.pack') || name.endsWith('.choice.json')) packs.push({ path, size: st.size, mtimeMs: st.mtimeMs });
  }
  let total = packs.reduce((s, p) => s + p.size, 0);
  packs.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const p of packs) {
    if (total <= maxBytes) break;
    if (p.path === keep) continue;
    await fs.rm(p.path, { force: true }).catch(() => undefined);
    total -= p.size;
  }
}

/**
 * The preprocessing chosen for a folder, remembered so a warm load does not probe 200 images
 * again: one small file per folder, valid while the folder's listing (`listingKey`) is unchanged.
 */
function choicePath(cacheDir: string, root: string): string {
  return join(packsDir(cacheDir), `${createHash('sha256').update(root).digest('hex').slice(0, 32)}.choice.json`);
}

export async function readChoice(cacheDir: string, root: string, listingKey: string): Promise<Preprocessing | null> {
  try {
    const saved = JSON.parse(await fs.readFile(choicePath(cacheDir, root), 'utf8')) as {
      root: string;
      listingKey: string;
      pre: Preprocessing;
    };
    return saved.root === root && saved.listingKey === listingKey ? saved.pre : null;
  } catch {
    return null;
  }
}

export async function writeChoice(cacheDir: string, root: string, listingKey: string, pre: Preprocessing): Promise<void> {
  const file = choicePath(cacheDir, root);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.mkdir(dirname(file), { recursive: true });
    await fs.writeFile(tmp, JSON.stringify({ root, listingKey, pre }));
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
