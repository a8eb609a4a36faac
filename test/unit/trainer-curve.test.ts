// The per-epoch training curve: each point is the exact mean over the images of its stretch of
// steps, merging keeps it bounded without changing the epoch's overall mean.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EpochCurve } from '../../src/engine/model/curve';

/** Feeds per-step (images, −log p sum, KL sum) into the curve the way the trainer reads its sums. */
function feed(curve: EpochCurve, steps: { images: number; logLik: number; kl: number }[], every = 1) {
  let sums = { step: 0, images: 0, seconds: 0, logLikSum: 0, klSum: 0 };
  const live = [];
  for (const [i, s] of steps.entries()) {
    sums = {
      step: i + 1,
      images: sums.images + s.images,
      seconds: sums.seconds + 0.01,
      logLikSum: sums.logLikSum + s.logLik,
      klSum: sums.klSum + s.kl,
    };
    if ((i + 1) % every === 0 || i === steps.length - 1) live.push(curve.add(sums));
  }
  return { live, total: sums };
}

test('a stretch reports the mean of its own steps, not of the epoch so far', () => {
  const curve = new EpochCurve(784, 'bernoulli');
  // Two steps at −ELBO 300, then two at 100 (batch 10): the second stretch must say 100.
  const steps = [300, 300, 100, 100].map((negElbo) => ({ images: 10, logLik: -(negElbo - 20) * 10, kl: 20 * 10 }));
  const { live } = feed(curve, steps, 2);
  assert.deepEqual(
    live.map((p) => p && -p.terms.elbo),
    [300, 100],
  );
  assert.deepEqual(
    live.map((p) => p && p.step),
    [2, 4],
  );
  assert.equal(live[1]!.terms.kl, 20);
  assert.ok(Math.abs(live[1]!.imagesPerSecond - 1000) < 1e-6, `${live[1]!.imagesPerSecond} images/s`);
  assert.equal(curve.add({ step: 4, images: 40, seconds: 0.05, logLikSum: 0, klSum: 0 }), null, 'no new images, no point');
});

test('a long epoch is merged to at most the cap, in step order, and keeps the epoch mean exactly', () => {
  const curve = new EpochCurve(784, 'bernoulli', 16);
  const steps = Array.from({ length: 1000 }, (_, i) => ({
    images: i % 7 === 0 ? 5 : 128,
    logLik: -(400 - i / 5) * 128,
    kl: (10 + (i % 13)) * 128,
  }));
  const { total } = feed(curve, steps);
  const points = curve.points();
  assert.ok(points.length <= 16 && points.length >= 8, `${points.length} points`);
  assert.equal(points.at(-1)!.step, 1000);
  assert.ok(points.every((p, i) => i === 0 || p.step > points[i - 1].step));
  // Falling loss stays falling after merging.
  assert.ok(-points[0].terms.elbo > -points.at(-1)!.terms.elbo);
  // Image-weighted, the points give back the epoch's mean −ELBO. Each point's image count is
  // recovered from its rate (seconds are 0.01 per step here).
  let images = 0;
  let negElbo = 0;
  let prevStep = 0;
  for (const p of points) {
    const n = p.imagesPerSecond * (p.step - prevStep) * 0.01;
    images += n;
    negElbo += -p.terms.elbo * n;
    prevStep = p.step;
  }
  assert.ok(Math.abs(images - total.images) < 1e-6 * total.images);
  const epochMean = (-total.logLikSum + total.klSum) / total.images;
  assert.ok(Math.abs(negElbo / images - epochMean) < 1e-6 * epochMean, `${negElbo / images} vs ${epochMean}`);
});
