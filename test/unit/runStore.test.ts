// The run store on disk: models round-trip exactly, plain tfjs reads them, history survives a torn
// line, checkpoints commit atomically, and damaged or foreign folders give plain-words errors.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setTf } from '../../src/engine/tf';
import {
  acquireTrainingLock,
  appendHistory,
  createRun,
  loadCheckpoint,
  readHistory,
  readManifest,
  releaseTrainingLock,
  saveCheckpoint,
  trainingOwner,
  writeManifest,
} from '../../src/engine/runStore/runStore';
import { listEncodings, readEncoding, writeEncoding } from '../../src/engine/runStore/encodings';
import { EngineError } from '../../src/protocol/errors';
import { adamState, summary, testManifest, tinyModels } from './runStore-fixtures';

const manifest = testManifest;

let root: string;

before(async () => {
  await tf.setBackend('cpu');
  setTf(tf);
  root = await fs.mkdtemp(join(tmpdir(), 'la-runstore-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('run store', () => {
  test('save then load gives identical weights and predictions, optimiser state included', async () => {
    const runDir = join(root, 'roundtrip');
    await createRun(runDir, manifest('roundtrip'));
    const { encoder, decoder } = tinyModels();
    const optimizer = await adamState(encoder);
    const committed = await saveCheckpoint(runDir, { encoder, decoder }, optimizer, {
      ...manifest('roundtrip'),
      epochsCompleted: 1,
      step: 1,
    });
    assert.equal(committed.checkpoint, 'checkpoints/epoch-0001');
    const onDisk = await readManifest(runDir);
    assert.equal(onDisk.checkpoint, 'checkpoints/epoch-0001');

    const loaded = await loadCheckpoint(runDir, onDisk, true);
    const a = encoder.getWeights();
    const b = loaded.encoder.getWeights();
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.deepEqual(await b[i]!.data(), await a[i]!.data());
    const z = tf.tensor2d([
      [0.3, -1.2],
      [2, 0.5],
    ]);
    assert.deepEqual(await (loaded.decoder.predict(z) as tf.Tensor).data(), await (decoder.predict(z) as tf.Tensor).data());
    assert.ok(loaded.optimizer);
    assert.deepEqual(
      loaded.optimizer.map((w) => w.name),
      optimizer.map((w) => w.name),
    );
    assert.ok(optimizer.length >= 3, 'Adam has a step counter and two moments per variable');
    assert.deepEqual(loaded.optimizer, optimizer);
  });

  test('plain tf.loadLayersModel reads model.json + weights with a tiny custom IOHandler', async () => {
    const runDir = join(root, 'plain');
    await createRun(runDir, manifest('plain'));
    const { encoder, decoder } = tinyModels();
    const m = await saveCheckpoint(runDir, { encoder, decoder }, [], { ...manifest('plain'), epochsCompleted: 3 });
    const dir = join(runDir, m.checkpoint!, 'decoder');
    const modelJson = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const handler: tf.io.IOHandler = {
      load: async () => {
        const bins = modelJson.weightsManifest.flatMap((g) => g.paths);
        const data = Buffer.concat(await Promise.all(bins.map((p) => fs.readFile(join(dir, p)))));
        return {
          modelTopology: modelJson.modelTopology,
          weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
          weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        };
      },
    };
    const plain = await tf.loadLayersModel(handler);
    const z = tf.tensor2d([[1, 1]]);
    assert.deepEqual(await (plain.predict(z) as tf.Tensor).data(), await (decoder.predict(z) as tf.Tensor).data());
  });

  test('only the last two checkpoints are kept; a half-written newer one is ignored on load', async () => {
    const runDir = join(root, 'prune');
    await createRun(runDir, manifest('prune'));
    const { encoder, decoder } = tinyModels();
    let m = manifest('prune');
    for (let e = 1; e <= 4; e++) m = await saveCheckpoint(runDir, { encoder, decoder }, [], { ...m, epochsCompleted: e });
    assert.deepEqual((await fs.readdir(join(runDir, 'checkpoints'))).sort(), ['epoch-0003', 'epoch-0004']);
    // A crash while writing epoch 5: its folder exists but run.json was never switched to it.
    await fs.mkdir(join(runDir, 'checkpoints', 'epoch-0005', 'encoder'), { recursive: true });
    await fs.writeFile(join(runDir, 'checkpoints', 'epoch-0005', 'encoder', 'model.json'), '{"trunc');
    await fs.mkdir(join(runDir, 'checkpoints', '.tmp-epoch-0006-1-2'), { recursive: true });
    const onDisk = await readManifest(runDir);
    assert.equal(onDisk.epochsCompleted, 4);
    const loaded = await loadCheckpoint(runDir, onDisk, false);
    assert.equal(loaded.encoder.outputs.length, 2);
    // The next writer cleans the leftovers.
    await saveCheckpoint(runDir, { encoder, decoder }, [], { ...onDisk, epochsCompleted: 5 });
    assert.deepEqual((await fs.readdir(join(runDir, 'checkpoints'))).sort(), ['epoch-0004', 'epoch-0005']);
    await loadCheckpoint(runDir, await readManifest(runDir), false);
  });

  test('a torn last history line is ignored and the next append still reads', async () => {
    const runDir = join(root, 'history');
    await createRun(runDir, manifest('history'));
    await appendHistory(runDir, summary(1));
    await appendHistory(runDir, summary(2));
    await fs.appendFile(join(runDir, 'history.jsonl'), '{"epoch":3,"step":15,"tra');
    const m = { ...manifest('history'), epochsCompleted: 3 };
    assert.deepEqual(
      (await readHistory(runDir, m)).map((s) => s.epoch),
      [1, 2],
    );
    await appendHistory(runDir, summary(3));
    assert.deepEqual(
      (await readHistory(runDir, m)).map((s) => s.epoch),
      [1, 2, 3],
    );
    // Epochs beyond the committed checkpoint (written just before a crash) are not reported.
    assert.deepEqual(
      (await readHistory(runDir, { ...m, epochsCompleted: 2 })).map((s) => s.epoch),
      [1, 2],
    );
  });

  test('unknown format version, a foreign folder and a missing checkpoint give plain-words errors', async () => {
    const runDir = join(root, 'future');
    await createRun(runDir, manifest('future'));
    await writeManifest(runDir, { ...manifest('future'), version: 2 as 1 });
    await assert.rejects(readManifest(runDir), (err: EngineError) => {
      assert.equal(err.code, 'corrupt-run');
      assert.match(err.message, /version 2/);
      assert.ok(err.message.includes(join(runDir, 'run.json')));
      return true;
    });
    const empty = join(root, 'not-a-run');
    await fs.mkdir(empty);
    await assert.rejects(readManifest(empty), (err: EngineError) => err.code === 'not-a-run' && err.message.includes(empty));
    await assert.rejects(readManifest(join(root, 'missing')), /does not exist/);
    await fs.writeFile(join(empty, 'run.json'), '{ not json');
    await assert.rejects(readManifest(empty), (err: EngineError) => err.code === 'corrupt-run' && /not valid JSON/.test(err.message));
    const fresh = join(root, 'fresh');
    await createRun(fresh, manifest('fresh'));
    await assert.rejects(loadCheckpoint(fresh, await readManifest(fresh), false), /no saved model yet/);
    await assert.rejects(createRun(fresh, manifest('fresh')), (err: EngineError) => err.code === 'run-exists');
  });

  test("a run trained by another live process is refused; a dead trainer's lock is taken over", async () => {
    const runDir = join(root, 'locked');
    await createRun(runDir, manifest('locked'));
    const lockFile = join(runDir, 'training.lock');
    await fs.writeFile(lockFile, JSON.stringify({ pid: process.ppid, host: hostname(), since: 'earlier' }));
    await assert.rejects(acquireTrainingLock(runDir), (err: EngineError) => {
      assert.match(err.message, new RegExp(`being trained by process ${process.ppid}`));
      return true;
    });
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await fs.writeFile(lockFile, JSON.stringify({ pid: gone, host: hostname(), since: 'earlier' }));
    assert.equal(await trainingOwner(runDir), null);
    await acquireTrainingLock(runDir);
    assert.equal(JSON.parse(await fs.readFile(lockFile, 'utf8')).pid, process.pid);
    await releaseTrainingLock(runDir);
    assert.equal(await trainingOwner(runDir), null);
  });

  test('encodings round-trip; a .bin that does not match its .json counts as none', async () => {
    const runDir = join(root, 'enc');
    await createRun(runDir, manifest('enc'));
    const folder = join(root, 'images façade');
    const enc = {
      folder,
      checkpoint: 'checkpoints/epoch-0001',
      dims: 2,
      labelNames: ['a'],
      files: [
        { path: join(folder, 'a', 'x.png'), size: 10, mtimeMs: 1, label: 0 },
        { path: join(root, 'elsewhere.png'), size: 11, mtimeMs: 2, label: -1 },
      ],
      mu: Float32Array.from([1, 2, 3, 4]),
      logVar: Float32Array.from([-1, -2, -3, -4]),
      terms: { reconstruction: Float32Array.from([120.5, 88]), kl: Float32Array.from([3.25, 7]) },
      skipped: [{ file: join(folder, 'bad.png'), reason: 'truncated' }],
      updatedAt: new Date().toISOString(),
    };
    await writeEncoding(runDir, enc);
    const back = await readEncoding(runDir, folder);
    assert.ok(back);
    assert.deepEqual(back.files, enc.files);
    assert.deepEqual(back.mu, enc.mu);
    assert.deepEqual(back.logVar, enc.logVar);
    assert.deepEqual(back.terms, enc.terms);
    assert.deepEqual(await listEncodings(runDir), [folder]);
    const stored = JSON.parse(
      await fs.readFile(
        join(
          runDir,
          'encodings',
          (await fs.readdir(join(runDir, 'encodings'))).find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    );
    assert.equal(stored.files[0].path, 'a/x.png');
    const bin = (await fs.readdir(join(runDir, 'encodings'))).find((f) => f.endsWith('.bin'))!;
    await fs.writeFile(join(runDir, 'encodings', bin), new Uint8Array(32));
    assert.equal(await readEncoding(runDir, folder), null);
  });

  test('an encoding written by version 1 (μ and log σ² only) is still read, without ELBO terms', async () => {
    const runDir = join(root, 'enc-v1');
    const folder = join(root, 'old images');
    const bin = new Uint8Array(Float32Array.from([1, 2, 3, 4, -1, -2, -3, -4]).buffer);
    const { createHash } = await import('node:crypto');
    const json = {
      format: 'latent-atlas-encoding',
      version: 1,
      folder,
      checkpoint: 'checkpoints/epoch-0001',
      dims: 2,
      labelNames: [],
      files: [
        { path: 'x.png', size: 1, mtimeMs: 1, label: -1 },
        { path: 'y.png', size: 1, mtimeMs: 1, label: -1 },
      ],
      skipped: [],
      bin: { bytes: bin.byteLength, sha256: createHash('sha256').update(bin).digest('hex') },
      updatedAt: '2026-11-30T00:00:00.000Z',
    };
    const { encodingSlug } = await import('../../src/engine/runStore/encodings');
    await fs.mkdir(join(runDir, 'encodings'), { recursive: true });
    await fs.writeFile(join(runDir, 'encodings', `${encodingSlug(folder)}.bin`), bin);
    await fs.writeFile(join(runDir, 'encodings', `${encodingSlug(folder)}.json`), JSON.stringify(json));
    const back = await readEncoding(runDir, folder);
    assert.ok(back);
    assert.deepEqual(Array.from(back.mu), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(back.logVar), [-1, -2, -3, -4]);
    assert.equal(back.terms, null);
    assert.deepEqual(
      back.files.map((f) => f.path),
      [join(folder, 'x.png'), join(folder, 'y.png')],
    );
  });
});
