// Small, deterministic data for the browser tests: four labelled clusters in a 2-D latent space,
// one lone point at a known spot, a training series and decoded images.

import type { ImageBatch } from '../../src/protocol/engine';
import type { ElboTerms, EpochSummary } from '../../src/protocol/model';
import { packNames, PointNames } from '../../src/protocol/pointNames';
import type { InitMessage, PointsMessage, SeriesMessage, StepPoint } from '../../src/protocol/webview';

export const LABELS = ['birds', 'cats', 'dogs', 'fish'];
export const CENTRES: [number, number][] = [
  [-2, -2],
  [2, -2],
  [-2, 2],
  [2, 2],
];
/** A point whose file name needs escaping in a URI (a space and a '#'); the worst reconstructed by far. */
export const KNOWN = { name: 'cats/known cat #1.png', x: 0.5, y: 0.25, label: 1, reconstruction: 300, kl: 10 };

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A points message's names, decoded. */
export function namesOf(msg: PointsMessage): string[] {
  return new PointNames(msg.names).toArray();
}

export function pointsMessage(perCluster = 50, origin = 'http://127.0.0.1'): PointsMessage {
  const random = rng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const names: string[] = [];
  const labels: number[] = [];
  const mu: number[] = [];
  const reconstruction: number[] = [];
  const kl: number[] = [];
  CENTRES.forEach(([cx, cy], l) => {
    for (let i = 0; i < perCluster; i++) {
      // Whole nats from 60 to 100 and 5 to 9, spread over the clusters without order.
      const p = names.length;
      names.push(`${LABELS[l]}/${LABELS[l]}-${String(i).padStart(3, '0')}.png`);
      labels.push(l);
      mu.push(cx + 0.3 * gauss(), cy + 0.3 * gauss());
      reconstruction.push(60 + ((p * 37) % 41));
      kl.push(5 + (p % 5));
    }
  });
  names.push(KNOWN.name);
  labels.push(KNOWN.label);
  mu.push(KNOWN.x, KNOWN.y);
  reconstruction.push(KNOWN.reconstruction);
  kl.push(KNOWN.kl);
  return {
    type: 'points',
    folder: '/data',
    folderUri: `${origin}/img/data`,
    names: packNames(names),
    labels: Int32Array.from(labels),
    labelNames: LABELS,
    dims: 2,
    mu: Float32Array.from(mu),
    terms: { reconstruction: Float32Array.from(reconstruction), kl: Float32Array.from(kl) },
  };
}

export function initMessage(latentSize = 2): InitMessage {
  return {
    type: 'init',
    model: {
      runName: 'demo',
      runDir: '/ws/.vae/demo',
      latentSize,
      width: 8,
      height: 8,
      channels: 1,
      likelihood: 'bernoulli',
      conditional: false,
      labels: LABELS,
    },
    backend: { name: 'wasm', skipped: [{ name: 'tensorflow', reason: 'not installed' }], simd: true, threads: 1 },
  };
}

const terms = (rec: number, kl: number): ElboTerms => ({
  reconstruction: rec,
  kl,
  elbo: -(rec + kl),
  bitsPerDim: (rec + kl) / (Math.LN2 * 64),
});

export function seriesMessage(stepCount = 3000, epochs = 5): SeriesMessage {
  const steps: StepPoint[] = [];
  for (let s = 1; s <= stepCount; s++) {
    const rec = 60 + 140 * Math.exp(-s / 400) + 3 * Math.sin(s / 7);
    const kl = 8 * (1 - Math.exp(-s / 300));
    steps.push({ step: s, epoch: Math.ceil((s * epochs) / stepCount), terms: terms(rec, kl), imagesPerSecond: 1500 });
  }
  const summaries: EpochSummary[] = [];
  for (let e = 1; e <= epochs; e++) {
    const step = Math.round((e * stepCount) / epochs);
    const last = steps[step - 1].terms;
    summaries.push({
      epoch: e,
      step,
      train: last,
      validation: terms(last.reconstruction + 2, last.kl),
      klPerDim: [5.1, 0.004],
      activeUnits: 1,
      logPx: { k: 50, value: last.elbo + 1.5 },
      imagesPerSecond: 1500,
      seconds: 10,
      backend: 'wasm',
      time: '2026-11-25T12:00:00Z',
    });
  }
  const latest = steps[steps.length - 1];
  return {
    type: 'series',
    status: {
      state: 'running',
      runName: 'demo',
      epoch: epochs,
      epochs: epochs + 5,
      step: stepCount,
      stepsPerEpoch: stepCount / epochs,
      imagesPerSecond: latest.imagesPerSecond,
      eta: 125,
    },
    steps,
    epochs: summaries,
  };
}

/** `count` 8×8 grey images; image i is filled with the value 20·i + 10 so a test can tell them apart. */
export function greyImages(count: number, width = 8, height = 8): ImageBatch {
  const pixels = new Uint8Array(count * width * height);
  for (let i = 0; i < count; i++) pixels.fill((20 * i + 10) % 256, i * width * height, (i + 1) * width * height);
  return { count, width, height, channels: 1, pixels };
}
