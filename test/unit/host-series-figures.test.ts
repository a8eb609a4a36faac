// One −ELBO at a time (issue 9, item 3): the figure the status bar, the training notification and
// the ELBO panel show comes from one rule, is named, and the epoch counters of a stopped run read
// the same before and after a reload.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingSeries } from '../../src/host/trainingSeries';
import type { EpochEvent, ProgressEvent } from '../../src/protocol/engine';
import type { ElboTerms, EpochSummary } from '../../src/protocol/model';
import { epochCountText, formatNats, headline, headlineText } from '../../src/protocol/trainingFigures';

const terms = (negElbo: number): ElboTerms => ({ reconstruction: negElbo - 5, kl: 5, elbo: -negElbo, bitsPerDim: 0 });
const STEPS = 10;
const progress = (step: number, negElbo: number, epochMean: number): ProgressEvent => ({
  type: 'progress',
  requestId: 1,
  epoch: Math.ceil(step / STEPS),
  epochs: 10,
  step,
  stepInEpoch: ((step - 1) % STEPS) + 1,
  stepsPerEpoch: STEPS,
  terms: terms(negElbo),
  epochTerms: terms(epochMean),
  imagesPerSecond: 1000,
  eta: 5,
});
const summary = (epoch: number, train: number, validation: number | null): EpochSummary => ({
  epoch,
  step: epoch * STEPS,
  train: terms(train),
  validation: validation === null ? null : terms(validation),
  klPerDim: [2, 3],
  activeUnits: 2,
  imagesPerSecond: 1000,
  seconds: 1,
  backend: 'cpu',
  time: '',
  curve: Array.from({ length: STEPS }, (_, i) => ({ step: (epoch - 1) * STEPS + i + 1, terms: terms(train + 1), imagesPerSecond: 1000 })),
});
const epochEvent = (s: EpochSummary): EpochEvent => ({ type: 'epoch', requestId: 1, runDir: '/r', summary: s });

test('while training the figure is the latest stretch, named "latest", not the running epoch mean', () => {
  const s = new TrainingSeries();
  s.start('shapes', 10);
  s.progress(progress(1, 431.34, 431.34));
  s.progress(progress(2, 366.91, 399.12));
  const h = s.headline()!;
  assert.equal(h.kind, 'latest');
  assert.equal(-h.terms.elbo, 366.91);
  assert.equal(headlineText(h), '−ELBO 366.9 nats (latest)');
  // An epoch that ends does not change the rule while the training goes on.
  s.epoch(epochEvent(summary(1, 380, 390)));
  s.progress(progress(11, 350, 350));
  assert.equal(headlineText(s.headline()!), '−ELBO 350.0 nats (latest)');
});

test('once training ends the figure is the last epoch’s validation −ELBO, else its training mean, named so', () => {
  const s = new TrainingSeries();
  s.start('shapes', 2);
  for (let i = 1; i <= 10; i++) s.progress(progress(i, 200 - i, 200));
  s.epoch(epochEvent(summary(1, 190, 195.5)));
  s.finish('complete');
  assert.equal(headlineText(s.headline()!), '−ELBO 195.5 nats (validation, epoch 1)');
  assert.equal(headlineText(headline(false, undefined, summary(3, 88.25, null))!), '−ELBO 88.25 nats (training mean, epoch 3)');
  assert.equal(headline(false, undefined, null), null);
  assert.equal(formatNats(1234.4), '1234');
});

test('after Stop the counters are the committed epochs of those asked for, and a reload of the run reads the same', () => {
  const s = new TrainingSeries();
  s.start('stopped', 10);
  for (let i = 1; i <= 10; i++) s.progress(progress(i, 200 - i, 195));
  const first = summary(1, 190, 192);
  s.epoch(epochEvent(first));
  // Stopped in the middle of epoch 2: its steps were never committed.
  for (let i = 11; i <= 15; i++) s.progress(progress(i, 180 - i, 170));
  assert.equal(epochCountText(s.status!), '2 / 10');
  const stopped = s.finish('cancelled')!;
  assert.equal(epochCountText(stopped), 'stopped after 1 of 10 epochs');
  assert.equal(stopped.step, 10, 'the step of the kept checkpoint');
  assert.ok(
    s.replay().steps.every((p) => p.step <= 10),
    'steps past the checkpoint are dropped with it',
  );
  assert.equal(headlineText(s.headline()!), '−ELBO 192.0 nats (validation, epoch 1)');

  // The window reloads: the run's history (what the run folder keeps) is all there is.
  const reloaded = new TrainingSeries();
  reloaded.showHistory('stopped', [first], 'cancelled', 10);
  assert.equal(epochCountText(reloaded.status!), 'stopped after 1 of 10 epochs');
  assert.equal(reloaded.status!.step, stopped.step);
  assert.deepEqual(reloaded.headline(), s.headline());
  assert.deepEqual(
    reloaded.replay().steps.map((p) => p.step),
    s.replay().steps.map((p) => p.step),
  );
});

test('a run stopped before its first epoch ended says so', () => {
  const s = new TrainingSeries();
  s.start('early', 10);
  s.progress(progress(3, 250, 260));
  const st = s.finish('cancelled')!;
  assert.equal(epochCountText(st), 'stopped before epoch 1 of 10 ended');
  assert.equal(s.headline()?.kind, 'latest', 'with no epoch the last stretch is all there is, and it says so');
});
