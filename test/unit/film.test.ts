// The film of a training (the latent space forming): the subset is stratified, capped and seeded,
// kept on resume and restarted when its images are gone; frames 0..N are stored and equal an
// independent encoding with each epoch's checkpoint; events arrive in order; readFilm returns the
// film; a write that fails part-way leaves index.json listing complete frames only.
// The train, resume and readFilm handlers run in this process, on the backend the checks use.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EngineEvent, EngineRequest, EngineResults, Film, MapFrameEvent, MapSubsetEvent } from '../../src/protocol/engine';
import type { DatasetSource, RunManifest } from '../../src/protocol/model';
import { chooseFilmSubset, FILM_MAX_IMAGES, handleReadFilm } from '../../src/engine/handlers/film';
import { handleResume, handleTrain } from '../../src/engine/handlers/train';
import { handleLoadRun } from '../../src/engine/handlers/run';
import type { Handler, RequestContext } from '../../src/engine/handlers/context';
import { loadDataset } from '../../src/engine/data';
import { buildVae, encodeImages, pixelCount, vaeFromLayers, type VaeModel } from '../../src/engine/model/model';
import { loadLayersModel } from '../../src/engine/runStore/layers';
import { runSplit } from '../../src/engine/model/batches';
import { checkpointName } from '../../src/engine/runStore/runStore';
import { FILM_FORMAT, frameName, readFilmIndex } from '../../src/engine/runStore/film';
import { EngineError } from '../../src/protocol/errors';
import type { Tf } from '../../src/engine/tf';
import { useBackend } from './engine-fixtures';
import { demoFolder, SMALL_MODEL, SMALL_TRAINING, tempDir, trainBody } from './worker-fixtures';

let root: string;
let images: string;
let nextId = 1;
let tf: Tf;

