// Every folder shown at once: the folders' points messages merged into one set the scatter, the
// projections and the lists work on, each point knowing its folder. A folder's points come in one
// message; a new message for the same folder replaces its points and keeps its place. Pure: no DOM.

import { packNames, PointNames, type NameList } from '../../src/protocol/pointNames';
import type { PointFile, PointsMessage, PointTerms } from '../../src/protocol/webview';
import { pointUri } from '../../src/protocol/webview';

/** What the figures, colours and projections read of the points (one label per point: `labels.length` of them). */
export type PointData = Pick<PointsMessage, 'labels' | 'labelNames' | 'dims' | 'mu' | 'terms' | 'meanSigma'>;

export interface ShownFolder {
  folder: string;
  folderUri: string;
  /** How a person calls it (relative to the workspace), for the folder legend. */
  title: string;
  /** Its points are start … start + count − 1 of the set. */
  start: number;
  count: number;
}

export interface PointSet extends PointData {
  /** Each point's file relative to its folder, decoded when asked for. */
  names: NameList;
  folders: ShownFolder[];
  /** Per point, its folder's index in `folders`. */
  folderOf: Uint16Array;
}

/** A points message that clears every folder. */
export const NO_POINTS: PointsMessage = {
  type: 'points',
  replace: 'all',
  folder: '',
  folderUri: '',
  names: packNames([]),
  labels: new Int32Array(0),
  labelNames: [],
  dims: 0,
  mu: new Float32Array(0),
};

/** The last path segment of a folder, for a folder sent without a title. */
function lastSegment(folder: string): string {
  const parts = folder.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? folder;
}

/**
 * The folders after `msg`: its folder's points replaced (or the folder added at the end); with
 * `replace: 'all'` (or an empty folder name, which means "no points") the other folders dropped.
 * Folders of another latent size cannot be shown together: the new one replaces them.
 */
export function withFolder(folders: readonly PointsMessage[], msg: PointsMessage): PointsMessage[] {
  const empty = msg.folder === '' || msg.labels.length === 0;
  if (msg.folder === '') return [];
  const others = msg.replace === 'all' ? [] : folders.filter((f) => f.dims === msg.dims);
  const at = others.findIndex((f) => f.folder === msg.folder);
  if (at >= 0) {
    const next = [...others];
    if (empty) next.splice(at, 1);
    else next[at] = msg;
    return next;
  }
  return empty ? others : [...others, msg];
}

/**
 * One set of the folders' points, in folder order. Labels are merged by name: folders whose
 * sub-folders are the run's classes share the run's label list, so a class keeps its colour in
 * every folder; a folder with labels of its own adds them after the others'. A figure some folders
 * lack is NaN for their points (drawn and listed as "no value").
 */
export function merge(folders: readonly PointsMessage[], dims = folders[0]?.dims ?? 0): PointSet {
  const n = folders.reduce((s, f) => s + f.labels.length, 0);
  const labelNames: string[] = [];
  const labelIndex = new Map<string, number>();
  const labels = new Int32Array(n);
  const mu = new Float32Array(n * dims);
  const folderOf = new Uint16Array(n);
  const hasTerms = folders.some((f) => f.terms);
  const hasSigma = folders.some((f) => f.meanSigma);
  const terms: PointTerms | null = hasTerms ? { reconstruction: new Float32Array(n).fill(NaN), kl: new Float32Array(n).fill(NaN) } : null;
  const meanSigma = hasSigma ? new Float32Array(n).fill(NaN) : undefined;
  const shown: ShownFolder[] = [];
  let start = 0;
  folders.forEach((f, k) => {
    const count = f.labels.length;
    const remap = f.labelNames.map((name) => {
      let i = labelIndex.get(name);
      if (i === undefined) {
        labelIndex.set(name, (i = labelNames.length));
        labelNames.push(name);
      }
      return i;
    });
    for (let i = 0; i < count; i++) {
      const l = f.labels[i];
      labels[start + i] = l >= 0 && l < remap.length ? remap[l] : -1;
    }
    folderOf.fill(k, start, start + count);
    mu.set(f.mu.subarray(0, count * dims), start * dims);
    if (terms && f.terms && f.terms.reconstruction.length === count && f.terms.kl.length === count) {
      terms.reconstruction.set(f.terms.reconstruction, start);
      terms.kl.set(f.terms.kl, start);
    }
    if (meanSigma && f.meanSigma?.length === count) meanSigma.set(f.meanSigma, start);
    shown.push({ folder: f.folder, folderUri: f.folderUri, title: f.title || lastSegment(f.folder), start, count });
    start += count;
  });
  const names = new SetNames(
    folders.map((f) => new PointNames(f.names)),
    shown.map((f) => f.start),
    folderOf,
  );
  return { names, labels, labelNames, dims, mu, terms, ...(meanSigma ? { meanSigma } : {}), folders: shown, folderOf };
}

/** The set's names: point i's is its folder's name i − start, so merging folders copies no names. */
class SetNames implements NameList {
  readonly length: number;

  constructor(
    private readonly lists: readonly PointNames[],
    private readonly starts: readonly number[],
    private readonly folderOf: Uint16Array,
  ) {
    this.length = folderOf.length;
  }

  at(i: number): string {
    const k = this.folderOf[i];
    if (k === undefined) throw new RangeError(`point ${i} of ${this.length}`);
    return this.lists[k].at(i - this.starts[k]);
  }
}

/** Point i's file: its folder and name. */
export function pointFile(set: PointSet, i: number): PointFile {
  return { folder: set.folders[set.folderOf[i]].folder, name: set.names.at(i) };
}

/** Point i's image, through its folder's webview URI. */
export function pointImage(set: PointSet, i: number): string {
  return pointUri(set.folders[set.folderOf[i]].folderUri, set.names.at(i));
}

/** Each folder's points by name, made once per set. */
const byName = new WeakMap<PointSet, Map<string, Map<string, number>>>();

/** The index of a file among the set's points, or −1 when its folder or name is not shown. */
export function findPoint(set: PointSet, file: PointFile): number {
  let folders = byName.get(set);
  if (!folders) {
    folders = new Map();
    for (const f of set.folders) {
      const names = new Map<string, number>();
      for (let i = f.start; i < f.start + f.count; i++) names.set(set.names.at(i), i);
      folders.set(f.folder, names);
    }
    byName.set(set, folders);
  }
  return folders.get(file.folder)?.get(file.name) ?? -1;
}

/** 1 per point whose folder is hidden (null when none is). */
export function hiddenMask(set: PointSet, hidden: ReadonlySet<string>): Uint8Array | null {
  if (!set.folders.some((f) => hidden.has(f.folder))) return null;
  const mask = new Uint8Array(set.names.length);
  for (const f of set.folders) if (hidden.has(f.folder)) mask.fill(1, f.start, f.start + f.count);
  return mask;
}
