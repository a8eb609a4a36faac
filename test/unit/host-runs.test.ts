import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  checkRunName,
  checkSampleCount,
  defaultRunName,
  describeRun,
  findRuns,
  readRunEpochs,
  isInside,
  runRoot,
  sanitizeRunName,
  takenNames,
  uniqueName,
} from '../../src/host/runs';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'host-runs-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

test('run names come from the folder name, made safe and unique in the run location', () => {
  assert.equal(sanitizeRunName('Fashion MNIST (train)'), 'Fashion-MNIST-train');
  assert.equal(sanitizeRunName('.hidden'), 'hidden');
  assert.equal(sanitizeRunName('///'), 'run');
  // Whatever the folder is called, the suggestion is a name the run store accepts.
  assert.equal(sanitizeRunName('a..b'), 'a.b');
  assert.equal(sanitizeRunName('con'), 'con-run');
  assert.equal(defaultRunName('/data/shapes', new Set()), 'shapes');
  assert.equal(defaultRunName('/data/shapes', new Set(['shapes', 'shapes-2'])), 'shapes-3');
  assert.equal(defaultRunName(null, new Set(['demo'])), 'demo-2');
  assert.equal(uniqueName('a', new Set(['b'])), 'a');
});

test('typed run names are checked before training starts', () => {
  const taken = new Set(['shapes']);
  assert.equal(checkRunName('shapes-2', taken), undefined);
  assert.match(checkRunName('shapes', taken)!, /already exists/);
  assert.match(checkRunName('', taken)!, /name/);
  assert.match(checkRunName('../escape', taken)!, /letters, digits/);
  assert.match(checkRunName('a/b', taken)!, /letters, digits/);
  assert.match(checkRunName('x'.repeat(65), taken)!, /64/);
  // The names the run store refuses are refused here too, before any data is loaded.
  assert.match(checkRunName('a..b', taken)!, /".."/);
  assert.match(checkRunName('run.', taken)!, /ends with "."/);
  assert.match(checkRunName('con', taken)!, /reserved device name/);
});

test('sample counts must be whole numbers from 1 to the limit', () => {
  assert.equal(checkSampleCount('16'), undefined);
  assert.equal(checkSampleCount(' 1000 '), undefined);
  for (const bad of ['0', '1001', '-3', '2.5', 'ten', '']) assert.ok(checkSampleCount(bad), `rejects ${JSON.stringify(bad)}`);
});

test('run locations resolve against the workspace folder; isInside catches escapes', () => {
  assert.equal(runRoot('/ws', '.vae'), '/ws/.vae');
  assert.equal(runRoot('/ws', '/abs/runs'), '/abs/runs');
  assert.ok(isInside('/ws', '/ws/.vae/run'));
  assert.ok(isInside('/ws', '/ws'));
  assert.ok(!isInside('/ws', '/ws/../other'));
  assert.ok(!isInside('/ws', '/wsx/file'));
});

async function writeRun(dir: string, fields: Record<string, unknown>) {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'run.json'),
    JSON.stringify({
      format: 'latent-atlas-run',
      version: 1,
      model: { latentSize: 2 },
      training: { epochs: 5 },
      checkpoint: 'checkpoints/epoch-0005',
      last: null,
      ...fields,
    }),
  );
}

