// The objective against closed forms: KL vs Monte Carlo, the Gaussian normaliser, stable
// Bernoulli terms, and ELBO ≤ IWAE_k ≤ log p(x) on a linear-Gaussian model where log p(x) is exact.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  activeUnits,
  bernoulliLogLikelihood,
  elboEstimate,
  elboTerms,
  gaussianLogLikelihood,
  importanceWeightedBound,
  klDivergence,
  klPerDimension,
  logMeanExp,
  logNormalDiagonal,
  logStandardNormal,
} from '../../src/engine/model/objective';
import { createRng } from '../../src/engine/rng';
import type { Tensor, Tensor2D, Tf } from '../../src/engine/tf';
import { useBackend } from './engine-fixtures';

let tf: Tf;
before(async () => {
  tf = await useBackend('wasm');
});

const values = (t: Tensor) => Array.from(t.dataSync());

function meanAndStdError(xs: number[]): { mean: number; se: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, se: Math.sqrt(variance / xs.length) };
}

describe('KL divergence', () => {
  it('matches a Monte Carlo estimate of E_q[log q(z) − log p(z)] within its standard error', () => {
    const mu = [0.5, -1.2, 0.0, 2.0];
    const logVar = [-1.0, 0.3, -2.5, 0.8];
    const closed = tf.tidy(() => values(klDivergence(tf.tensor2d([mu]), tf.tensor2d([logVar]))))[0];
    // Hand value of ½Σ(μ² + σ² − 1 − log σ²).
    const hand = 0.5 * mu.reduce((acc, m, i) => acc + m * m + Math.exp(logVar[i]) - 1 - logVar[i], 0);
    assert.ok(Math.abs(closed - hand) < 1e-4, `closed form ${closed} vs hand ${hand}`);

    const n = 100_000;
    const samples = tf.tidy(() => {
      const m = tf.tensor2d([mu]).tile([n, 1]) as Tensor2D;
      const lv = tf.tensor2d([logVar]).tile([n, 1]) as Tensor2D;
      const z = tf.add(m, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.randomNormal([n, 4], 0, 1, 'float32', 11))) as Tensor2D;
      return values(tf.sub(logNormalDiagonal(z, m, lv), logStandardNormal(z)));
    });
    const mc = meanAndStdError(samples);
    assert.ok(Math.abs(mc.mean - closed) < 4 * mc.se, `MC ${mc.mean} ± ${mc.se} vs closed ${closed}`);
  });

  it('is zero for q = p and splits into per-dimension terms that sum to the total', () => {
    const [zero] = tf.tidy(() => values(klDivergence(tf.zeros([1, 3]) as Tensor2D, tf.zeros([1, 3]) as Tensor2D)));
    assert.ok(Math.abs(zero) < 1e-7);
    const mu = tf.tensor2d([[1, 0, -2]]);
    const lv = tf.tensor2d([[0, 1, -1]]);
    const perDim = tf.tidy(() => values(klPerDimension(mu, lv)));
    const total = tf.tidy(() => values(klDivergence(mu, lv)))[0];
    assert.ok(Math.abs(perDim.reduce((a, b) => a + b) - total) < 1e-5);
    assert.ok(Math.abs(perDim[0] - 0.5) < 1e-6, 'μ=1, σ=1 gives ½ nat');
    tf.dispose([mu, lv]);
  });
});

