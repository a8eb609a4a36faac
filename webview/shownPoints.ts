// The points the explorer holds: every folder's points message merged into one set, the folders
// switched off, their projections (UMAP asked of the engine per folder) and which points the
// selection and the search pick out. No DOM: the explorer draws what this says.

import { packedNamesProblem } from '../src/protocol/pointNames';
import type { PointsMessage, PointTerms, ProjectPointsMessage } from '../src/protocol/webview';
import { pointsInPolygon, searchFileNames, type Point2 } from './core/hitTest';
import { hiddenMask, merge, withFolder, type PointSet } from './core/pointSet';
import type { Projection, ViewState } from './core/viewState';
import { ProjectionStore } from './projection';

export class ShownPoints {
  readonly projection = new ProjectionStore();
  /** Each folder's points message, in the order the folders came. */
  private folders: PointsMessage[] = [];
  /** Null until the first points message. */
  set: PointSet | null = null;
  /** 1 per point of a folder switched off, or null when every folder is shown. */
  hidden: Uint8Array | null = null;
  coords: Float32Array = new Float32Array(0);
  /** 1 per point inside the selection, or null without one. */
  selected: Uint8Array | null = null;
  /** Points (not switched off) whose names match the search. */
  matches: Uint32Array = new Uint32Array(0);
  /** UMAP requests in flight: the folder's points they were asked for. */
  private readonly umapRequests = new Map<number, PointsMessage>();

  /**
   * Takes one folder's points (see PointsMessage for what they replace); returns whether the view
   * should stay where it is (some folder shown before is still shown) and the hidden folders still shown.
   */
  receive(msg: PointsMessage, hiddenFolders: readonly string[]): { keepView: boolean; hiddenFolders: string[] } {
    const count = msg.labels.length;
    if (msg.mu.length !== count * msg.dims)
      throw new Error(`points message: mu holds ${msg.mu.length} values, expected ${count} files × ${msg.dims} dims`);
    const names = packedNamesProblem(msg.names, count);
    if (names) throw new Error(`points message for ${msg.folder}: ${names}`);
    const before = this.folders;
    this.folders = withFolder(before, msg);
    const keepView = this.set === null || this.folders.some((f) => before.some((b) => b.folder === f.folder));
    const kept = new Set(this.folders.filter((f) => before.includes(f)).map((f) => f.folder));
    this.set = merge(this.folders, msg.dims);
    const hidden = this.hide(hiddenFolders);
    this.projection.setPoints(this.set, kept);
    return { keepView, hiddenFolders: hidden };
  }

  /**
   * A shown folder's ELBO terms, arriving after its points: they fill in its points' figures (a new
   * set object, so what is drawn from the set is drawn again). False when that folder is not shown
   * or holds another number of points. Its points message keeps its identity: a UMAP under way for
   * it stays valid.
   */
  setTerms(folder: string, terms: PointTerms): boolean {
    const msg = this.folders.find((f) => f.folder === folder);
    const at = this.set?.folders.find((f) => f.folder === folder);
    if (!this.set || !msg || !at || terms.reconstruction.length !== at.count || terms.kl.length !== at.count) return false;
    msg.terms = terms;
    const n = this.set.labels.length;
    const all = this.set.terms
      ? { reconstruction: this.set.terms.reconstruction.slice(), kl: this.set.terms.kl.slice() }
      : { reconstruction: new Float32Array(n).fill(NaN), kl: new Float32Array(n).fill(NaN) };
    all.reconstruction.set(terms.reconstruction, at.start);
    all.kl.set(terms.kl, at.start);
    this.set = { ...this.set, terms: all };
    return true;
  }

  /** Switches off the given folders (others on); returns those among the folders shown. */
  hide(folders: readonly string[]): string[] {
    const shown = new Set(this.set?.folders.map((f) => f.folder));
    const hidden = folders.filter((f) => shown.has(f));
    this.hidden = this.set ? hiddenMask(this.set, new Set(hidden)) : null;
    return hidden;
  }

  /** The requests that ask the engine for the UMAP of every folder that lacks it and is not asked for yet. */
  umapRequestsFor(p: Projection, requestId: () => number): ProjectPointsMessage[] {
    if (p.kind !== 'umap' || !this.set || this.set.dims <= 2 || this.projection.hasUmap()) return [];
    const asked = new Set([...this.umapRequests.values()].filter((m) => this.folders.includes(m)).map((m) => m.folder));
    const out: ProjectPointsMessage[] = [];
    for (const folder of this.projection.umapMissing()) {
      const msg = this.folders.find((f) => f.folder === folder);
      if (!msg || asked.has(folder)) continue;
      const id = requestId();
      this.umapRequests.set(id, msg);
      out.push({ type: 'project', requestId: id, folder, method: 'umap' });
    }
    return out;
  }

  /**
   * A folder's UMAP arrived (an intermediate layout when `partial`: the request stays open); true
   * when every folder has one now (and it is for the points held).
   */
  onUmap(requestId: number, coords: Float32Array, partial = false): boolean {
    const asked = this.umapRequests.get(requestId);
    if (!partial) this.umapRequests.delete(requestId);
    // Asked for one folder's points: still good while that folder's points are the same.
    if (!asked || !this.folders.includes(asked)) return false;
    this.projection.setUmap(asked.folder, coords, partial);
    return this.projection.hasUmap();
  }

  forget(requestId: number): void {
    this.umapRequests.delete(requestId);
  }

  /** The 2-D coordinates of `p`, kept as `coords`. */
  project(p: Projection): Float32Array {
    return (this.coords = this.projection.coords(p).coords);
  }

  /** Which points the selection outline holds and the search matches. */
  pick(selection: Point2[] | null, search: string): void {
    this.selected = null;
    if (selection && this.set) {
      this.selected = new Uint8Array(this.coords.length / 2);
      for (const i of pointsInPolygon(this.coords, selection)) this.selected[i] = 1;
    }
    const hidden = this.hidden;
    const matches = this.set ? searchFileNames(this.set.names, search) : new Uint32Array(0);
    this.matches = hidden ? matches.filter((i) => !hidden[i]) : matches;
  }

  /** The toolbar's line: how many points (in how many folders), selected, matching; the projection's note. */
  describe(state: Pick<ViewState, 'isolate' | 'search' | 'projection'>, selectedCount: number): string {
    const folders = this.set?.folders.length ?? 0;
    const parts = [`${(this.set?.names.length ?? 0).toLocaleString()} points${folders > 1 ? ` in ${folders} folders` : ''}`];
    if (this.selected) parts.push(`${selectedCount.toLocaleString()} selected${state.isolate ? ' (isolated)' : ''}`);
    if (state.search.trim()) parts.push(`${this.matches.length.toLocaleString()} match “${state.search.trim()}”`);
    const note = this.projection.note(state.projection);
    if (note) parts.push(note);
    return parts.join(' · ');
  }
}
