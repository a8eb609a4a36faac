// The side panel's requests to the host and their replies: interpolation strips, decoded grids,
// samples, reconstructions and saves. Replies are matched to what was asked by request id; what
// they show is kept in the view state (so a rebuilt page shows it again) and painted from there. A
// save names the images by the latents (and label) they were decoded from; the engine decodes them
// again where it writes the files, so no pixels travel back.

import type { ImageBatch } from '../src/protocol/engine';
import type { PointFile, ReconstructionMessage, SampleLatentsMessage } from '../src/protocol/webview';
import { baseName } from './core/hitTest';
import { interpolationLatents } from './core/interpolate';
import { sliceBatch } from './core/pixels';
import { loadBatch, storeBatch, type DecodedFrom, type GridSave, type ShownImages } from './core/storedImages';
import { host } from './host';
import type { ImagesPanel } from './imagesPanel';

type Pending =
  | ({ kind: 'strip'; steps: number } & DecodedFrom)
  | { kind: 'grid'; title: string; cols: number; save: GridSave }
  | { kind: 'samples'; label?: number }
  | ({ kind: 'reconstruct' } & PointFile)
  | { kind: 'save' };

export interface ImageRequestsHost {
  /** Posts a decode, adding the conditioning label when the model has one; returns that label. */
  decode(requestId: number, latents: Float32Array): number | undefined;
  /** A hint (what to do first) or an error. */
  message(kind: 'info' | 'error', text: string): void;
  /** A save's reply: the files written and their folder. */
  saved(files: string[], folder: string): void;
  /** A label name's index in the model's labels (for samples by label). */
  labelIndex(name: string): number;
  /** What the panel shows, kept in the view state, and its replacement. */
  shown(): ShownImages;
  setShown(patch: Partial<ShownImages>): void;
}

export class ImageRequests {
  private readonly pending = new Map<number, Pending>();
  /** Only the newest reconstruction asked for is shown: an older reply is of another point. */
  private latestReconstruct = 0;

  constructor(
    private readonly images: ImagesPanel,
    private readonly host: ImageRequestsHost,
  ) {}

  /** Lerp and slerp strips between two latents, decoded in one request. */
  strip(a: number[], b: number[], steps: number): void {
    const lerp = interpolationLatents(a, b, steps, 'lerp');
    const slerp = interpolationLatents(a, b, steps, 'slerp');
    const both = new Float32Array(lerp.length * 2);
    both.set(lerp);
    both.set(slerp, lerp.length);
    const pending: Pending & DecodedFrom = { kind: 'strip', steps, latents: Array.from(both) };
    const label = this.host.decode(this.ask(pending), both);
    if (label !== undefined) pending.label = label;
  }

  /** A grid of `cols` images per row; `save` names the rows and the files a save writes. */
  grid(title: string, latents: Float32Array, cols: number, save: Omit<GridSave, 'latents' | 'label'>): void {
    const pending: Pending = { kind: 'grid', title, cols, save: { ...save, latents: Array.from(latents) } };
    const label = this.host.decode(this.ask(pending), latents);
    if (label !== undefined) pending.save.label = label;
  }

  reconstruct(point: PointFile): void {
    this.latestReconstruct = this.ask({ kind: 'reconstruct', ...point });
    host.post({ type: 'reconstruct', requestId: this.latestReconstruct, ...point });
  }

  sample(count: number, mode: SampleLatentsMessage['mode']): void {
    const label = mode.kind === 'label' ? this.host.labelIndex(mode.label) : -1;
    host.post({ type: 'sample', requestId: this.ask({ kind: 'samples', ...(label >= 0 ? { label } : {}) }), count, mode });
  }

  saveStrip(): void {
    const strip = this.host.shown().strip;
    if (strip) this.save(strip, 'interpolation');
    else this.host.message('info', 'Decode a strip first: shift-click two points, then Decode strip.');
  }

  saveGrid(): void {
    const grid = this.host.shown().grid;
    if (grid?.save) this.save(grid.save, grid.save.baseName, grid.save.rows);
    else this.host.message('info', 'Decode a grid first: Traverse dimensions, or the prior grid of a 2-D model.');
  }