test('run discovery finds runs in the run locations and in given run.json paths, newest first', async () => {
  const root = join(tmp, 'ws', '.vae');
  await writeRun(join(root, 'old'), {
    name: 'old',
    state: 'complete',
    epochsCompleted: 5,
    updatedAt: '2026-01-01T00:00:00Z',
    last: { train: { elbo: -150.25 }, validation: { elbo: -152.5 } },
  });
  await writeRun(join(root, 'new'), {
    name: 'new',
    state: 'cancelled',
    epochsCompleted: 0,
    updatedAt: '2026-02-01T00:00:00Z',
    checkpoint: null,
  });
  await mkdir(join(root, 'not-a-run'), { recursive: true });
  await writeFile(join(root, 'stray.txt'), 'x');
  const elsewhere = join(tmp, 'ws', 'sub', '.vae', 'other');
  await writeRun(elsewhere, { name: 'other', state: 'complete', epochsCompleted: 5, updatedAt: '2026-01-15T00:00:00Z' });
  await mkdir(join(tmp, 'ws', 'broken'), { recursive: true });
  await writeFile(join(tmp, 'ws', 'broken', 'run.json'), '{ torn');

  const runs = await findRuns(
    [root, join(tmp, 'missing')],
    [join(elsewhere, 'run.json'), join(tmp, 'ws', 'broken', 'run.json'), join(root, 'old', 'run.json')],
  );
  assert.deepEqual(
    runs.map((r) => r.name),
    ['new', 'other', 'old'],
  );
  const old = runs[2];
  assert.equal(old.negElbo, 152.5);
  assert.equal(old.loadable, true);
  assert.equal(runs[0].loadable, false);
  // The picker's row: state and −ELBO, then the settings line shared with the status bar.
  assert.equal(describeRun(old), 'complete, −ELBO 152.5 nats · z=2 · 5/5 epochs');
  assert.deepEqual([...(await takenNames(root))].sort(), ['new', 'not-a-run', 'old']);
  assert.deepEqual([...(await takenNames(join(tmp, 'missing')))], []);
});

test('another run’s epochs are read from its history for the comparison; committed epochs only, damaged lines skipped', async () => {
  const dir = join(tmp, 'compare', 'wide');
  const terms = (negElbo: number) => ({ reconstruction: negElbo - 4, kl: 4, elbo: -negElbo, bitsPerDim: 0.1 });
  const epoch = (n: number, negElbo: number) => ({
    epoch: n,
    step: n * 10,
    train: terms(negElbo),
    validation: n === 2 ? null : terms(negElbo + 2),
    klPerDim: [2, 2],
    activeUnits: 2,
    imagesPerSecond: 100,
    seconds: 1,
    backend: 'cpu',
    time: '2026-01-01T00:00:00Z',
    curve: [{ step: n * 10, terms: terms(negElbo), imagesPerSecond: 100 }],
  });
  await writeRun(dir, {
    name: 'wide',
    state: 'cancelled',
    epochsCompleted: 3,
    model: { architecture: 'mlp', hiddenUnits: [800], latentSize: 2 },
  });
  const lines = [epoch(1, 200), { epoch: 2, train: 'oops' }, epoch(2, 180), epoch(3, 170), epoch(4, 165)].map((l) => JSON.stringify(l));
  await writeFile(join(dir, 'history.jsonl'), lines.join('\n') + '\n{"epoch": 5, "tor');

  const run = await readRunEpochs(dir);
  assert.ok(run);
  assert.equal(run.name, 'wide');
  // Epoch 4 was written after the last commit (a crash): not part of the run.
  assert.deepEqual(
    run.epochs.map((e) => [e.epoch, -e.train.elbo, e.validation && -e.validation.elbo]),
    [
      [1, 200, 202],
      [2, 180, null],
      [3, 170, 172],
    ],
  );
  assert.equal(run.settings.find((s) => s.key === 'model')?.value, 'mlp 800');
  assert.equal(run.settings.find((s) => s.key === 'epochs')?.value, '3/5 epochs');

  // Nothing to draw: no epoch yet, or a model trained elsewhere (no run.json).
  const empty = join(tmp, 'compare', 'empty');
  await writeRun(empty, { name: 'empty', epochsCompleted: 0, checkpoint: null });
  assert.equal(await readRunEpochs(empty), null);
  const imported = join(tmp, 'compare', 'torch');
  await mkdir(imported, { recursive: true });
  await writeFile(join(imported, 'latent-atlas-model.json'), JSON.stringify({ format: 'latent-atlas-model', latentSize: 2 }));
  assert.equal(await readRunEpochs(imported), null);
});
