// Requests that use a trained run's model: encodeFolder (incremental), decode (and writeDecoded:
// single files, or a set with named rows and a sheet),
// sample (and writeSamples), reconstruct, estimateLogPx, exportOnnx.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Encoding, FileProblem, ImageBatch, SampleResult } from '../../protocol/engine';
import { loadDataset, loadFiles, scanFolder, writePngs } from '../data';
import { writeImageSet } from '../data/imageSet';
import type { LoadedImages } from '../data/types';
import { runSplit, subset, type ImageSet } from '../model/batches';
import { estimateLogPx } from '../model/trainer';
import {
  badRequest,
  checkStem,
  throwIfCancelled,
  writingFiles,
  writingTo,
  yieldToEventLoop,
  type Handler,
  type RequestContext,
  type RequestOf,
} from './context';
import type { Codec } from '../model/codec';
import { exportVaeToOnnx } from '../onnx/exportOnnx';
import { deriveSeed, standardNormals } from '../rng';
import { readEncoding, writeEncoding, type EncodedFile } from '../runStore/encodings';
import { withRun } from '../runStore/cache';
import { EngineError } from '../../protocol/errors';

/** Images encoded between two cancel checks / status events. */
const ENCODE_CHUNK = 512;
/** Images loaded for the posterior pass that are kept for the ELBO terms' pass rather than loaded again. */
const KEEP_FOR_TERMS_BYTES = 256 * 2 ** 20;

function imageBatch(codec: Codec, pixels: Uint8Array, count: number): ImageBatch {
  return { count, width: codec.pre.width, height: codec.pre.height, channels: codec.pre.channels, pixels };
}

/** The refusal of what a model trained elsewhere cannot do here (it has no tfjs model to train or sample from). */
export function trainedElsewhere(name: string, what: string): EngineError {
  return new EngineError('bad-request', `"${name}" was trained elsewhere (an imported model), so Latent Atlas cannot ${what}.`);
}

function warnAll(ctx: RequestContext, problems: FileProblem[]): void {
  for (const p of problems) ctx.emit({ type: 'warning', requestId: ctx.id, file: p.file, reason: p.reason });
}