describe('log-likelihoods', () => {
  it('Gaussian: includes the normaliser −½·log(2πσ²) per pixel', () => {
    const sigma = 0.1;
    const x = tf.tensor2d([[0.2, 0.4, 0.6, 0.8]]);
    const m = tf.tensor2d([[0.25, 0.4, 0.5, 0.8]]);
    const got = tf.tidy(() => values(gaussianLogLikelihood(x, m, sigma)))[0];
    const squared = 0.05 ** 2 + 0 + 0.1 ** 2 + 0;
    const hand = -squared / (2 * sigma * sigma) - 4 * 0.5 * Math.log(2 * Math.PI * sigma * sigma);
    assert.ok(Math.abs(got - hand) < 1e-4, `got ${got}, hand computation ${hand}`);
    // A perfect reconstruction is worth exactly the normaliser: +1.3836 nats per pixel at σ = 0.1.
    const perfect = tf.tidy(() => values(gaussianLogLikelihood(x, x, sigma)))[0];
    assert.ok(Math.abs(perfect - 4 * 1.38364656) < 1e-4, `perfect reconstruction: ${perfect}`);
    tf.dispose([x, m]);
  });

  it('Bernoulli: equals x·log p + (1−x)·log(1−p) and stays finite for extreme logits', () => {
    const x = tf.tensor2d([[1, 0, 0.3, 1, 0]]);
    const logits = tf.tensor2d([[2, -1, 0.5, 100, -100]]);
    const got = tf.tidy(() => values(bernoulliLogLikelihood(x, logits)))[0];
    const sig = (l: number) => 1 / (1 + Math.exp(-l));
    const term = (xv: number, l: number) => xv * Math.log(sig(l)) + (1 - xv) * Math.log(1 - sig(l));
    const hand = term(1, 2) + term(0, -1) + term(0.3, 0.5); // the ±100 terms are ≈ 0
    assert.ok(Number.isFinite(got));
    assert.ok(Math.abs(got - hand) < 1e-4, `got ${got}, hand ${hand}`);
    const wrong = tf.tidy(() => values(bernoulliLogLikelihood(tf.tensor2d([[0, 1]]), tf.tensor2d([[100, -100]]))))[0];
    assert.ok(Math.abs(wrong + 200) < 1e-3, `confidently wrong pixels cost 100 nats each, got ${wrong}`);
    tf.dispose([x, logits]);
  });

  it('log-mean-exp does not overflow', () => {
    const got = tf.tidy(() =>
      values(
        logMeanExp(
          tf.tensor2d([
            [1000, 1000],
            [-1000, -1000],
          ]),
          1,
        ),
      ),
    );
    assert.ok(Math.abs(got[0] - 1000) < 1e-3 && Math.abs(got[1] + 1000) < 1e-3, String(got));
  });
});

describe('active units', () => {
  it('counts the dimensions whose posterior mean varies across images by more than 0.01', async () => {
    const rng = createRng(3);
    const rows = Array.from({ length: 200 }, () => [rng.next() * 2, 0.5, rng.next() * 0.1, rng.next() - 0.5]);
    const mu = tf.tensor2d(rows);
    assert.equal(await activeUnits(mu), 2); // Var(U[0,2]) = 0.33 and Var(U[−½,½]) = 0.083; the others < 0.001
    mu.dispose();
  });
});

// -------------------------------------------------------------------------------------------
// Linear-Gaussian model: z ~ N(0, I₂), x | z ~ N(Wz + b, σ²I₅), so p(x) = N(b, WWᵀ + σ²I).

const W = [
  [1.0, -0.5],
  [0.3, 0.8],
  [-0.7, 0.2],
  [0.5, 0.5],
  [0.0, -1.1],
];
const B = [0.1, -0.2, 0.3, 0.0, 0.5];
const SIGMA = 0.5;

function exactLogPx(x: number[]): number {
  const d = x.length;
  const cov = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => W[i][0] * W[j][0] + W[i][1] * W[j][1] + (i === j ? SIGMA * SIGMA : 0)),
  );
  // Cholesky: cov = LLᵀ; log det = 2Σ log L_ii; solve L y = x − b; quad = |y|².
  const L = cov.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = i === j ? Math.sqrt(s) : s / L[j][j];
    }
  }
  const y = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let s = x[i] - B[i];
    for (let k = 0; k < i; k++) s -= L[i][k] * y[k];
    y[i] = s / L[i][i];
  }
  const logDet = 2 * L.reduce((a, row, i) => a + Math.log(row[i]), 0);
  return -0.5 * (d * Math.log(2 * Math.PI) + logDet + y.reduce((a, v) => a + v * v, 0));
}

/** Exact ELBO of a diagonal q = N(m, diag s²) in this model. */
function exactElbo(x: number[], m: number[], s2: number[]): number {
  let expectedSq = 0;
  for (let i = 0; i < x.length; i++) {
    const mean = W[i][0] * m[0] + W[i][1] * m[1] + B[i];
    expectedSq += (x[i] - mean) ** 2 + W[i][0] ** 2 * s2[0] + W[i][1] ** 2 * s2[1];
  }
  const expectedLogLik = -expectedSq / (2 * SIGMA * SIGMA) - 0.5 * x.length * Math.log(2 * Math.PI * SIGMA * SIGMA);
  const kl = 0.5 * m.reduce((a, mi, i) => a + mi * mi + s2[i] - 1 - Math.log(s2[i]), 0);
  return expectedLogLik - kl;
}