  saveSamples(): void {
    const samples = this.host.shown().samples;
    if (samples) this.save(samples, 'sample');
    else this.host.message('info', 'Sample first: Sample from prior, around the pinned point, or for a label.');
  }

  /** Returns false for ids this did not ask for. `latents` come with samples: the ones drawn. */
  onImages(id: number, batch: ImageBatch, latents?: Float32Array): boolean {
    const p = this.take(id);
    if (!p) return false;
    const label = (q: { label?: number }) => (q.label !== undefined ? { label: q.label } : {});
    if (p.kind === 'strip') {
      this.host.setShown({ strip: { latents: p.latents, ...label(p), steps: p.steps, images: storeBatch(batch) } });
    } else if (p.kind === 'grid') {
      this.host.setShown({ grid: { title: p.title, cols: p.cols, images: storeBatch(batch), save: p.save } });
    } else if (p.kind === 'samples') {
      // Without the drawn latents the samples could not be saved: they are shown, not kept.
      if (latents) this.host.setShown({ samples: { latents: Array.from(latents), ...label(p), images: storeBatch(batch) } });
      else {
        this.host.setShown({ samples: null });
        this.images.showSamples(batch);
        return true;
      }
    }
    this.show(this.host.shown());
    return true;
  }

  onReconstruction(msg: ReconstructionMessage): void {
    const asked = this.take(msg.requestId);
    if (asked?.kind !== 'reconstruct' || msg.requestId !== this.latestReconstruct || msg.name !== asked.name) return;
    const r = msg.result;
    if (r.originals.count === 0) {
      this.host.message('error', r.skipped[0]?.reason ?? `Could not reconstruct ${baseName(msg.name)}.`);
      return;
    }
    this.host.setShown({
      reconstruction: {
        folder: asked.folder,
        name: asked.name,
        original: storeBatch(sliceBatch(r.originals, 0, 1)),
        reconstruction: storeBatch(sliceBatch(r.reconstructions, 0, 1)),
        terms: r.terms?.[0] ?? null,
      },
    });
    this.show(this.host.shown());
  }

  onSaved(requestId: number, files: string[], folder: string): void {
    this.take(requestId);
    this.host.saved(files, folder);
  }

  forget(requestId: number): void {
    this.pending.delete(requestId);
  }

  /** Drops every request in flight: their replies (from another model) are not shown. */
  forgetAll(): void {
    this.pending.clear();
    this.latestReconstruct = 0;
  }

  /** Paints what the state says the panel shows (after a reload, or a model change that cleared it). */
  show(shown: ShownImages): void {
    const strip = shown.strip && loadBatch(shown.strip.images);
    if (strip && shown.strip) {
      const steps = shown.strip.steps;
      this.images.showStrips(sliceBatch(strip, 0, steps), sliceBatch(strip, steps, strip.count - steps));
    } else this.images.clearStrips();
    const samples = shown.samples && loadBatch(shown.samples.images);
    if (samples) this.images.showSamples(samples);
    else this.images.clearSamples();
    const r = shown.reconstruction;
    const original = r && loadBatch(r.original);
    const recon = r && loadBatch(r.reconstruction);
    if (r && original && recon) this.images.showReconstruction(r.name, original, recon, r.terms ?? undefined);
    else this.images.clearReconstruction();
    const grid = shown.grid && loadBatch(shown.grid.images);
    if (grid && shown.grid) this.images.showGrid(shown.grid.title, grid, shown.grid.cols);
    else this.images.clearGrid();
  }

  private save(what: DecodedFrom, name: string, rows?: string[]): void {
    const latents = Float32Array.from(what.latents);
    host.post({
      type: 'saveImages',
      requestId: this.ask({ kind: 'save' }),
      latents,
      ...(what.label !== undefined ? { label: what.label } : {}),
      baseName: name,
      ...(rows ? { rows } : {}),
    });
  }

  private ask(p: Pending): number {
    const id = host.requestId();
    this.pending.set(id, p);
    return id;
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }
}