export const handleEncodeFolder: Handler<'encodeFolder'> = (req, ctx) =>
  withRun(req.runDir, async ({ runDir, manifest, codec }) => {
    const folder = resolve(req.folder);
    ctx.emit({ type: 'status', requestId: ctx.id, message: `Scanning ${folder}` });
    const scan = await scanFolder(folder, { signal: ctx.signal });
    if (scan.files.length === 0) {
      const other = scan.otherFiles.count
        ? `${scan.otherFiles.count} other file(s) found (${scan.otherFiles.extensions.join(', ') || 'no extension'}), none PNG/JPEG/WebP/GIF`
        : 'it holds no files';
      throw new EngineError('no-images', `No images to encode in ${folder}: ${other}.`);
    }
    // A folder that is itself one of the run's classes (right-clicking "Trouser" of a run trained
    // on the folder above it) labels its images with that class: a conditional encoder needs the
    // label, and the points take the class colour. Sub-folders that are classes win over this.
    const isRunClass = (name: string) => manifest.labels.includes(name);
    const classFolder = isRunClass(basename(folder)) && !scan.labelNames.some(isRunClass) ? basename(folder) : null;
    // Labels that are all classes of the run are numbered as the run numbers them, so a class
    // keeps its colour in every folder encoded with this run.
    const runClasses = classFolder !== null || (scan.labelNames.length > 0 && scan.labelNames.every(isRunClass));
    const labelNames = runClasses ? manifest.labels : scan.labelNames;
    const previous = req.incremental === false ? null : await readEncoding(runDir, folder);
    const reusable = new Map<string, { index: number; file: EncodedFile }>();
    // (An encoding without the images' ELBO terms — written by version 1 — is encoded again when the model gives them.)
    const termsMissing = previous !== null && previous.terms === null && codec.givesTerms;
    if (previous && previous.checkpoint === manifest.checkpoint && previous.dims === manifest.model.latentSize && !termsMissing) {
      previous.files.forEach((file, index) => reusable.set(file.path, { index, file }));
    }
    const labelOf = (f: { label: string | null }) => classFolder ?? f.label;
    const withTerms = codec.givesTerms && req.terms !== false;
    // A conditional encoder's point depends on the file's label too, so a file whose label
    // changed (its folder was renamed, or it is now encoded as a class folder) is encoded again;
    // so is one whose terms are missing (an encode without them, or cancelled before them).
    const unchanged = (f: { path: string; size: number; mtimeMs: number; label: string | null }) => {
      const reuse = reusable.get(f.path);
      const old = reuse?.file;
      if (!old || old.size !== f.size || old.mtimeMs !== f.mtimeMs) return false;
      if (withTerms && !Number.isFinite(previous!.terms?.reconstruction[reuse.index] ?? Number.NaN)) return false;
      return !manifest.model.conditional || (old.label >= 0 ? previous!.labelNames[old.label] : null) === labelOf(f);
    };
    const toEncode = scan.files.filter((f) => !unchanged(f));
    const encodeNow = new Set(toEncode.map((f) => f.path));
    const dims = manifest.model.latentSize;
    // The files encoded now, by path → their row in flat arrays (no small arrays per file: a
    // million-image folder would make millions of them).
    const fresh = new Map<string, number>();
    const freshMu = new Float32Array(toEncode.length * dims);
    const freshLogVar = new Float32Array(toEncode.length * dims);
    const freshRec = new Float32Array(toEncode.length).fill(Number.NaN);
    const freshKl = new Float32Array(toEncode.length).fill(Number.NaN);
    const skipped: FileProblem[] = [...scan.problems];
    warnAll(ctx, scan.problems);
    const load = (chunk: string[], onProblem: (p: FileProblem) => void) =>
      loadFiles(chunk, manifest.preprocessing, {
        labelNames: manifest.labels,
        labelRoot: classFolder ? dirname(folder) : folder,
        signal: ctx.signal,
        onProblem,
      });
    // First every file's posterior (the map needs nothing else), then, with the decoder, each
    // image's ELBO terms. Chunks loaded for the first pass are kept for the second up to a budget;
    // past it they are loaded again.
    const kept: LoadedImages[] = [];
    let keptBytes = 0;
    let keeping = true;
    for (let start = 0; start < toEncode.length; start += ENCODE_CHUNK) {
      throwIfCancelled(ctx, `Encoding ${folder}`);
      const chunk = toEncode.slice(start, start + ENCODE_CHUNK);
      ctx.emit({ type: 'status', requestId: ctx.id, message: `Encoding ${folder}`, done: start, total: toEncode.length });
      const loaded = await load(
        chunk.map((f) => f.path),
        (p) => warnAll(ctx, [p]),
      );
      skipped.push(...loaded.skipped);
      const { mu, logVar } = await codec.encode(loaded.images, loaded.count, loaded.labels);
      freshMu.set(mu, fresh.size * dims);
      freshLogVar.set(logVar, fresh.size * dims);
      for (const file of loaded.files) fresh.set(resolve(file), fresh.size);
      // Only a leading run of chunks is kept, so the kept ones are the first files of the second pass.
      keeping &&= withTerms && keptBytes + loaded.images.byteLength <= KEEP_FOR_TERMS_BYTES;
      if (keeping) {
        kept.push(loaded);
        keptBytes += loaded.images.byteLength;
      }
      await yieldToEventLoop();
    }
    // Points in scan order; files that vanished are dropped, broken ones are in `skipped`.
    const labelIndex = new Map(labelNames.map((n, i) => [n, i]));
    let reused = 0;
    const files: EncodedFile[] = [];
    // Per point: its row among the files encoded now, or (−1 − its index) in the previous encoding.
    const sources: number[] = [];
    for (const f of scan.files) {
      const name = labelOf(f);
      const label = name === null ? -1 : (labelIndex.get(name) ?? -1);
      const now = fresh.get(f.path);
      if (now !== undefined) sources.push(now);
      else {
        // Not encoded now: re-used when unchanged; a file that needed encoding but failed is skipped.
        const old = reusable.get(f.path);
        if (!old || encodeNow.has(f.path)) continue;
        sources.push(-1 - old.index);
        reused++;
      }
      files.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, label });
    }
    if (files.length === 0) {
      throw new EngineError(
        'no-images',
        `None of the ${scan.files.length} image(s) in ${folder} could be read; see the warnings for each file.`,
      );
    }
    const mu = new Float32Array(files.length * dims);
    const logVar = new Float32Array(files.length * dims);
    sources.forEach((src, i) => {
      const [from, at] = src >= 0 ? [freshMu, src * dims] : [previous!.mu, (-1 - src) * dims];
      mu.set(from.subarray(at, at + dims), i * dims);
      logVar.set((src >= 0 ? freshLogVar : previous!.logVar).subarray(at, at + dims), i * dims);
    });
    const meanSigma = new Float32Array(files.length);
    for (let p = 0; p < files.length; p++) {
      let s = 0;
      for (let d = 0; d < dims; d++) s += Math.exp(0.5 * logVar[p * dims + d]!);
      meanSigma[p] = s / dims;
    }
    /** The encoding as the figures stand: stored atomically, so a cancel while the terms are computed keeps the points. */
    const commit = async (): Promise<Encoding> => {
      const terms = codec.givesTerms
        ? {
            reconstruction: Float32Array.from(sources, (src) => (src >= 0 ? freshRec[src]! : previous!.terms!.reconstruction[-1 - src]!)),
            kl: Float32Array.from(sources, (src) => (src >= 0 ? freshKl[src]! : previous!.terms!.kl[-1 - src]!)),
          }
        : null;
      await writeEncoding(runDir, {
        folder,
        checkpoint: manifest.checkpoint ?? '',
        dims,
        labelNames,
        files,
        mu,
        logVar,
        terms,
        skipped,
        updatedAt: new Date().toISOString(),
      });
      return {
        runDir,
        folder,
        files: files.map((f) => f.path),
        labels: Int32Array.from(files.map((f) => f.label)),
        labelNames,
        dims,
        mu,
        terms,
        meanSigma,
        skipped,
        encoded: files.length - reused,
        reused,
      };
    };
    const points = await commit();
    if (!withTerms || fresh.size === 0) return points;
    ctx.emit({ type: 'encodedPoints', requestId: ctx.id, encoding: points });
    await ctx.sent();
    // The files of the first pass, in the order they were loaded (the kept chunks come first).
    const pending = [...fresh.keys()];
    for (let done = 0; done < pending.length;) {
      throwIfCancelled(ctx, `The ELBO terms of ${folder}`);
      ctx.emit({ type: 'status', requestId: ctx.id, message: `ELBO terms of ${folder}`, done, total: pending.length });
      // A kept chunk holds the next files of `pending` (the loaded ones of a first-pass chunk).
      const keptChunk = kept.shift();
      const chunk = keptChunk ?? (await load(pending.slice(done, done + ENCODE_CHUNK), () => {}));
      done += keptChunk ? keptChunk.count : Math.min(ENCODE_CHUNK, pending.length - done);
      // Each file's own noise for its one-draw ELBO terms: the same file gets the same figures.
      const eps = new Float32Array(chunk.count * dims);
      chunk.files.forEach((file, i) => eps.set(standardNormals(dims, pathSeed(resolve(file))), i * dims));
      const { terms } = await codec.encodeWithTerms(chunk.images, chunk.count, chunk.labels, eps);
      chunk.files.forEach((file, i) => {
        const row = fresh.get(resolve(file));
        if (row !== undefined && terms) {
          freshRec[row] = terms.reconstruction[i]!;
          freshKl[row] = terms.kl[i]!;
        }
      });
      await yieldToEventLoop();
    }
    // Cancelled while the last terms were computed: the points stay stored, without those terms.
    throwIfCancelled(ctx, `The ELBO terms of ${folder}`);
    return commit();
  });

