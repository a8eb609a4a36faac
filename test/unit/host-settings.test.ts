import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL, DEFAULT_TRAINING } from '../../src/protocol/model';
import { parseImageSize, readSettings } from '../../src/host/settings';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

test('no settings give the protocol defaults and no problems', () => {
  const s = readSettings(from({}));
  assert.deepEqual(s.model, DEFAULT_MODEL);
  assert.deepEqual(s.training, DEFAULT_TRAINING);
  assert.deepEqual(s.preprocessing, {});
  assert.equal(s.runFolder, '.vae');
  assert.equal(s.samplesFolder, 'samples');
  assert.equal(s.worker.backend, 'auto');
  assert.equal(s.worker.nativeModulesPath, undefined);
  assert.equal(s.encodeAfterTraining, true);
  assert.deepEqual(s.problems, []);
});

test('settings a person chose reach the model and training config', () => {
  const s = readSettings(
    from({
      latentSize: 8,
      architecture: 'conv',
      likelihood: 'gaussian',
      sigma: 0.05,
      beta: 4,
      conditional: true,
      epochs: 3,
      batchSize: 64,
      learningRate: 0.0005,
      validationSplit: 0,
      seed: 7,
      hiddenUnits: [512, 256],
      imageSize: '32x24',
      channels: 'colour',
      backend: 'wasm',
      nativeModulesPath: ' /opt/tf ',
      wasmThreads: 2,
      workerMemoryMB: 4096,
      runFolder: 'runs',
      iwaeSamples: 100,
      encodeAfterTraining: false,
    }),
  );
  assert.deepEqual(s.model, {
    architecture: 'conv',
    latentSize: 8,
    hiddenUnits: [512, 256],
    convFilters: [32, 64],
    likelihood: 'gaussian',
    sigma: 0.05,
    beta: 4,
    conditional: true,
  });
  assert.deepEqual(s.training, { epochs: 3, batchSize: 64, learningRate: 0.0005, validationSplit: 0, seed: 7 });
  assert.deepEqual(s.preprocessing, { width: 32, height: 24, channels: 3 });
  assert.deepEqual(s.worker, { backend: 'wasm', nativeModulesPath: '/opt/tf', threads: 2, maxMemoryMB: 4096 });
  assert.equal(s.runFolder, 'runs');
  assert.equal(s.iwaeSamples, 100);
  assert.equal(s.encodeAfterTraining, false);
  assert.deepEqual(s.problems, []);
});

test('out-of-bounds and mistyped values fall back to defaults, each named in a problem', () => {
  const s = readSettings(
    from({
      latentSize: 0,
      epochs: 2.5,
      sigma: -1,
      architecture: 'transformer',
      hiddenUnits: [],
      batchSize: '64',
      validationSplit: 0.95,
      imageSize: '28 by 28',
      conditional: 'yes',
    }),
  );
  assert.equal(s.model.latentSize, DEFAULT_MODEL.latentSize);
  assert.equal(s.training.epochs, DEFAULT_TRAINING.epochs);
  assert.equal(s.model.sigma, DEFAULT_MODEL.sigma);
  assert.equal(s.model.architecture, 'mlp');
  assert.deepEqual(s.model.hiddenUnits, DEFAULT_MODEL.hiddenUnits);
  assert.equal(s.training.batchSize, DEFAULT_TRAINING.batchSize);
  assert.equal(s.training.validationSplit, DEFAULT_TRAINING.validationSplit);
  assert.equal(s.model.conditional, false);
  assert.deepEqual(s.preprocessing, {});
  for (const key of [
    'latentSize',
    'epochs',
    'sigma',
    'architecture',
    'hiddenUnits',
    'batchSize',
    'validationSplit',
    'imageSize',
    'conditional',
  ]) {
    assert.ok(
      s.problems.some((p) => p.startsWith(`Setting vae.${key} `)),
      `a problem names vae.${key}: ${s.problems.join(' | ')}`,
    );
  }
  assert.equal(s.problems.length, 9);
});

test('an empty run folder setting still stores runs in .vae', () => {
  assert.equal(readSettings(from({ runFolder: '  ' })).runFolder, '.vae');
});

test('image sizes parse as WIDTHxHEIGHT within 1..1024', () => {
  assert.deepEqual(parseImageSize('28x28'), { width: 28, height: 28 });
  assert.deepEqual(parseImageSize(' 64 × 32 '), { width: 64, height: 32 });
  assert.equal(parseImageSize('0x28'), null);
  assert.equal(parseImageSize('2048x28'), null);
  assert.equal(parseImageSize('28'), null);
});
