// The files behind an explorer selection: which of them the webview may name (only points of an
// encoding it shows), where an exported selection goes (a numbered name that is neither a file nor
// a folder yet) and copying the original images into a new folder without overwriting anything.
// Pure Node, no 'vscode': unit-tested directly.

import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

/** One folder's part of a selection, as the webview names it. */
export interface SelectionPart {
  folder: string;
  /** Paths relative to the folder, '/'-separated. */
  names: string[];
}

/** One folder's selected files, absolute, checked against the encoding shown. */
export interface SelectedFiles {
  folder: string;
  files: string[];
}

/**
 * The absolute files of a selection. `shown` maps each shown folder to its encoded files; a part
 * naming a folder or a file that is not shown is refused (the webview names only what it was sent).
 */
export function selectedFiles(parts: readonly SelectionPart[], shown: ReadonlyMap<string, ReadonlySet<string>>): SelectedFiles[] {
  return parts.map((part) => {
    const files = shown.get(part.folder);
    if (!files) throw new Error(`The explorer named ${part.folder}, which it does not show. Encode the folder again.`);
    const abs = part.names.map((n) => join(part.folder, ...n.split('/')));
    const missing = abs.find((f) => !files.has(f));
    if (missing) throw new Error(`${missing} is not among the encoded images of ${part.folder}. Encode the folder again.`);
    return { folder: part.folder, files: abs };
  });
}

/** `<dir>/<stem>-NNN.csv` and `<dir>/<stem>-NNN/` for the first NNN that names neither; `dir` may not exist yet. */
export async function nextSelectionName(dir: string, stem = 'selection'): Promise<{ csv: string; folder: string }> {
  const taken = new Set(await fs.readdir(dir).catch(() => [] as string[]));
  for (let n = 1; ; n++) {
    const name = `${stem}-${String(n).padStart(3, '0')}`;
    if (!taken.has(name) && !taken.has(`${name}.csv`)) return { csv: join(dir, `${name}.csv`), folder: join(dir, name) };
  }
}

export interface CopyResult {
  /** The new folder holding the copies. */
  folder: string;
  copied: number;
  /** Files that could not be copied, and why; the others were copied all the same. */
  failed: { file: string; reason: string }[];
}

/**
 * Copies the selected images into a new folder `dest` (created here; an existing one is refused,
 * so nothing is ever overwritten), keeping each file's path below its folder. From several folders,
 * each goes below a sub-folder named after it (numbered when two share a name), so `train/cat/1.png`
 * and `test/cat/1.png` stay apart. One unreadable file does not stop the others.
 */
export async function copySelection(parts: readonly SelectedFiles[], dest: string): Promise<CopyResult> {
  await fs.mkdir(dirname(dest), { recursive: true });
  // Not recursive: fails with EEXIST rather than writing into a folder that is already there.
  await fs.mkdir(dest);
  const used = new Set<string>();
  const result: CopyResult = { folder: dest, copied: 0, failed: [] };
  for (const part of parts) {
    let base = dest;
    if (parts.length > 1) {
      let name = basename(part.folder) || 'folder';
      for (let k = 2; used.has(name); k++) name = `${basename(part.folder)}-${k}`;
      used.add(name);
      base = join(dest, name);
    }
    for (const file of part.files) {
      const target = join(base, relative(part.folder, file));
      try {
        await fs.mkdir(dirname(target), { recursive: true });
        await fs.copyFile(file, target, constants.COPYFILE_EXCL);
        result.copied++;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const reason = err.code === 'ENOENT' ? 'the file is gone (moved or deleted since it was encoded)' : err.message;
        result.failed.push({ file, reason });
      }
    }
  }
  return result;
}

/** Each file's absolute path, one per line, for the clipboard. */
export function pathList(parts: readonly SelectedFiles[]): string {
  return parts.flatMap((p) => p.files).join('\n');
}
