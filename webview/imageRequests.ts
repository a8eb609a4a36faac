// The side panel's requests to the host and their replies: interpolation strips, decoded grids,
// samples, reconstructions and saves. Replies are matched to what was asked by request id.

import type { ImageBatch } from '../src/protocol/engine';
import type { ReconstructionMessage, SampleLatentsMessage } from '../src/protocol/webview';
import { baseName } from './core/hitTest';
import { interpolationLatents } from './core/interpolate';
import { sliceBatch } from './core/pixels';
import { host } from './host';
import type { ImagesPanel } from './imagesPanel';

type Pending =
  | { kind: 'strip'; steps: number }
  | { kind: 'grid'; title: string; cols: number }
  | { kind: 'samples' }
  | { kind: 'reconstruct' }
  | { kind: 'save' };

export class ImageRequests {
  private readonly pending = new Map<number, Pending>();
  private lastStrip: ImageBatch | null = null;
  private lastSamples: ImageBatch | null = null;

  constructor(
    private readonly images: ImagesPanel,
    /** Posts a decode (adds the conditioning label when the model has one). */
    private readonly decode: (requestId: number, latents: Float32Array) => void,
    private readonly message: (text: string) => void,
  ) {}

  /** Lerp and slerp strips between two latents, decoded in one request. */
  strip(a: number[], b: number[], steps: number): void {
    const lerp = interpolationLatents(a, b, steps, 'lerp');
    const slerp = interpolationLatents(a, b, steps, 'slerp');
    const both = new Float32Array(lerp.length * 2);
    both.set(lerp);
    both.set(slerp, lerp.length);
    this.decode(this.ask({ kind: 'strip', steps }), both);
  }

  grid(title: string, latents: Float32Array, cols: number): void {
    this.decode(this.ask({ kind: 'grid', title, cols }), latents);
  }

  reconstruct(file: string): void {
    host.post({ type: 'reconstruct', requestId: this.ask({ kind: 'reconstruct' }), file });
  }

  sample(count: number, mode: SampleLatentsMessage['mode']): void {
    host.post({ type: 'sample', requestId: this.ask({ kind: 'samples' }), count, mode });
  }

  saveStrip(): void {
    if (this.lastStrip) this.save(this.lastStrip, 'interpolation');
  }

  saveSamples(): void {
    if (this.lastSamples) this.save(this.lastSamples, 'sample');
  }

  /** Returns false for ids this did not ask for. */
  onImages(id: number, batch: ImageBatch): boolean {
    const p = this.take(id);
    if (!p) return false;
    if (p.kind === 'strip') {
      this.lastStrip = batch;
      this.images.showStrips(sliceBatch(batch, 0, p.steps), sliceBatch(batch, p.steps, batch.count - p.steps));
    } else if (p.kind === 'grid') {
      this.images.showGrid(p.title, batch, p.cols);
    } else if (p.kind === 'samples') {
      this.lastSamples = batch;
      this.images.showSamples(batch);
    }
    return true;
  }

  onReconstruction(msg: ReconstructionMessage): void {
    if (this.take(msg.requestId)?.kind !== 'reconstruct') return;
    const r = msg.result;
    if (r.originals.count === 0) this.message(r.skipped[0]?.reason ?? `Could not reconstruct ${baseName(msg.file)}.`);
    else this.images.showReconstruction(r.originals, r.reconstructions, r.terms[0]);
  }

  onSaved(requestId: number, files: string[]): void {
    this.take(requestId);
    this.message(`Saved ${files.length} image${files.length === 1 ? '' : 's'}: ${files.map(baseName).join(', ')}`);
  }

  forget(requestId: number): void {
    this.pending.delete(requestId);
  }

  private save(images: ImageBatch, name: string): void {
    host.post({ type: 'saveImages', requestId: this.ask({ kind: 'save' }), images, baseName: name });
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
