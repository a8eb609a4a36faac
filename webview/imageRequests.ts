// The side panel's requests to the host and their replies: interpolation strips, decoded grids,
// samples, reconstructions and saves. Replies are matched to what was asked by request id. A save
// names the images by the latents (and label) they were decoded from; the engine decodes them
// again where it writes the files, so no pixels travel back.

import type { ImageBatch } from '../src/protocol/engine';
import type { PointFile, ReconstructionMessage, SampleLatentsMessage } from '../src/protocol/webview';
import { baseName } from './core/hitTest';
import { interpolationLatents } from './core/interpolate';
import { sliceBatch } from './core/pixels';
import { host } from './host';
import type { ImagesPanel } from './imagesPanel';

/** What a shown batch was decoded from: enough to save it. */
interface Decoded {
  latents: Float32Array;
  label?: number;
}

type Pending =
  | ({ kind: 'strip'; steps: number } & Decoded)
  | { kind: 'grid'; title: string; cols: number }
  | { kind: 'samples'; label?: number }
  | { kind: 'reconstruct' }
  | { kind: 'save' };

export class ImageRequests {
  private readonly pending = new Map<number, Pending>();
  private lastStrip: Decoded | null = null;
  private lastSamples: Decoded | null = null;

  constructor(
    private readonly images: ImagesPanel,
    /** Posts a decode, adding the conditioning label when the model has one; returns that label. */
    private readonly decode: (requestId: number, latents: Float32Array) => number | undefined,
    private readonly message: (text: string) => void,
    /** A label name's index in the model's labels (for samples by label). */
    private readonly labelIndex: (name: string) => number,
  ) {}

  /** Lerp and slerp strips between two latents, decoded in one request. */
  strip(a: number[], b: number[], steps: number): void {
    const lerp = interpolationLatents(a, b, steps, 'lerp');
    const slerp = interpolationLatents(a, b, steps, 'slerp');
    const both = new Float32Array(lerp.length * 2);
    both.set(lerp);
    both.set(slerp, lerp.length);
    const pending: Pending & Decoded = { kind: 'strip', steps, latents: both };
    const label = this.decode(this.ask(pending), both);
    if (label !== undefined) pending.label = label;
  }

  grid(title: string, latents: Float32Array, cols: number): void {
    this.decode(this.ask({ kind: 'grid', title, cols }), latents);
  }

  reconstruct(point: PointFile): void {
    host.post({ type: 'reconstruct', requestId: this.ask({ kind: 'reconstruct' }), ...point });
  }

  sample(count: number, mode: SampleLatentsMessage['mode']): void {
    const label = mode.kind === 'label' ? this.labelIndex(mode.label) : -1;
    host.post({ type: 'sample', requestId: this.ask({ kind: 'samples', ...(label >= 0 ? { label } : {}) }), count, mode });
  }

  saveStrip(): void {
    if (this.lastStrip) this.save(this.lastStrip, 'interpolation');
  }

  saveSamples(): void {
    if (this.lastSamples) this.save(this.lastSamples, 'sample');
  }

  /** Returns false for ids this did not ask for. `latents` come with samples: the ones drawn. */
  onImages(id: number, batch: ImageBatch, latents?: Float32Array): boolean {
    const p = this.take(id);
    if (!p) return false;
    if (p.kind === 'strip') {
      this.lastStrip = { latents: p.latents, ...(p.label !== undefined ? { label: p.label } : {}) };
      this.images.showStrips(sliceBatch(batch, 0, p.steps), sliceBatch(batch, p.steps, batch.count - p.steps));
    } else if (p.kind === 'grid') {
      this.images.showGrid(p.title, batch, p.cols);
    } else if (p.kind === 'samples') {
      this.lastSamples = latents ? { latents, ...(p.label !== undefined ? { label: p.label } : {}) } : null;
      this.images.showSamples(batch);
    }
    return true;
  }

  onReconstruction(msg: ReconstructionMessage): void {
    if (this.take(msg.requestId)?.kind !== 'reconstruct') return;
    const r = msg.result;
    if (r.originals.count === 0) this.message(r.skipped[0]?.reason ?? `Could not reconstruct ${baseName(msg.name)}.`);
    else this.images.showReconstruction(r.originals, r.reconstructions, r.terms?.[0]);
  }

  onSaved(requestId: number, files: string[]): void {
    this.take(requestId);
    this.message(`Saved ${files.length} image${files.length === 1 ? '' : 's'}: ${files.map(baseName).join(', ')}`);
  }

  forget(requestId: number): void {
    this.pending.delete(requestId);
  }

  private save(what: Decoded, name: string): void {
    host.post({ type: 'saveImages', requestId: this.ask({ kind: 'save' }), ...what, baseName: name });
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