before(async () => {
  tf = await useBackend('wasm');
  root = await tempDir('film');
  images = await demoFolder(join(root, 'images'), 240);
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

type Body<T extends EngineRequest['type']> = Omit<Extract<EngineRequest, { type: T }>, 'id'>;

/** Runs a handler in this process as the worker would, passing its events to `onEvent` (or an array). */
async function call<T extends EngineRequest['type']>(
  handler: Handler<T>,
  body: Body<T>,
  onEvent: EngineEvent[] | ((e: EngineEvent) => void) = [],
): Promise<EngineResults[T]> {
  const emit = Array.isArray(onEvent) ? (e: EngineEvent) => void onEvent.push(e) : onEvent;
  const ctx: RequestContext = { id: nextId++, signal: new AbortController().signal, emit, sent: async () => {} };
  return handler({ ...body, id: ctx.id } as Extract<EngineRequest, { type: T }>, ctx);
}

const frames = (events: EngineEvent[]) => events.filter((e): e is MapFrameEvent => e.type === 'mapFrame');
const subsets = (events: EngineEvent[]) => events.filter((e): e is MapSubsetEvent => e.type === 'mapSubset');
const countBy = (labels: ArrayLike<number>) => {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
};

async function manifestOf(runDir: string): Promise<RunManifest> {
  return JSON.parse(await fs.readFile(join(runDir, 'run.json'), 'utf8')) as RunManifest;
}

/** The film's images as the run loads them now, in the film's order (by file name). */
async function filmImages(film: Film, source: DatasetSource, manifest: RunManifest): Promise<Uint8Array> {
  const data = await loadDataset(source, { pre: manifest.preprocessing, labelNames: manifest.labels, cacheDir: false });
  const where = new Map(data.files.map((f, i) => [f, i]));
  const px = pixelCount(manifest.preprocessing);
  const out = new Uint8Array(film.files.length * px);
  film.files.forEach((f, k) => {
    const i = where.get(f);
    assert.ok(i !== undefined, `${f} of the film is in the data`);
    out.set(data.images.subarray(i * px, (i + 1) * px), k * px);
  });
  return out;
}

/** The model as it was after `epoch` epochs: built from the seed (0) or loaded from its checkpoint. */
async function modelAt(runDir: string, manifest: RunManifest, epoch: number): Promise<VaeModel> {
  if (epoch === 0) return buildVae(manifest.model, manifest.preprocessing, manifest.labels.length, manifest.training.seed);
  const dir = join(runDir, 'checkpoints', checkpointName(epoch));
  const [enc, dec] = await Promise.all([loadLayersModel(join(dir, 'encoder')), loadLayersModel(join(dir, 'decoder'))]);
  return vaeFromLayers(enc, dec, manifest.model, manifest.preprocessing, manifest.labels.length);
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tol, `${what}: largest difference ${worst} > ${tol}`);
}

/** Checks each frame of `epochs` against encoding the film's images with that epoch's model. */
async function checkFrames(runDir: string, film: Film, source: DatasetSource, epochs: number[]): Promise<void> {
  const manifest = await manifestOf(runDir);
  const pixels = await filmImages(film, source, manifest);
  for (const epoch of epochs) {
    const frame = film.frames.find((f) => f.epoch === epoch);
    assert.ok(frame, `a frame for epoch ${epoch}`);
    const vae = await modelAt(runDir, manifest, epoch);
    try {
      const { mu } = await encodeImages(vae, pixels, film.files.length, film.labels);
      assertClose(frame.mu, mu, `epoch ${epoch}`);
    } finally {
      vae.encoder.dispose();
      vae.decoder.dispose();
    }
  }
}

describe('film subset', () => {
  test('an equal share per label as far as the labels allow, at most the cap, seeded, from the candidates only', () => {
    // Labels 0..4 with 50, 300, 1000, 2000, 4000 images; label −1 (no label) 100.
    const sizes = [50, 300, 1000, 2000, 4000];
    const labels: number[] = [];
    sizes.forEach((n, label) => labels.push(...Array<number>(n).fill(label)));
    labels.push(...Array<number>(100).fill(-1));
    const all = Int32Array.from(labels.keys());
    const picked = chooseFilmSubset(all, labels, 2000, 7);
    assert.equal(picked.length, 2000);
    // −1: 100 and label 0: 50 give all; 300 gives all; the 1550 left split over three: 517, 517, 516.
    assert.deepEqual(countBy(Array.from(picked, (i) => labels[i]!)), [
      [-1, 100],
      [0, 50],
      [1, 300],
      [2, 517],
      [3, 517],
      [4, 516],
    ]);
    assert.ok(
      picked.every((v, i) => i === 0 || v > picked[i - 1]!),
      'ascending, no repeats',
    );
    assert.deepEqual(chooseFilmSubset(all, labels, 2000, 7), picked, 'the same seed picks the same images');
    assert.notDeepEqual(chooseFilmSubset(all, labels, 2000, 8), picked, 'another seed picks others');
    // Only candidates (the training split) are picked; fewer candidates than the cap: all of them.
    const few = Int32Array.from([3, 60, 400, 7000, 7049]);
    assert.deepEqual(chooseFilmSubset(few, labels, 2000, 7), few);
    // Unlabelled data: a uniform sample of the cap.
    const unlabelled = chooseFilmSubset(
      Int32Array.from({ length: 10_000 }, (_, i) => i),
      new Int32Array(0),
      2000,
      1,
    );
    assert.equal(unlabelled.length, 2000);
    const firstHalf = unlabelled.filter((i) => i < 5000).length;
    assert.ok(firstHalf > 900 && firstHalf < 1100, `uniform: ${firstHalf} of 2000 in the first half`);
  });
});

describe('film of a training', () => {
  test('the demo set (10,000 images, conditional): 2,000 stratified training images, frames 0..2 in order with the epochs, equal to each checkpoint', async () => {
    const runDir = join(root, 'runs', 'demo');
    const events: EngineEvent[] = [];
    const source: DatasetSource = { kind: 'demo' };
    const res = await call(
      handleTrain,
      trainBody(runDir, images, {
        dataset: source,
        model: { ...SMALL_MODEL, conditional: true },
        training: { ...SMALL_TRAINING, batchSize: 256 },
      }),
      events,
    );
    assert.equal(res.state, 'complete');

    // Order: the subset, frame 0 before any step, then each epoch's frame right after its epoch event.
    const order = events
      .filter((e) => ['mapSubset', 'mapFrame', 'epoch', 'progress'].includes(e.type))
      .map((e) => (e.type === 'mapFrame' ? `frame ${e.epoch}` : e.type === 'epoch' ? `epoch ${e.summary.epoch}` : e.type))
      .filter((e, i, all) => e !== 'progress' || all[i - 1] !== 'progress');
    assert.deepEqual(order, ['mapSubset', 'frame 0', 'progress', 'epoch 1', 'frame 1', 'progress', 'epoch 2', 'frame 2']);

    const [subset] = subsets(events);
    assert.ok(subset);
    assert.equal(subset.files.length, FILM_MAX_IMAGES);
    assert.deepEqual(subset.labelNames, ['circle', 'square', 'triangle']);
    assert.deepEqual(subset.epochs, []);
    // 2,000 over three labels of thousands each: 667, 667 and 666 (which label gets 666 depends on the split).
    assert.deepEqual(
      countBy(subset.labels)
        .map(([, n]) => n)
        .sort(),
      [666, 667, 667],
    );
    // Training images only: none of the validation split.
    const data = await loadDataset(source);
    const validation = new Set(Array.from(runSplit(data.count, SMALL_TRAINING).validation, (i) => data.files[i]));
    assert.ok(!subset.files.some((f) => validation.has(f)), 'no validation image in the film');
    for (const f of frames(events)) {
      assert.equal(f.dims, SMALL_MODEL.latentSize);
      assert.equal(f.mu.length, FILM_MAX_IMAGES * SMALL_MODEL.latentSize);
    }

    const film = await call(handleReadFilm, { type: 'readFilm', runDir });
    assert.ok(film);
    assert.deepEqual(film.files, subset.files);
    assert.deepEqual(film.labels, subset.labels);
    assert.deepEqual(
      film.frames.map((f) => f.epoch),
      [0, 1, 2],
    );
    for (const f of frames(events)) assert.deepEqual(film.frames[f.epoch]!.mu, f.mu, `stored frame ${f.epoch} is the one sent`);
    for (const epoch of [0, 1, 2]) {
      const size = (await fs.stat(join(runDir, 'film', frameName(epoch)))).size;
      assert.equal(size, FILM_MAX_IMAGES * SMALL_MODEL.latentSize * 4, `epoch ${epoch}: count × dims float32`);
    }
    assert.notDeepEqual(film.frames[0]!.mu, film.frames[2]!.mu, 'training moved the points');
    // Checkpoints 1 and 2 are kept (the run store keeps two); epoch 0 is the seeded initial model.
    await checkFrames(runDir, film, source, [0, 1, 2]);
  });

  test('a folder run: resume keeps the subset and appends frames; images gone start a new film and say so', async () => {
    const folder = join(root, 'images-resume');
    await fs.cp(images, folder, { recursive: true });
    const runDir = join(root, 'runs', 'resumed');
    const source: DatasetSource = { kind: 'folder', path: folder };
    const first: EngineEvent[] = [];
    await call(handleTrain, trainBody(runDir, folder), first);
    const index = await readFilmIndex(runDir);
    assert.ok(index);
    assert.equal(index.format, FILM_FORMAT);
    const trainCount = (n: number) => runSplit(n, SMALL_TRAINING).train.length;
    assert.equal(index.files.length, trainCount(240), 'all training images (fewer than the cap)');
    assert.ok(
      index.files.every((f) => /^(circle|square|triangle)\/[^/]+\.png$/.test(f)),
      'files relative to the training folder',
    );
    assert.ok(
      subsets(first)[0]!.files.every((f) => f.startsWith(folder + '/')),
      'events name absolute paths',
    );

    const second: EngineEvent[] = [];
    const tensors = tf.memory().numTensors;
    await call(handleResume, { type: 'resume', runDir, epochs: 3 }, second);
    assert.equal(tf.memory().numTensors, tensors, 'no tensor is left behind by a training with its film');
    const [kept] = subsets(second);
    assert.deepEqual(kept!.files, subsets(first)[0]!.files, 'the same subset on resume');
    assert.deepEqual(kept!.epochs, [0, 1, 2], 'the frames stored before');
    assert.deepEqual(
      frames(second).map((f) => f.epoch),
      [3],
      'only the new epoch is encoded',
    );
    const film = await call(handleReadFilm, { type: 'readFilm', runDir });
    assert.deepEqual(
      film!.frames.map((f) => f.epoch),
      [0, 1, 2, 3],
    );
    await checkFrames(runDir, film!, source, [0, 2, 3]);

    // Ten of the film's images go away: the next resume starts a new film at epoch 3.
    for (const f of film!.files.slice(0, 10)) await fs.rm(f);
    const third: EngineEvent[] = [];
    await call(handleResume, { type: 'resume', runDir, epochs: 4 }, third);
    assert.ok(
      third.some(
        (e) =>
          e.type === 'status' &&
          e.message.includes(`10 of the ${trainCount(240)} images`) &&
          /no longer .* new film starts at epoch 3/.test(e.message),
      ),
      'a status event says the film restarts',
    );
    const [fresh] = subsets(third);
    assert.deepEqual(fresh!.epochs, []);
    assert.equal(fresh!.files.length, trainCount(230), 'the training images of the 230 left');
    const again = await call(handleReadFilm, { type: 'readFilm', runDir });
    assert.deepEqual(
      again!.frames.map((f) => f.epoch),
      [3, 4],
    );
    assert.deepEqual(
      (await fs.readdir(join(runDir, 'film'))).sort(),
      ['epoch-0003.f32', 'epoch-0004.f32', 'index.json'],
      'frames of the old film are gone',
    );
    await checkFrames(runDir, again!, source, [3, 4]);
  });

  test('readFilm of a run without a film is null; of no run, an error naming the folder', async () => {
    const runDir = join(root, 'runs', 'no-film');
    await call(handleTrain, trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 1 } }));
    await fs.rm(join(runDir, 'film'), { recursive: true });
    assert.equal(await call(handleReadFilm, { type: 'readFilm', runDir }), null);
    const nowhere = join(root, 'runs', 'nowhere');
    await assert.rejects(
      call(handleReadFilm, { type: 'readFilm', runDir: nowhere }),
      (err: EngineError) => err.code === 'not-a-run' && err.message.includes(nowhere),
    );
  });
});