type DecodeQuery = Pick<RequestOf<'decode' | 'writeDecoded'>, 'runDir' | 'latents' | 'labels' | 'type'>;

const decodeImages = (req: DecodeQuery): Promise<ImageBatch> =>
  withRun(req.runDir, async ({ codec }) => {
    const dims = codec.latentSize;
    if (req.latents.length % dims !== 0) {
      throw badRequest(`${req.type}: ${req.latents.length} values are not a whole number of ${dims}-dimensional latent points.`);
    }
    const count = req.latents.length / dims;
    return imageBatch(codec, await codec.decode(req.latents, count, req.labels), count);
  });

export const handleDecode: Handler<'decode'> = (req) => decodeImages(req);

/** Decodes and writes the PNG files here: a view names what it saves by its latents. */
export const handleWriteDecoded: Handler<'writeDecoded'> = async (req) => {
  checkStem(req.stem);
  const rows = req.rows ?? [];
  for (const row of rows)
    if (!/^[\w.-]+$/.test(row))
      throw badRequest(`writeDecoded: "${row}" cannot name a row of files: use letters, digits, "-", "_" or ".".`);
  const images = await decodeImages(req);
  if (rows.length > 0 && images.count % rows.length !== 0) {
    throw badRequest(`writeDecoded: ${images.count} images do not make ${rows.length} equal rows (${rows.join(', ')}).`);
  }
  if (rows.length === 0 && !req.sheet) return { files: await writingFiles(req.dir, () => writePngs(images, req.dir, req.stem)) };
  return writingFiles(req.dir, () => writeImageSet(images, req.dir, req.stem, { rows, sheet: req.sheet }));
};

