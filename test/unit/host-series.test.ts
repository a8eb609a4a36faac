import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingSeries } from '../../src/host/trainingSeries';
import type { EpochEvent, ProgressEvent } from '../../src/protocol/engine';
import type { ElboTerms, EpochSummary } from '../../src/protocol/model';

const terms = (negElbo: number): ElboTerms => ({ reconstruction: negElbo - 5, kl: 5, elbo: -negElbo, bitsPerDim: 0 });
const progress = (step: number, epoch: number, negElbo: number): ProgressEvent => ({
  type: 'progress',
  requestId: 1,
  epoch,
  epochs: 3,
  step,
  stepInEpoch: step % 10,
  stepsPerEpoch: 10,
  terms: terms(negElbo),
  epochTerms: terms(negElbo + 3),
  imagesPerSecond: 1000,
  eta: 5,
});
const summary = (epoch: number, negElbo: number): EpochSummary => ({
  epoch,
  step: epoch * 10,
  train: terms(negElbo),
  validation: null,
  klPerDim: [2, 3],
  activeUnits: 2,
  imagesPerSecond: 1000,
  seconds: 1,
  backend: 'cpu',
  time: '',
});
const epochEvent = (epoch: number, negElbo: number): EpochEvent => ({
  type: 'epoch',
  requestId: 1,
  runDir: '/r',
  summary: summary(epoch, negElbo),
});

test('the series replays every step and epoch of the running training with its status', () => {
  const s = new TrainingSeries();
  s.start('shapes', 3);
  for (let i = 1; i <= 10; i++) s.progress(progress(i, 1, 200 - i));
  s.epoch(epochEvent(1, 190));
  const r = s.replay();
  assert.equal(r.type, 'series');
  assert.equal(r.steps.length, 10);
  assert.deepEqual(
    r.epochs.map((e) => e.epoch),
    [1],
  );
  assert.equal(r.status?.state, 'running');
  assert.equal(r.status?.runName, 'shapes');
  assert.equal(r.status?.epoch, 1);
  assert.equal(-(s.headline()?.terms.elbo ?? NaN), 190);
  s.message('Stopping at the next step…');
  assert.equal(s.replay().status?.message, 'Stopping at the next step…');
  assert.equal(s.finish('cancelled')?.state, 'cancelled');
  assert.equal(s.replay().status?.message, undefined);
  assert.equal(s.finish('failed', 'The worker crashed')?.message, 'The worker crashed');
  assert.equal(s.replay().status?.eta, null);
});

test('a new training forgets the previous series; a loaded run shows its history', () => {
  const s = new TrainingSeries();
  s.start('a', 3);
  s.progress(progress(1, 1, 100));
  s.start('b', 2);
  assert.equal(s.replay().steps.length, 0);
  s.showHistory('c', [summary(1, 120), summary(2, 110)]);
  const r = s.replay();
  assert.deepEqual(
    r.epochs.map((e) => e.epoch),
    [1, 2],
  );
  assert.equal(r.status?.state, 'complete');
  assert.equal(-(s.headline()?.terms.elbo ?? NaN), 110);
  s.showHistory('d', []);
  assert.equal(s.replay().status, null);
});

test('long trainings are thinned in the older half, keeping the newest steps dense and in order', () => {
  const s = new TrainingSeries(100);
  s.start('long', 3);
  for (let i = 1; i <= 1000; i++) s.progress(progress(i, 1, 1000 - i));
  const steps = s.replay().steps.map((p) => p.step);
  assert.ok(steps.length <= 100, `kept ${steps.length}`);
  assert.equal(steps.at(-1), 1000);
  assert.equal(steps[0], 1);
  assert.deepEqual(steps.slice(-10), [991, 992, 993, 994, 995, 996, 997, 998, 999, 1000]);
  assert.ok(steps.every((v, i) => i === 0 || v > steps[i - 1]));
});

test('an epoch repeated (resume) replaces the earlier summary of that epoch', () => {
  const s = new TrainingSeries();
  s.start('r', 3);
  s.epoch(epochEvent(1, 150));
  s.epoch(epochEvent(1, 140));
  assert.deepEqual(
    s.replay().epochs.map((e) => -e.train.elbo),
    [140],
  );
});

test('a loaded run redraws its per-step chart from the curves in its history, and the figures are the last epoch’s', () => {
  const s = new TrainingSeries();
  const withCurve = (epoch: number, negElbo: number): EpochSummary => ({
    ...summary(epoch, negElbo),
    curve: [
      { step: epoch * 10 - 5, terms: terms(negElbo + 4), imagesPerSecond: 900 },
      { step: epoch * 10, terms: terms(negElbo - 2), imagesPerSecond: 1100 },
    ],
  });
  s.showHistory('loaded', [withCurve(1, 120), withCurve(2, 110)]);
  const r = s.replay();
  assert.deepEqual(
    r.steps.map((p) => [p.step, p.epoch, -p.terms.elbo]),
    [
      [5, 1, 124],
      [10, 1, 118],
      [15, 2, 114],
      [20, 2, 108],
    ],
  );
  assert.equal(-(s.headline()?.terms.elbo ?? NaN), 110, 'a finished run shows its last epoch, not its last stretch');
  // Resuming after epoch 2 keeps that curve and continues it.
  s.start('loaded', 3, [withCurve(1, 120), withCurve(2, 110)]);
  s.progress(progress(25, 3, 105));
  assert.deepEqual(
    s.replay().steps.map((p) => p.step),
    [5, 10, 15, 20, 25],
  );
  assert.equal(-(s.headline()?.terms.elbo ?? NaN), 105);
});
