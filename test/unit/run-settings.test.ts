// Issue 10, item 7: a run's settings read the same in the status bar, the Load Model picker and the
// Training view's comparison table — one rule, checked here on runs a person would tell apart.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type RunManifest } from '../../src/protocol/model';
import { learningRateText, NOT_SET, runSettings, settingsLine, settingsSummary } from '../../src/protocol/runSettings';

function manifest(patch: Partial<RunManifest> = {}): RunManifest {
  return {
    format: 'latent-atlas-run',
    version: 1,
    name: 'digits',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    codeVersion: '0.1.0',
    tfjsVersion: '4.22.0',
    backend: 'wasm',
    state: 'cancelled',
    model: { ...DEFAULT_MODEL },
    training: { ...DEFAULT_TRAINING, epochs: 20 },
    preprocessing: { width: 28, height: 28, channels: 1, fit: 'cover' },
    labels: [],
    dataset: { source: { kind: 'demo' }, count: 100, skipped: 0, fingerprint: 'x' },
    epochsCompleted: 7,
    step: 70,
    checkpoint: 'checkpoints/epoch-0007',
    last: null,
    ...patch,
  };
}

test('a run trained here reads as architecture, z, β, likelihood, epochs done/planned, batch, rate, image and backend', () => {
  assert.equal(settingsSummary(manifest()), 'mlp 400 · z=2 · β=1 · bernoulli · 7/20 epochs · batch 128 · lr 1e-3 · 28×28×1 · wasm');
  const conv = manifest({
    backend: 'webgpu',
    model: { ...DEFAULT_MODEL, architecture: 'conv', latentSize: 16, beta: 4, likelihood: 'gaussian', sigma: 0.05, conditional: true },
    training: { ...DEFAULT_TRAINING, epochs: 50, batchSize: 64, learningRate: 0.00025 },
    preprocessing: { width: 64, height: 48, channels: 3, fit: 'contain' },
    epochsCompleted: 50,
  });
  assert.equal(
    settingsSummary(conv),
    'conv 32-64, conditional · z=16 · β=4 · gaussian σ=0.05 · 50/50 epochs · batch 64 · lr 2.5e-4 · 64×48×3 · webgpu',
  );
});

test('the table columns carry the same text as the summary, in the same order', () => {
  const settings = runSettings(manifest());
  assert.deepEqual(
    settings.map((s) => s.title),
    ['Model', 'Latent', 'β', 'Likelihood', 'Epochs', 'Batch', 'Learning rate', 'Image', 'Backend'],
  );
  assert.equal(settingsLine(settings), settingsSummary(manifest()));
});

test('a model trained elsewhere shows what it has and leaves training settings out', () => {
  const settings = runSettings({ imported: { format: 'onnx' }, model: { latentSize: 8, likelihood: 'bernoulli' } });
  assert.equal(settingsLine(settings), 'ONNX, trained elsewhere · z=8 · bernoulli');
  for (const key of ['beta', 'epochs', 'batch', 'learningRate', 'backend'])
    assert.equal(settings.find((s) => s.key === key)?.value, NOT_SET, `${key} is not a setting of an imported model`);
});

test('a run.json missing fields (an older version) still reads, without inventing values', () => {
  assert.equal(settingsSummary({ model: { latentSize: 2 }, training: { epochs: 5 }, epochsCompleted: 5 }), 'z=2 · 5/5 epochs');
  assert.equal(settingsSummary({}), '');
});

test('learning rates read as people type them', () => {
  assert.equal(learningRateText(0.001), '1e-3');
  assert.equal(learningRateText(0.0003), '3e-4');
  assert.equal(learningRateText(0.01), '0.01');
  assert.equal(learningRateText(0.1), '0.1');
});
