// Atomicity under SIGKILL: a real worker training tiny epochs is killed at staggered moments
// while it writes a checkpoint (the kill is timed from the checkpoint's temp folder appearing); each
// time the run must load — manifest, checkpoint, optimiser state, a contiguous history and a film
// of whole frames — and resuming it must work.

import assert from 'node:assert/strict';
import { promises as fs, watch } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setTf } from '../../src/engine/tf';
import { loadCheckpoint, readHistory, readManifest } from '../../src/engine/runStore/runStore';
import { frameName, readFilmIndex } from '../../src/engine/runStore/film';
import type { EngineClient } from '../../src/client/engineClient';
import { client, demoFolder, SMALL_TRAINING, tempDir, trainBody } from './worker-fixtures';

let root: string;
let engine: EngineClient;

before(async () => {
  await tf.setBackend('cpu');
  setTf(tf);
  root = await tempDir('kill');
  engine = client();
});
after(async () => {
  await engine.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

/**
 * Milliseconds between the moment a checkpoint's temporary folder appears (seen through fs.watch)
 * and the kill: spread over the writing of the checkpoint and the replacing of run.json.
 */
const KILL_DELAYS_MS = [0, 1, 2, 3, 5, 8, 12, 20];

test('a worker killed with SIGKILL around checkpoint writes always leaves a run that loads', async (t) => {
  const images = await demoFolder(join(root, 'images'), 60);
  const runDir = join(root, 'run');
  const training = { ...SMALL_TRAINING, epochs: 10_000, batchSize: 30, validationSplit: 0 };
  let leftovers = 0;
  for (const [round, delay] of KILL_DELAYS_MS.entries()) {
    const body = round === 0 ? trainBody(runDir, images, { training }) : { type: 'resume' as const, runDir, epochs: 10_000 };
    let epochsSeen = 0;
    const killed = new Promise<void>((resolve) => {
      const job = engine.begin(body as never, (e) => {
        if (e.type !== 'epoch' || ++epochsSeen !== 2) return;
        const pid = engine.workerPid!;
        const watcher = watch(join(runDir, 'checkpoints'), (_event, name) => {
          if (!name?.startsWith('.tmp-')) return;
          watcher.close();
          setTimeout(() => {
            process.kill(pid, 'SIGKILL');
            resolve();
          }, delay);
        });
      });
      job.result.then(
        () => assert.fail('training should have been killed'),
        (err: { code: string }) => assert.equal(err.code, 'worker-crashed'),
      );
    });
    await killed;
    // Wait until the client has seen the exit, so the next request starts a fresh worker.
    while (engine.workerPid !== undefined) await new Promise((r) => setTimeout(r, 10));

    const manifest = await readManifest(runDir);
    assert.ok(manifest.epochsCompleted >= 2, `round ${round}: at least the two epochs seen are committed`);
    const saved = await loadCheckpoint(runDir, manifest, true);
    assert.equal(saved.encoder.outputs.length, 2);
    assert.ok(saved.optimizer && saved.optimizer.length > 0);
    saved.encoder.dispose();
    saved.decoder.dispose();
    const history = await readHistory(runDir, manifest);
    assert.deepEqual(
      history.map((s) => s.epoch),
      Array.from({ length: manifest.epochsCompleted }, (_, i) => i + 1),
    );
    // The film lists whole frames only, every epoch from 0 on, up to the committed one (whose frame
    // comes after its commit, so a kill may leave it out; the resume stores it).
    const film = await readFilmIndex(runDir);
    const expected = Array.from({ length: manifest.epochsCompleted + 1 }, (_, i) => i);
    assert.ok(
      film && [expected.join(), expected.slice(0, -1).join()].includes(film.epochs.join()),
      `round ${round}: film epochs ${film?.epochs.join()} for ${manifest.epochsCompleted} committed`,
    );
    for (const epoch of film.epochs) {
      assert.equal((await fs.stat(join(runDir, 'film', frameName(epoch)))).size, film.files.length * film.dims * 4);
    }
    const entries = await fs.readdir(join(runDir, 'checkpoints'));
    if (entries.some((e) => e.startsWith('.tmp-') || `checkpoints/${e}` > manifest.checkpoint!)) leftovers++;
  }
  // The engine's own view: the run loads and decodes with a fresh worker.
  const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
  assert.ok(info.manifest.epochsCompleted >= 2 * KILL_DELAYS_MS.length);
  const decoded = await engine.request<'decode'>({ type: 'decode', runDir, latents: new Float32Array([0, 0]) });
  assert.equal(decoded.count, 1);
  const film = await engine.request<'readFilm'>({ type: 'readFilm', runDir });
  assert.ok(film && film.frames.length >= info.manifest.epochsCompleted, 'the film has a frame per committed epoch but perhaps the last');
  t.diagnostic(`kills that left an uncommitted checkpoint behind: ${leftovers}/${KILL_DELAYS_MS.length}`);
  // The test means something only if kills landed mid-write (8 of 8 do here); most must.
  assert.ok(
    leftovers >= KILL_DELAYS_MS.length / 2,
    `only ${leftovers} of ${KILL_DELAYS_MS.length} kills landed while a checkpoint was being written`,
  );
});
