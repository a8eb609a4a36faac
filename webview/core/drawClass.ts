// Which points are drawn, and how: hidden (label or folder switched off, or outside an isolated
// selection), dimmed (outside the selection or not matching the search) or in full colour.

export const HIDDEN = 0;
export const DIM = 1;
export const FULL = 2;

export interface DrawClassInput {
  labels: ArrayLike<number>;
  hiddenLabels: ReadonlySet<number>;
  /** 1 per point of a folder switched off, or null when every folder is shown. */
  hiddenPoints?: Uint8Array | null;
  /** 1 per selected point, or null with no selection. */
  selected: Uint8Array | null;
  /** Indices matching the search, or null when not searching. */
  matches: Uint32Array | null;
  isolate: boolean;
}

export function drawClasses(input: DrawClassInput): { cls: Uint8Array; selectedCount: number } {
  const { labels, hiddenLabels, hiddenPoints, selected: sel, matches, isolate } = input;
  const n = labels.length;
  const cls = new Uint8Array(n);
  const match = matches ? new Uint8Array(n) : null;
  if (match && matches) for (const i of matches) match[i] = 1;
  const isolating = isolate && sel !== null;
  let selectedCount = 0;
  for (let i = 0; i < n; i++) {
    if (hiddenPoints?.[i]) {
      cls[i] = HIDDEN;
      continue;
    }
    const inSel = sel ? sel[i] === 1 : true;
    if (sel && inSel) selectedCount++;
    if (hiddenLabels.has(labels[i]) || (isolating && !inSel)) cls[i] = HIDDEN;
    else if ((sel && !inSel) || (match && !match[i])) cls[i] = DIM;
    else cls[i] = FULL;
  }
  return { cls, selectedCount };
}
