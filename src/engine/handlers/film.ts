// The film of a training (the latent space forming, live): a fixed, label-stratified subset of the
// training images is encoded before the first epoch and after each committed one; each frame is
// stored in the run folder (../runStore/film.ts) and sent as a mapFrame event. readFilm gives a
// run's film back for replay.

import { join, relative, resolve, sep } from 'node:path';
import type { FilmFrame, FilmSubset } from '../../protocol/engine';
import type { DatasetSource, RunManifest, TrainingConfig } from '../../protocol/model';
import type { LoadedImages } from '../data';
import { encodeImages, type VaeModel } from '../model/model';
import { runSplit, subset } from '../model/batches';
import { deriveSeed, permutation } from '../rng';
import { readManifest } from '../runStore/runStore';
import { framePath, readFilmIndex, readFrame, startFilm, truncateFilm, writeFrame, type FilmIndex } from '../runStore/film';
import { writingTo, type Handler, type RequestContext } from './context';

/** Most images a film follows: enough for a map's shape, cheap to encode at every epoch end. */
export const FILM_MAX_IMAGES = 2000;
const SEED_FILM = 13;

/**
 * At most `max` of `candidates` (image indices), an equal share per label as far as the labels
 * allow: a label with fewer images gives all of them and its unused share goes to the others.
 * Images without a label (−1) form a group of their own, so unlabelled data is a uniform sample.
 * Within a label the images are a seeded random draw. Ascending indices.
 */
export function chooseFilmSubset(candidates: ArrayLike<number>, labels: ArrayLike<number>, max: number, seed: number): Int32Array {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < candidates.length; i++) {
    const index = candidates[i]!;
    const label = labels.length > 0 ? labels[index]! : -1;
    let group = groups.get(label);
    if (!group) groups.set(label, (group = []));
    group.push(index);
  }
  // Smallest groups first, so what they cannot use is shared among the larger ones.
  const order = [...groups.entries()].sort((a, b) => a[1].length - b[1].length || a[0] - b[0]);
  const chosen: number[] = [];
  let remaining = Math.max(0, Math.floor(max));
  for (const [k, [label, group]] of order.entries()) {
    const take = Math.min(group.length, Math.ceil(remaining / (order.length - k)));
    const draw = permutation(group.length, deriveSeed(seed, SEED_FILM, label + 1));
    for (let i = 0; i < take; i++) chosen.push(group[draw[i]!]!);
    remaining -= take;
  }
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

/** A file's name in film/index.json: relative to the training folder, '/'-separated. */
function filmName(source: DatasetSource, file: string): string {
  return source.kind === 'folder' ? relative(resolve(source.path), file).split(sep).join('/') : file;
}

/** A film name as the protocol gives it: absolute in the run's folder (the demo set: the name). */
function filmFile(source: DatasetSource, name: string): string {
  return source.kind === 'folder' ? join(resolve(source.path), ...name.split('/')) : name;
}

function subsetOf(runDir: string, source: DatasetSource, index: FilmIndex): FilmSubset {
  return {
    runDir,
    files: index.files.map((f) => filmFile(source, f)),
    labels: Int32Array.from(index.labels),
    labelNames: index.labelNames,
    dims: index.dims,
  };
}

/** Encodes the film's images at epoch ends and stores each frame; one per train or resume request. */
export class FilmRecorder {
  private constructor(
    private readonly ctx: RequestContext,
    private readonly runDir: string,
    private index: FilmIndex,
    private readonly images: Uint8Array,
    private readonly labels: Int32Array,
    /** What a person does after a failed write (the run's resume hint). */
    private readonly afterFailure: () => string,
  ) {}

  /**
   * Chooses the subset (or keeps the run's, when the data still holds all its files), announces
   * it with a mapSubset event, and stores the frame of `epochsCompleted` when the film lacks it:
   * epoch 0 for a new run, or the epoch a resumed run continues from.
   */
  static async open(
    ctx: RequestContext,
    runDir: string,
    vae: VaeModel,
    data: LoadedImages,
    source: DatasetSource,
    cfg: Pick<TrainingConfig, 'validationSplit' | 'seed'>,
    epochsCompleted: number,
    afterFailure: () => string,
  ): Promise<FilmRecorder> {
    const names = data.files.map((f) => filmName(source, f));
    const dims = vae.model.latentSize;
    let indices: Int32Array | null = null;
    let index: FilmIndex | null = null;
    try {
      index = await readFilmIndex(runDir);
    } catch (err) {
      ctx.emit({ type: 'status', requestId: ctx.id, message: `${(err as Error).message} A new film starts at epoch ${epochsCompleted}.` });
    }
    if (index && index.dims === dims) {
      const where = new Map(names.map((n, i) => [n, i]));
      const found = index.files.map((f) => where.get(f) ?? -1);
      const missing = found.filter((i) => i < 0).length;
      if (missing === 0) {
        indices = Int32Array.from(found);
        index = await writingTo(join(runDir, 'film'), afterFailure, () => truncateFilm(runDir, index!, epochsCompleted));
      } else {
        ctx.emit({
          type: 'status',
          requestId: ctx.id,
          message: `${missing} of the ${index.files.length} images the run's film follows are no longer in the training data; a new film starts at epoch ${epochsCompleted}.`,
        });
      }
    }
    if (!indices) {
      indices = chooseFilmSubset(runSplit(data.count, cfg).train, data.labels, FILM_MAX_IMAGES, cfg.seed);
      const chosen = indices;
      index = await writingTo(join(runDir, 'film'), afterFailure, () =>
        startFilm(runDir, {
          files: Array.from(chosen, (i) => names[i]!),
          labels: Array.from(chosen, (i) => (data.labels.length > 0 ? data.labels[i]! : -1)),
          labelNames: data.labelNames,
          dims,
        }),
      );
    }
    const film = index!;
    const set = subset({ images: data.images, count: data.count, labels: data.labels }, indices, data.pre);
    const recorder = new FilmRecorder(ctx, runDir, film, set.images, Int32Array.from(film.labels), afterFailure);
    ctx.emit({ type: 'mapSubset', requestId: ctx.id, ...subsetOf(runDir, source, film), epochs: [...film.epochs] });
    if (!film.epochs.includes(epochsCompleted)) await recorder.frame(vae, epochsCompleted);
    return recorder;
  }

  /** Encodes the subset with `vae` as it is now (posterior means), stores the frame, then sends it. */
  async frame(vae: VaeModel, epoch: number): Promise<void> {
    const { mu } = await encodeImages(vae, this.images, this.labels.length, this.labels);
    this.index = await writingTo(framePath(this.runDir, epoch), this.afterFailure, () => writeFrame(this.runDir, this.index, epoch, mu));
    this.ctx.emit({ type: 'mapFrame', requestId: this.ctx.id, runDir: this.runDir, epoch, dims: this.index.dims, mu });
  }
}

export const handleReadFilm: Handler<'readFilm'> = async (req) => {
  const runDir = resolve(req.runDir);
  const manifest: RunManifest = await readManifest(runDir);
  if (manifest.imported) return null;
  const index = await readFilmIndex(runDir);
  if (!index) return null;
  // Only committed epochs: after a damaged checkpoint the run reads as of the one before it.
  const frames: FilmFrame[] = [];
  for (const epoch of index.epochs.filter((e) => e <= manifest.epochsCompleted)) {
    frames.push({ epoch, mu: await readFrame(runDir, index, epoch) });
  }
  return { ...subsetOf(runDir, manifest.dataset.source, index), frames };
};