/** A seed from a file's absolute path: its one-draw ELBO terms use the same noise every time. */
function pathSeed(path: string): number {
  return createHash('sha256').update(path).digest().readUInt32LE(0) % 2 ** 31;
}

type SampleQuery = Pick<RequestOf<'sample'>, 'runDir' | 'count' | 'mode' | 'seed'>;

/** Draws latents for the mode and decodes them. */
const sampleImages = (req: SampleQuery): Promise<SampleResult> =>
  withRun(req.runDir, async ({ manifest, codec }) => {
    const dims = codec.latentSize;
    if (!Number.isInteger(req.count) || req.count < 1 || req.count > 100_000) {
      throw badRequest(`sample: count must be a whole number from 1 to 100000, got ${req.count}.`);
    }
    const seed = req.seed ?? Date.now() % 2 ** 31;
    const latents = standardNormals(req.count * dims, deriveSeed(seed, 7));
    let labels: number[] | undefined;
    const mode = req.mode;
    if (mode.kind === 'around') {
      if (mode.center.length !== dims) throw badRequest(`sample: the centre has ${mode.center.length} values, the latent space ${dims}.`);
      for (let i = 0; i < latents.length; i++) latents[i] = mode.center[i % dims]! + mode.radius * latents[i]!;
    } else if (mode.kind === 'label') {
      const known = manifest.labels;
      if (codec.numLabels === 0) {
        throw badRequest(
          `sample: the run "${manifest.name}" is not conditional, so it cannot sample for the label "${mode.label}"` +
            (known.length ? ` (its data had the labels ${known.join(', ')}; train with conditional on to sample by label).` : '.'),
        );
      }
      const index = known.indexOf(mode.label);
      if (index < 0) throw badRequest(`sample: unknown label "${mode.label}"; the run knows: ${known.join(', ')}.`);
      labels = [index];
    }
    const pixels = await codec.decode(latents, req.count, labels);
    return { images: imageBatch(codec, pixels, req.count), latents };
  });