describe('ELBO ≤ IWAE_k ≤ log p(x) on a linear-Gaussian model', () => {
  const points = [
    [0.5, 0.2, -0.4, 1.0, -0.3],
    [-1.5, 1.0, 1.2, -0.8, 2.0],
  ];
  // An imperfect q: the mean is shifted and the variances are too wide.
  const qMean = (x: number[]) => [0.5 * (x[0] - x[2]) + 0.3, 0.4 * (x[1] - x[4]) - 0.2];
  const qVar = [0.6, 0.5];
  const replicas = 400;
  const decode = (z: Tensor2D) => tf.add(tf.matMul(z, tf.tensor2d(W), false, true), tf.tensor1d(B));

  function bounds(x: number[], k: number, seed: number) {
    return tf.tidy(() => {
      const xs = tf.tensor2d([x]).tile([replicas, 1]);
      const mu = tf.tensor2d([qMean(x)]).tile([replicas, 1]) as Tensor2D;
      const logVar = tf.tensor2d([qVar.map(Math.log)]).tile([replicas, 1]) as Tensor2D;
      return meanAndStdError(values(importanceWeightedBound(xs, mu, logVar, decode, { likelihood: 'gaussian', sigma: SIGMA }, k, seed)));
    });
  }

  for (const [p, x] of points.entries()) {
    it(`holds and tightens with k for data point ${p + 1}`, () => {
      const logPx = exactLogPx(x);
      const elbo = exactElbo(x, qMean(x), qVar);
      assert.ok(elbo < logPx - 0.5, `test needs a visibly imperfect q: ELBO ${elbo}, log p(x) ${logPx}`);

      // The single-sample reparameterised estimator is unbiased for the exact ELBO.
      const single = tf.tidy(() => {
        const xs = tf.tensor2d([x]).tile([replicas * 10, 1]);
        const mu = tf.tensor2d([qMean(x)]).tile([replicas * 10, 1]) as Tensor2D;
        const logVar = tf.tensor2d([qVar.map(Math.log)]).tile([replicas * 10, 1]) as Tensor2D;
        const eps = tf.randomNormal([replicas * 10, 2], 0, 1, 'float32', 5) as Tensor2D;
        const est = elboEstimate(xs, mu, logVar, decode, { likelihood: 'gaussian', sigma: SIGMA }, eps);
        return meanAndStdError(values(tf.sub(est.logLikelihood, est.kl)));
      });
      assert.ok(Math.abs(single.mean - elbo) < 4 * single.se, `single-sample ${single.mean} ± ${single.se} vs exact ELBO ${elbo}`);

      const iwae = [1, 5, 50].map((k) => ({ k, ...bounds(x, k, 100 + k) }));
      const tol = (se: number) => 4 * se + 1e-3;
      assert.ok(Math.abs(iwae[0].mean - elbo) < tol(iwae[0].se), `IWAE_1 ${iwae[0].mean} should equal the ELBO ${elbo}`);
      for (const b of iwae) {
        assert.ok(b.mean >= elbo - tol(b.se), `IWAE_${b.k} ${b.mean} below the ELBO ${elbo}`);
        assert.ok(b.mean <= logPx + tol(b.se), `IWAE_${b.k} ${b.mean} above log p(x) ${logPx}`);
      }
      for (let i = 1; i < iwae.length; i++) {
        const [a, b] = [iwae[i - 1], iwae[i]];
        assert.ok(b.mean > a.mean - tol(Math.hypot(a.se, b.se)), `IWAE_${b.k} ${b.mean} < IWAE_${a.k} ${a.mean}`);
      }
      const gap50 = logPx - iwae[2].mean;
      assert.ok(gap50 < (logPx - elbo) / 3, `IWAE_50 should close most of the gap: ${gap50} vs ${logPx - elbo}`);
    });
  }
});

describe('bits per dimension', () => {
  it('Gaussian: the density discretised to 8-bit data, −ELBO/(D·ln 2) + 8; Bernoulli as it was', () => {
    // A near-perfect Gaussian reconstruction at σ = 0.1 has a log-density above 0: −ELBO < 0.
    const D = 784;
    const reconstruction = -1.38 * D;
    const kl = 10;
    const gaussian = elboTerms(reconstruction, kl, D, 'gaussian');
    assert.ok(-gaussian.elbo < 0, 'the continuous −ELBO is negative here');
    assert.ok(Math.abs(gaussian.bitsPerDim - (-gaussian.elbo / (D * Math.LN2) + 8)) < 1e-12, String(gaussian.bitsPerDim));
    assert.ok(gaussian.bitsPerDim > 0 && gaussian.bitsPerDim < 8, String(gaussian.bitsPerDim));
    const bernoulli = elboTerms(50, 5, D, 'bernoulli');
    assert.equal(bernoulli.bitsPerDim, 55 / (D * Math.LN2));
  });
});
