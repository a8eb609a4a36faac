// Recursive scan of an image folder: images by extension, hidden entries and node_modules
// skipped, symbolic links followed without ever looping, deterministic order.
import { Stats, promises as fs, stat } from 'node:fs';
import type { Dirent } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { FileProblem } from '../../protocol/engine';
import { IMAGE_EXTENSIONS, compareCodeUnits, sortByCodeUnits, type ImageFile, type ScanResult } from './types';
import { EngineError } from '../../protocol/errors';

const imageExtensions = new Set<string>(IMAGE_EXTENSIONS);

export function isImageName(name: string): boolean {
  return imageExtensions.has(extname(name).toLowerCase());
}

function isSkippedName(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'it no longer exists';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return code ? `${(err as Error).message}` : String(err);
  }
}

export interface ScanOptions {
  signal?: AbortSignal;
  /**
   * false: images' sizes and times are not read (NaN), for a caller that reads them when it opens
   * each file anyway; one system call per image less, and the scan does not wait for them.
   */
  stat?: boolean;
}

/** A folder's path joined with an entry's name (no separators in it): `join` without its normalising. */
function child(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

export async function scanFolder(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const absRoot = resolve(root);
  let rootReal: string;
  try {
    const st = await fs.stat(absRoot);
    if (!st.isDirectory())
      throw new EngineError(
        'no-images',
        `No usable images in ${absRoot}: it is a file, not a folder. Choose the folder that holds the images.`,
      );
    rootReal = await fs.realpath(absRoot);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError('no-images', `No usable images in ${absRoot}: the folder cannot be opened (${describeFsError(err)}).`);
  }

  const found: ImageFile[] = [];
  const withStats = opts.stat !== false;
  const problems: FileProblem[] = [];
  const visited = new Set<string>([rootReal]);
  const otherExtensions = new Set<string>();
  let otherCount = 0;

  // Depth-first over sorted names: which of two paths to the same folder wins is deterministic.
  // `rel`: the folder relative to the root ('' for the root), built as the walk descends.
  async function walk(dir: string, rel: string): Promise<void> {
    opts.signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ file: dir, reason: `folder skipped: cannot be read (${describeFsError(err)})` });
      return;
    }
    entries.sort((a, b) => compareCodeUnits(a.name, b.name));
    const imageNames: string[] = [];
    for (const entry of entries) {
      if (isSkippedName(entry.name)) continue;
      const path = child(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await fs.stat(path);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch (err) {
          if (isImageName(entry.name)) problems.push({ file: path, reason: `broken symbolic link (${describeFsError(err)})` });
          continue;
        }
      }
      if (isDir) {
        let real: string;
        try {
          real = await fs.realpath(path);
        } catch (err) {
          problems.push({ file: path, reason: `folder skipped: cannot be resolved (${describeFsError(err)})` });
          continue;
        }
        if (visited.has(real)) continue; // a link back to a folder already scanned: no loop, no duplicates
        visited.add(real);
        await walk(path, rel === '' ? entry.name : rel + sep + entry.name);
      } else if (isFile) {
        if (isImageName(entry.name)) {
          imageNames.push(entry.name);
        } else {
          otherCount++;
          otherExtensions.add(extname(entry.name).toLowerCase() || '(no extension)');
        }
      }
    }
    const label = rel === '' ? null : rel.split(sep)[0];
    const add = (name: string, size: number, mtimeMs: number) =>
      found.push({ path: child(dir, name), rel: rel === '' ? name : rel + sep + name, label, size, mtimeMs });
    if (!withStats) {
      for (const name of imageNames) add(name, NaN, NaN);
      return;
    }
    // Sizes and times of a folder's images are read together: large folders scan much faster.
    // The callback form: fs.promises.stat costs ~3× more per file (10k files: 0.3 s against 0.1 s).
    const stats = await Promise.all(
      imageNames.map((name) => new Promise<Stats | NodeJS.ErrnoException>((done) => stat(child(dir, name), (err, st) => done(err ?? st)))),
    );
    imageNames.forEach((name, i) => {
      const st = stats[i];
      if (!(st instanceof Stats)) problems.push({ file: child(dir, name), reason: `cannot be read (${describeFsError(st)})` });
      else add(name, st.size, st.mtimeMs);
    });
  }

  await walk(absRoot, '');
  const files = sortByCodeUnits(found, (f) => f.rel);
  const labelNames = [...new Set(files.map((f) => f.label).filter((l): l is string => l !== null))].sort(compareCodeUnits);
  return {
    files,
    problems,
    labelNames,
    otherFiles: { count: otherCount, extensions: [...otherExtensions].sort(compareCodeUnits) },
  };
}