export const handleSample: Handler<'sample'> = (req) => sampleImages(req);

/** Samples and writes the PNG files here, so the pixels never travel to the owner. */
export const handleWriteSamples: Handler<'writeSamples'> = async (req) => {
  checkStem(req.stem);
  const { images } = await sampleImages(req);
  return { files: await writingFiles(req.dir, () => writePngs(images, req.dir, req.stem)) };
};

export const handleReconstruct: Handler<'reconstruct'> = (req, ctx) =>
  withRun(req.runDir, async ({ manifest, codec }) => {
    const loaded = await loadFiles(req.files, manifest.preprocessing, { labelNames: manifest.labels, signal: ctx.signal });
    warnAll(ctx, loaded.skipped);
    const done =
      loaded.count > 0 ? await codec.reconstruct(loaded.images, loaded.count, loaded.labels) : { pixels: new Uint8Array(0), terms: [] };
    return {
      originals: imageBatch(codec, loaded.images, loaded.count),
      reconstructions: imageBatch(codec, done.pixels, loaded.count),
      terms: done.terms,
      skipped: loaded.skipped,
    };
  });

export const handleEstimateLogPx: Handler<'estimateLogPx'> = (req, ctx) =>
  withRun(req.runDir, async ({ manifest, vae }) => {
    if (!vae) throw trainedElsewhere(manifest.name, 'estimate log p(x) (it needs the importance sampler of a model trained here)');
    if (!Number.isInteger(req.k) || req.k < 1 || req.k > 5000) throw badRequest(`estimateLogPx: k must be from 1 to 5000, got ${req.k}.`);
    const maxImages = req.maxImages ?? 1000;
    let set: ImageSet;
    if (req.files) {
      const loaded = await loadFiles(req.files.slice(0, maxImages), manifest.preprocessing, {
        labelNames: manifest.labels,
        signal: ctx.signal,
      });
      warnAll(ctx, loaded.skipped);
      set = loaded;
    } else {
      // The run's validation images: the same seeded split the trainer made (see trainer.ts).
      ctx.emit({ type: 'status', requestId: ctx.id, message: 'Loading the validation images' });
      const data = await loadDataset(manifest.dataset.source, {
        pre: manifest.preprocessing,
        labelNames: manifest.labels,
        signal: ctx.signal,
      });
      const { validation } = runSplit(data.count, manifest.training);
      if (validation.length === 0) throw badRequest('estimateLogPx: the run held out no validation images; pass the files to evaluate.');
      set = subset(data, validation, manifest.preprocessing);
    }
    if (set.count === 0) throw badRequest('estimateLogPx: none of the given files could be read (see the warnings).');
    ctx.emit({
      type: 'status',
      requestId: ctx.id,
      message: `Estimating log p(x) with k=${req.k} on ${Math.min(set.count, maxImages)} images`,
    });
    await yieldToEventLoop();
    throwIfCancelled(ctx, 'Estimating log p(x)');
    return estimateLogPx(vae, set, req.k, { seed: deriveSeed(manifest.training.seed, 11), maxImages });
  });

export const handleExportOnnx: Handler<'exportOnnx'> = (req) =>
  withRun(req.runDir, async ({ manifest, vae }) => {
    if (!vae)
      throw trainedElsewhere(
        manifest.name,
        `export it again: its ${manifest.imported!.format === 'onnx' ? 'ONNX' : 'tfjs'} files are in ${req.runDir}`,
      );
    const dir = resolve(req.dir);
    const source = `Latent Atlas ${manifest.codeVersion}, run "${manifest.name}" (${manifest.epochsCompleted} epochs, ${manifest.checkpoint ?? 'no checkpoint'})`;
    const files = await writingTo(
      `in ${dir}`,
      () => 'export again',
      async () => {
        await mkdir(dir, { recursive: true });
        return exportVaeToOnnx(vae, { name: manifest.name, classes: manifest.labels, source }, dir);
      },
    );
    return { files };
  });
