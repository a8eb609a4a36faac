// The engine worker through EngineClient, end to end on small demo-image folders: training with
// events (the map's film among them), cancel and resume, a crashed worker, incremental encoding,
// sampling and labels.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EngineEvent, EpochEvent, MapFrameEvent } from '../../src/protocol/engine';
import type { EngineClient } from '../../src/client/engineClient';
import { EngineError } from '../../src/protocol/errors';
import { client, demoFolder, SMALL_MODEL, SMALL_TRAINING, tempDir, trainBody } from './worker-fixtures';
import { pathToFileURL } from 'node:url';

let root: string;
let images: string;
let engine: EngineClient;

before(async () => {
  root = await tempDir('worker');
  images = await demoFolder(join(root, 'images'), 240);
  engine = client();
});
after(async () => {
  await engine.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

describe('engine worker', () => {
  test('trains end to end: status, progress and epoch events, a complete run.json and history', async () => {
    const runDir = join(root, 'runs', 'first');
    const events: EngineEvent[] = [];
    const res = await engine.request<'train'>(trainBody(runDir, images), (e) => events.push(e));
    assert.equal(res.state, 'complete');
    assert.ok(engine.backend, 'the ready event named the backend');
    const kinds = new Set(events.map((e) => e.type));
    for (const k of ['status', 'progress', 'epoch'] as const) assert.ok(kinds.has(k), `a ${k} event arrived`);
    const epochs = events.filter((e): e is EpochEvent => e.type === 'epoch').map((e) => e.summary);
    assert.deepEqual(
      epochs.map((s) => s.epoch),
      [1, 2],
    );
    for (const s of epochs) {
      assert.ok(Number.isFinite(s.train.reconstruction) && Number.isFinite(s.train.kl), 'both terms reported');
      assert.ok(s.validation, 'validation figures with a 0.2 split');
    }

    const manifest = JSON.parse(await fs.readFile(join(runDir, 'run.json'), 'utf8'));
    assert.equal(manifest.format, 'latent-atlas-run');
    assert.equal(manifest.state, 'complete');
    assert.equal(manifest.epochsCompleted, 2);
    assert.equal(manifest.checkpoint, 'checkpoints/epoch-0002');
    assert.deepEqual(manifest.labels, ['circle', 'square', 'triangle']);
    assert.deepEqual(manifest.preprocessing, { width: 28, height: 28, channels: 1, fit: 'cover' });
    assert.equal(manifest.dataset.count, 240);
    assert.equal(manifest.backend, engine.backend!.name);

    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    assert.deepEqual(
      info.history.map((s) => s.epoch),
      [1, 2],
    );
    assert.equal(info.manifest.last?.epoch, 2);

    // The film: its subset and frames 0..2 cross the IPC boundary as typed arrays; readFilm gives them back.
    const sent = events.filter((e): e is MapFrameEvent => e.type === 'mapFrame');
    assert.deepEqual(
      sent.map((f) => f.epoch),
      [0, 1, 2],
    );
    const subset = events.find((e) => e.type === 'mapSubset');
    assert.ok(subset && subset.labels instanceof Int32Array && subset.files.length > 0);
    const film = await engine.request<'readFilm'>({ type: 'readFilm', runDir });
    assert.ok(film);
    assert.deepEqual(film.files, subset.files);
    for (const [i, f] of sent.entries()) {
      assert.ok(f.mu instanceof Float32Array && f.mu.length === subset.files.length * f.dims);
      assert.deepEqual(film.frames[i], { epoch: f.epoch, mu: f.mu });
    }

    await assert.rejects(engine.request<'train'>(trainBody(runDir, images)), (err: EngineError) => {
      assert.equal(err.code, 'run-exists');
      assert.ok(err.message.includes(runDir));
      return true;
    });
  });

  test('resume after cancel continues the history and the step count', async () => {
    const runDir = join(root, 'runs', 'resumed');
    const job = engine.begin<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 30 } }), (e) => {
      if (e.type === 'epoch' && e.summary.epoch === 1) void engine.cancel(job.id);
    });
    const cancelled = await job.result;
    assert.equal(cancelled.state, 'cancelled');
    const k = cancelled.manifest.epochsCompleted;
    assert.ok(k >= 1 && k < 30, `stopped after epoch ${k}`);
    assert.equal(JSON.parse(await fs.readFile(join(runDir, 'run.json'), 'utf8')).state, 'cancelled');

    const total = k + 2;
    const resumed = await engine.request<'resume'>({ type: 'resume', runDir, epochs: total });
    assert.equal(resumed.state, 'complete');
    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    assert.deepEqual(
      info.history.map((s) => s.epoch),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    const stepsPerEpoch = info.history[0]!.step;
    assert.ok(stepsPerEpoch > 0);
    info.history.forEach((s, i) => assert.equal(s.step, (i + 1) * stepsPerEpoch, `epoch ${s.epoch} continues the step count`));
    assert.equal(info.manifest.epochsCompleted, total);
    assert.equal(info.manifest.training.epochs, total);
  });

  test('a second training while one runs is refused with a clear reason', async () => {
    const runDir = join(root, 'runs', 'long');
    let training!: () => void;
    const started = new Promise<void>((resolve) => (training = resolve));
    const job = engine.begin<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 50 } }), (e) => {
      if (e.type === 'progress') training();
    });
    await started;
    await assert.rejects(engine.request<'train'>(trainBody(join(root, 'runs', 'other'), images)), /already running/);
    // The engine says who trains a run that says 'training': here, its own worker.
    const live = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    assert.equal(live.manifest.state, 'training');
    const now = live.training;
    assert.ok(now?.state === 'running', JSON.stringify(now));
    assert.equal(now.pid, engine.workerPid, "held by this engine's own worker");
    assert.equal(await engine.cancel(job.id), true);
    assert.equal((await job.result).state, 'cancelled');
  });

  test('encodeFolder is incremental and reports a broken image while encoding the rest', async () => {
    const runDir = join(root, 'runs', 'first');
    const folder = join(root, 'to-encode');
    await fs.mkdir(join(folder, 'circle'), { recursive: true });
    const circles = (await fs.readdir(join(images, 'circle'))).slice(0, 12);
    for (const f of circles) await fs.copyFile(join(images, 'circle', f), join(folder, 'circle', f));
    await fs.writeFile(join(folder, 'circle', 'broken.png'), 'this is not a PNG');
    const warnings: EngineEvent[] = [];
    const first = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder }, (e) => {
      if (e.type === 'warning') warnings.push(e);
    });
    assert.equal(first.files.length, 12);
    assert.equal(first.encoded, 12);
    assert.equal(first.reused, 0);
    assert.equal(first.mu.length, 12 * first.dims);
    assert.ok(first.mu.every(Number.isFinite));
    // The sub-folder is one of the run's classes, so it is numbered as the run numbers it.
    assert.deepEqual(first.labelNames, ['circle', 'square', 'triangle']);
    assert.ok(first.labels.every((l) => l === 0));
    assert.ok(
      first.skipped.some((p) => p.file.endsWith('broken.png')),
      'the broken file is in the result',
    );
    assert.ok(
      warnings.some((w) => w.type === 'warning' && w.file?.endsWith('broken.png')),
      'and was reported as a warning',
    );

    const again = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder });
    assert.equal(again.reused, 12);
    assert.equal(again.encoded, 0);
    assert.deepEqual(again.mu, first.mu);

    const extra = (await fs.readdir(join(images, 'square')))[0]!;
    await fs.mkdir(join(folder, 'square'));
    await fs.copyFile(join(images, 'square', extra), join(folder, 'square', extra));
    await fs.rm(join(folder, 'circle', circles[0]!));
    const third = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder });
    assert.equal(third.encoded, 1);
    assert.equal(third.reused, 11);
    assert.equal(third.files.length, 12);
    assert.ok(!third.files.some((f) => f.endsWith(circles[0]!)), 'the deleted file is dropped');
    assert.deepEqual(third.labelNames, ['circle', 'square', 'triangle']);
    assert.equal(third.labels.filter((l) => l === 1).length, 1, 'the square is labelled square');

    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    assert.deepEqual(info.encodings, [folder]);

    const noImages = join(root, 'no-images');
    await fs.mkdir(noImages);
    await fs.writeFile(join(noImages, 'readme.txt'), 'no pictures here');
    await assert.rejects(engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: noImages }), (err: EngineError) => {
      assert.equal(err.code, 'no-images');
      assert.ok(err.message.includes(noImages) && err.message.includes('.txt'), err.message);
      return true;
    });
  });

  test("sample writes N images of the run's shape; decode answers; saving by latents writes what was shown", async () => {
    const runDir = join(root, 'runs', 'first');
    const s = await engine.request<'sample'>({ type: 'sample', runDir, count: 5, mode: { kind: 'prior' }, seed: 7 });
    assert.deepEqual([s.images.count, s.images.width, s.images.height, s.images.channels], [5, 28, 28, 1]);
    assert.equal(s.images.pixels.length, 5 * 28 * 28);
    assert.equal(s.latents.length, 10);
    const same = await engine.request<'sample'>({ type: 'sample', runDir, count: 5, mode: { kind: 'prior' }, seed: 7 });
    assert.deepEqual(same.images.pixels, s.images.pixels, 'a seed reproduces the draws');
    const decoded = await engine.request<'decode'>({ type: 'decode', runDir, latents: s.latents });
    assert.deepEqual(decoded.pixels, s.images.pixels);
    await assert.rejects(engine.request<'decode'>({ type: 'decode', runDir, latents: new Float32Array(3) }), /not a whole number/);
    // Saving what a view shows sends its latents, not its pixels: the worker decodes them again
    // where it writes, and the files hold exactly the pixels the view showed. An existing file is
    // never replaced.
    const out = join(root, 'samples');
    await fs.mkdir(out, { recursive: true });
    await fs.writeFile(join(out, 'sample-002.png'), 'mine');
    const { files } = await engine.request<'writeDecoded'>({ type: 'writeDecoded', runDir, latents: s.latents, dir: out, stem: 'sample' });
    assert.deepEqual(
      files.map((f) => f.slice(out.length + 1)),
      ['sample-001.png', 'sample-003.png', 'sample-004.png', 'sample-005.png', 'sample-006.png'],
    );
    assert.equal(await fs.readFile(join(out, 'sample-002.png'), 'utf8'), 'mine');
    const sharp = (await import('sharp')).default;
    for (const [i, file] of files.entries()) {
      const meta = await sharp(file).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [28, 28, 1]);
      const data = await sharp(file).extractChannel(0).raw().toBuffer();
      assert.deepEqual(new Uint8Array(data), s.images.pixels.subarray(i * 784, (i + 1) * 784), `${file} holds sample ${i}`);
    }
    // Sampling into files in one request: the same draws as `sample`, written next to the others.
    const written = await engine.request<'writeSamples'>({
      type: 'writeSamples',
      runDir,
      count: 5,
      mode: { kind: 'prior' },
      seed: 7,
      dir: out,
      stem: 'sample',
    });
    assert.deepEqual(
      written.files.map((f) => f.slice(out.length + 1)),
      ['sample-007.png', 'sample-008.png', 'sample-009.png', 'sample-010.png', 'sample-011.png'],
    );
    assert.deepEqual(await fs.readFile(written.files[0]), await fs.readFile(files[0]), 'a seed reproduces the draws');
    await assert.rejects(
      engine.request<'writeSamples'>({ type: 'writeSamples', runDir, count: 1, mode: { kind: 'prior' }, dir: out, stem: '../escape' }),
      (err: EngineError) => err.code === 'bad-request',
    );
    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    assert.equal(info.training, undefined, 'a complete run has no training state');
  });

  test('reconstruct and estimateLogPx answer with finite figures; UMAP is seeded', async () => {
    const runDir = join(root, 'runs', 'first');
    // One image of each class, so their reconstructions should differ.
    const files = await Promise.all(
      ['circle', 'square', 'triangle'].map(async (c) => join(images, c, (await fs.readdir(join(images, c)))[0])),
    );
    const rec = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir, files: [...files, join(root, 'missing.png')] });
    assert.equal(rec.originals.count, 3);
    assert.equal(rec.reconstructions.pixels.length, 3 * 28 * 28);
    assert.equal(rec.terms?.length, 3);
    assert.ok(rec.terms!.every((t) => Number.isFinite(t.elbo) && t.kl >= 0));
    // Reconstructions resemble their own originals more than shuffled ones (a decoder fed z = 0, or
    // the wrong image's z, fails this). The tiny two-epoch run above has barely learned: train one
    // that has.
    const trainedDir = join(root, 'runs', 'reconstructs');
    await engine.request<'train'>(
      trainBody(trainedDir, images, {
        model: { ...SMALL_MODEL, latentSize: 8, hiddenUnits: [256] },
        training: { ...SMALL_TRAINING, epochs: 25, validationSplit: 0 },
      }),
    );
    const good = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir: trainedDir, files });
    const px = 28 * 28;
    const distance = (i: number, j: number) => {
      let sum = 0;
      for (let p = 0; p < px; p++) sum += (good.originals.pixels[i * px + p] - good.reconstructions.pixels[j * px + p]) ** 2;
      return sum;
    };
    for (let i = 0; i < 3; i++) {
      const own = distance(i, i);
      const shuffled = [0, 1, 2].filter((j) => j !== i).map((j) => distance(i, j));
      assert.ok(own < Math.min(...shuffled), `image ${i}: its reconstruction is ${own} away, the others' ${shuffled.join(', ')}`);
    }
    assert.equal(rec.skipped.length, 1);
    const lp = await engine.request<'estimateLogPx'>({ type: 'estimateLogPx', runDir, k: 20 });
    assert.equal(lp.count, 48, "the run's validation images (20% of 240)");
    assert.ok(lp.logPx >= lp.elbo, `IWAE bound ${lp.logPx} ≥ ELBO ${lp.elbo}`);
    const enc = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
    // UMAP reads the run's encoding of the folder where it was written: no points are sent.
    // The layout is reported as it converges, the last report being the reply's.
    const layouts: { epoch: number; coords: Float32Array }[] = [];
    const a = await engine.request<'project'>({ type: 'project', runDir, folder: images, method: 'umap', seed: 5 }, (e) => {
      if (e.type === 'layout') layouts.push(e);
    });
    assert.ok(layouts.length >= 10, `${layouts.length} intermediate layouts`);
    assert.ok(layouts.every((l, i) => i === 0 || l.epoch > layouts[i - 1]!.epoch));
    assert.deepEqual(layouts.at(-1)!.coords, a.coords);
    const b = await engine.request<'project'>({ type: 'project', runDir, folder: images, method: 'umap', seed: 5 });
    assert.equal(a.coords.length, enc.files.length * 2);
    assert.ok(a.coords.every(Number.isFinite));
    assert.deepEqual(a.coords, b.coords);
    const never = join(root, 'never-encoded');
    await assert.rejects(
      engine.request<'project'>({ type: 'project', runDir, folder: never, method: 'umap' }),
      (err: EngineError) => err.code === 'bad-request' && err.message.includes(`has no encoding of ${never}. Encode the folder`),
    );
  });

  test('sampling by label: an unknown label names the known ones; a known label samples', async () => {
    const runDir = join(root, 'runs', 'conditional');
    await engine.request<'train'>(
      trainBody(runDir, images, { model: { ...trainBody('', '').model, conditional: true }, training: { ...SMALL_TRAINING, epochs: 1 } }),
    );
    await assert.rejects(
      engine.request<'sample'>({ type: 'sample', runDir, count: 2, mode: { kind: 'label', label: 'hexagon' } }),
      (err: EngineError) => err.code === 'bad-request' && /hexagon/.test(err.message) && /circle, square, triangle/.test(err.message),
    );
    const s = await engine.request<'sample'>({ type: 'sample', runDir, count: 3, mode: { kind: 'label', label: 'square' } });
    assert.equal(s.images.count, 3);

    // Encoding one class's folder labels its images with that class, as encoding the whole
    // folder does: the conditional encoder gets the same label, so the points are the same.
    const whole = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
    const squares = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: join(images, 'square') });
    assert.deepEqual(squares.labelNames, whole.labelNames);
    const squareIndex = whole.labelNames.indexOf('square');
    assert.ok(squares.files.length > 0 && squares.labels.every((l) => l === squareIndex));
    const dims = whole.dims;
    for (const [i, file] of squares.files.entries()) {
      const j = whole.files.indexOf(file);
      assert.equal(whole.labels[j], squareIndex);
      for (let d = 0; d < dims; d++) {
        assert.ok(
          Math.abs(squares.mu[i * dims + d] - whole.mu[j * dims + d]) < 1e-5,
          `${file}: z${d} ${squares.mu[i * dims + d]} vs ${whole.mu[j * dims + d]}`,
        );
      }
    }
    await assert.rejects(
      engine.request<'sample'>({ type: 'sample', runDir: join(root, 'runs', 'first'), count: 2, mode: { kind: 'label', label: 'circle' } }),
      /not conditional/,
    );
  });

  test('a killed worker rejects the pending request in plain words; the next request gets a fresh worker', async () => {
    const runDir = join(root, 'runs', 'killed');
    const pid = engine.workerPid;
    const pending = engine.request<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 50 } }), (e) => {
      if (e.type === 'progress') process.kill(engine.workerPid!, 'SIGKILL');
    });
    await assert.rejects(pending, (err: EngineError) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'worker-crashed');
      assert.match(err.message, /engine worker was stopped by signal SIGKILL while training/);
      assert.match(err.message, /next command starts a fresh worker/);
      return true;
    });
    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir: join(root, 'runs', 'first') });
    assert.equal(info.manifest.state, 'complete');
    assert.notEqual(engine.workerPid, pid, 'a fresh worker answered');
  });

  test('an error nothing caught stops the worker: what runs fails in plain words, the next request gets a fresh worker', async () => {
    const { EngineClient } = await import('../../src/client/engineClient');
    const { TSX_IMPORT, WORKER_SOURCE } = await import('./worker-fixtures');
    // A stray throw in the worker process (as from a library callback) once training runs.
    const preload = join(root, 'stray-throw.mjs');
    await fs.writeFile(
      preload,
      `process.on('message', (m) => { if (m?.type === 'train') setTimeout(() => { throw new Error('stray'); }, 1500); });\n`,
    );
    const strayClient = new EngineClient({
      workerPath: WORKER_SOURCE,
      execArgv: ['--import', TSX_IMPORT, '--import', pathToFileURL(preload).href],
    });
    const runDir = join(root, 'runs', 'stray');
    const training = strayClient.request<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 500 } }));
    await assert.rejects(training, (err: EngineError) => {
      assert.equal(err.code, 'internal');
      assert.match(err.message, /^The engine stopped after an unexpected error \(stray\)\. It restarts with the next command/);
      return true;
    });
    const pid = strayClient.workerPid;
    const info = await strayClient.request<'loadRun'>({ type: 'loadRun', runDir: join(root, 'runs', 'first') });
    assert.equal(info.manifest.state, 'complete');
    assert.notEqual(strayClient.workerPid, pid, 'a fresh worker answered');
    await strayClient.dispose();
  });

  test('a worker that runs out of memory is reported as such, in plain words', async () => {
    const { EngineClient } = await import('../../src/client/engineClient');
    const { TSX_IMPORT, WORKER_SOURCE } = await import('./worker-fixtures');
    // A small heap and a projection of a million points, far too many for it: a real V8 heap
    // exhaustion in the worker.
    const small = new EngineClient({ workerPath: WORKER_SOURCE, execArgv: ['--import', TSX_IMPORT], maxOldSpaceMb: 200 });
    const { writeEncoding } = await import('../../src/engine/runStore/encodings');
    const count = 1_000_000;
    const dims = 2;
    const runDir = join(root, 'runs', 'huge-encoding');
    const folder = join(root, 'huge-folder');
    await writeEncoding(runDir, {
      folder,
      checkpoint: 'c',
      dims,
      labelNames: [],
      terms: null,
      files: Array.from({ length: count }, (_, i) => ({ path: join(folder, `${i}.png`), size: 1, mtimeMs: 0, label: -1 })),
      mu: new Float32Array(count * dims).map((_, i) => ((i * 7919) % 1000) / 1000),
      logVar: new Float32Array(count * dims),
      skipped: [],
      updatedAt: new Date().toISOString(),
    });
    await assert.rejects(small.request<'project'>({ type: 'project', runDir, folder, method: 'umap' }), (err: EngineError) => {
      assert.equal(err.code, 'out-of-memory');
      assert.match(err.message, /ran out of memory while projecting points; try fewer images or points/);
      return true;
    });
    await small.dispose();
  });

  test('a forced backend that cannot load fails the start with the reason', async () => {
    const { EngineClient } = await import('../../src/client/engineClient');
    const { TSX_IMPORT, WORKER_SOURCE } = await import('./worker-fixtures');
    // A tfjs-node-gpu that cannot find CUDA, in the configured folder (searched first): the same
    // failure whatever else this machine has installed.
    const modules = join(root, 'native-modules');
    const pkg = join(modules, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
    await fs.mkdir(pkg, { recursive: true });
    await fs.writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', main: 'index.js' }));
    await fs.writeFile(join(pkg, 'index.js'), "throw new Error('libcudart.so.11.0: cannot open shared object file');");
    const gpu = new EngineClient({
      workerPath: WORKER_SOURCE,
      execArgv: ['--import', TSX_IMPORT],
      worker: { backend: 'tensorflow-gpu', nativeModulesPath: modules },
    });
    await assert.rejects(gpu.request<'loadRun'>({ type: 'loadRun', runDir: root }), (err: EngineError) => {
      assert.equal(err.code, 'backend-unavailable');
      assert.match(err.message, /tfjs-node-gpu is installed but failed to load \(libcudart\.so\.11\.0: cannot open shared object file\)/);
      return true;
    });
    await gpu.dispose();
  });
});