/**
 * Makes the write of the temporary file for `finalName` in film/ stop half-way with ENOSPC (a full
 * disk), once; returns a function that undoes it.
 */
function failWriteOf(finalName: string): () => void {
  // The run store writes through this object (node:fs's promises), so a patch here reaches it.
  const fsp = fs as { open: typeof fs.open };
  const realOpen = fsp.open;
  const pattern = new RegExp(`[\\\\/]film[\\\\/]\\.tmp-${finalName.replace('.', '\\.')}-`);
  let armed = true;
  fsp.open = (async (...args: Parameters<typeof fsp.open>) => {
    const handle = await realOpen(...args);
    if (armed && pattern.test(String(args[0]))) {
      armed = false;
      const write = handle.writeFile.bind(handle);
      handle.writeFile = (async (data: Uint8Array | string) => {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        await write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }) as typeof handle.writeFile;
    }
    return handle;
  }) as typeof fsp.open;
  return () => {
    fsp.open = realOpen;
  };
}

describe('film write faults', () => {
  for (const [what, file, listed] of [
    ['a frame file', frameName(2), [0, 1]],
    ['index.json', 'index.json', [0]],
  ] as const) {
    test(`${what} whose write fails part-way: index.json lists complete frames only, the run loads, resume fills the gap`, async () => {
      const runDir = join(root, 'runs', `fault-${file}`);
      // Armed once the frame before is sent: the next write of `file` fails (frame 2's file, or
      // the index.json that would list frame 1).
      let undo: () => void = () => undefined;
      const onEvent = (e: EngineEvent) => {
        if (e.type === 'mapFrame' && e.epoch === listed.length - 1) undo = failWriteOf(file);
      };
      const failed = call(handleTrain, trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 3 } }), onEvent);
      try {
        await assert.rejects(
          failed,
          (err: EngineError) => err.code === 'file-system' && err.message.includes(join(runDir, 'film')),
          'the training fails, naming the film file',
        );
      } finally {
        undo();
      }
      const index = await readFilmIndex(runDir);
      assert.deepEqual(index!.epochs, listed, 'only complete frames are listed');
      const left = await fs.readdir(join(runDir, 'film'));
      assert.ok(!left.some((f) => f.startsWith('.tmp-')), `no temporary file is left: ${left.join(', ')}`);
      for (const epoch of listed) {
        assert.equal((await fs.stat(join(runDir, 'film', frameName(epoch)))).size, index!.files.length * index!.dims * 4);
      }
      const manifest = await manifestOf(runDir);
      assert.equal(manifest.state, 'failed');
      const info = await call(handleLoadRun, { type: 'loadRun', runDir });
      assert.equal(info.manifest.epochsCompleted, listed.length, 'the checkpoint of the epoch whose frame failed is committed');
      const film = await call(handleReadFilm, { type: 'readFilm', runDir });
      assert.deepEqual(
        film!.frames.map((f) => f.epoch),
        listed,
      );

      // Resume encodes the committed epoch whose frame is missing, then goes on.
      const resumed: EngineEvent[] = [];
      await call(handleResume, { type: 'resume', runDir, epochs: 3 }, resumed);
      assert.deepEqual(
        frames(resumed).map((f) => f.epoch),
        Array.from({ length: 4 - listed.length }, (_, i) => listed.length + i),
      );
      const full = await call(handleReadFilm, { type: 'readFilm', runDir });
      assert.deepEqual(
        full!.frames.map((f) => f.epoch),
        [0, 1, 2, 3],
      );
      await checkFrames(runDir, full!, { kind: 'folder', path: images }, [2, 3]);
    });
  }
});
