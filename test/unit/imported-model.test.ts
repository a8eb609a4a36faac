// Models trained elsewhere, through the real worker: VAEs trained by PyTorch give PyTorch's own
// latents and images; a run trained here, exported to ONNX by the engine, loads as an imported
// model whose latents, images and ELBO terms match the run's own;
// the same run's tfjs layers files load through a manifest too; the manifest's mistakes are named;
// what needs a model trained here is refused in words.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineError } from '../../src/protocol/errors';
import { MODEL_MANIFEST_FILE, type ModelManifest } from '../../src/protocol/importedModel';
import { checkModelManifest, normalisation } from '../../src/engine/imported/modelManifest';
import { fromModelLayout, toModelInput } from '../../src/engine/imported/importedCodec';
import { inferManifest } from '../../src/engine/imported/describe';
import type { EngineClient } from '../../src/client/engineClient';
import { REPO, SMALL_MODEL, SMALL_TRAINING, client, demoFolder, tempDir, trainBody } from './worker-fixtures';
import { torchVaeFixture, type TorchVaeFixture } from './torchFixture';

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const BASE: ModelManifest = {
  format: 'latent-atlas-model',
  version: 1,
  encoder: 'encoder.onnx',
  decoder: 'decoder.onnx',
  input: { width: 28, height: 28, channels: 1, layout: 'NCHW', flatten: false },
  latentSize: 8,
  encoderOutputs: { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' },
  decoderOutput: { kind: 'logits' },
};

describe('the manifest of a model trained elsewhere', () => {
  const problem = (edit: (m: Record<string, unknown>) => void) => {
    const m = structuredClone(BASE) as unknown as Record<string, unknown>;
    edit(m);
    try {
      checkModelManifest('/models/m/latent-atlas-model.json', m);
    } catch (err) {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'corrupt-run');
      assert.match(err.message, /^\/models\/m\/latent-atlas-model\.json: /);
      return err.message;
    }
    return assert.fail('the manifest was accepted');
  };

  test('a complete manifest is accepted as it is', () => {
    assert.deepEqual(checkModelManifest('x', structuredClone(BASE)), BASE);
  });

  test('each mistake is named with the field and what it must be', () => {
    assert.match(
      problem((m) => (m.version = 2)),
      /"version" is 2, but this Latent Atlas reads version 1/,
    );
    assert.match(
      problem((m) => (m.encoder = 'encoder.pt')),
      /"encoder" is "encoder.pt": name an .onnx file or a tfjs model.json/,
    );
    assert.match(
      problem((m) => ((m.input as Record<string, unknown>).layout = 'CHW')),
      /"input.layout" must be "NCHW" \(PyTorch\) or "NHWC"/,
    );
    assert.match(
      problem((m) => ((m.input as Record<string, unknown>).channels = 4)),
      /"input.channels" must be 1 \(grey\) or 3 \(RGB\)/,
    );
    assert.match(
      problem((m) => ((m.input as Record<string, unknown>).normalize = { mean: [0.5, 0.5], std: [0.5, 0.5] })),
      /"input.normalize.mean" must list 1 or 1 numbers/,
    );
    assert.match(
      problem((m) => (m.latentSize = 0)),
      /"latentSize" is out of range: latentSize must be a whole number from 1 to 256, got 0/,
    );
    assert.match(
      problem((m) => (m.encoderOutputs = { kind: 'mu-logvar', mu: 'mu' })),
      /"encoderOutputs" of kind "mu-logvar" must name its "mu" and "logVar" outputs/,
    );
    assert.match(
      problem((m) => (m.decoderOutput = { kind: 'pixels' })),
      /"decoderOutput.kind" must be "logits", "probabilities" \(Bernoulli\) or "means"/,
    );
    assert.match(
      problem((m) => (m.condition = { encoderInput: 'y', decoderInput: 'y', classes: [] })),
      /"condition.classes" must list the class names/,
    );
  });

  test('normalisation: mean/std per channel, or a range, or none', () => {
    assert.deepEqual(normalisation(BASE.input), { mean: [0], std: [1] });
    assert.deepEqual(normalisation({ ...BASE.input, normalize: { mean: [0.5], std: [0.5] } }), { mean: [0.5], std: [0.5] });
    const range = normalisation({ ...BASE.input, channels: 3, normalize: { range: [-1, 1] } });
    // x = −1 + 2p = (p − 0.5) / 0.5
    assert.deepEqual(range, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  });

  test('images go to the model in its layout and normalisation, and its images come back in pixel order', () => {
    const m: ModelManifest = { ...BASE, input: { width: 2, height: 1, channels: 3, layout: 'NCHW', flatten: false } };
    // One image, two pixels (r,g,b): (255,0,51) and (102,153,204).
    const pixels = Uint8Array.from([255, 0, 51, 102, 153, 204]);
    const norm = { mean: [0, 0.5, 0], std: [1, 0.5, 2] };
    const x = toModelInput(m, norm, pixels, 1);
    // NCHW: all red values, then all green, then all blue.
    assert.deepEqual(
      Array.from(x, (v) => +v.toFixed(5)),
      [1, 0.4, -1, 0.2, 0.1, 0.4],
    );
    const nhwc = toModelInput({ ...m, input: { ...m.input, layout: 'NHWC' } }, norm, pixels, 1);
    assert.deepEqual(
      Array.from(nhwc, (v) => +v.toFixed(5)),
      [1, -1, 0.1, 0.4, 0.2, 0.4],
    );
    assert.deepEqual(Array.from(fromModelLayout(m, x, 1)), Array.from(nhwc));
  });
});

describe('a run trained here, exported to ONNX and loaded as a model trained elsewhere', () => {
  let root: string;
  let engine: EngineClient;
  let images: string;

  before(async () => {
    root = await tempDir('imported');
    images = await demoFolder(join(root, 'images'), 90);
    engine = client();
  });
  after(async () => {
    await engine.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  for (const variant of [
    { name: 'mlp-bernoulli', model: SMALL_MODEL },
    {
      name: 'conv-gaussian-conditional',
      model: {
        ...SMALL_MODEL,
        architecture: 'conv' as const,
        convFilters: [4, 8],
        likelihood: 'gaussian' as const,
        conditional: true,
        latentSize: 3,
      },
    },
  ]) {
    test(`${variant.name}: the same latents, images and ELBO terms as the run itself`, async () => {
      const runDir = join(root, variant.name);
      await engine.request<'train'>(
        trainBody(runDir, images, { model: variant.model, training: { ...SMALL_TRAINING, epochs: 1 }, name: variant.name }),
      );
      const onnxDir = join(root, `${variant.name}-onnx`);
      const { files } = await engine.request<'exportOnnx'>({ type: 'exportOnnx', runDir, dir: onnxDir });
      assert.deepEqual(
        files.map((f) => f.slice(onnxDir.length + 1)),
        ['encoder.onnx', 'decoder.onnx', MODEL_MANIFEST_FILE],
      );

      const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir: onnxDir });
      assert.equal(info.manifest.imported?.format, 'onnx');
      assert.equal(info.manifest.name, variant.name);
      assert.deepEqual(info.manifest.labels, ['circle', 'square', 'triangle']);
      assert.equal(info.manifest.model.conditional, variant.model.conditional);

      const own = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
      const imported = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: onnxDir, folder: images });
      assert.deepEqual(imported.files, own.files);
      assert.deepEqual(Array.from(imported.labels), Array.from(own.labels));
      assert.ok(maxAbs(imported.mu, own.mu) < 1e-4, `μ differs by ${maxAbs(imported.mu, own.mu)}`);
      // The encoding is stored in the model folder, like a run's.
      assert.deepEqual((await engine.request<'loadRun'>({ type: 'loadRun', runDir: onnxDir })).encodings, [images]);

      const latents = own.mu.slice(0, 5 * own.dims);
      const labels = variant.model.conditional ? [0, 1, 2, 0, 1] : undefined;
      const a = await engine.request<'decode'>({ type: 'decode', runDir, latents, labels });
      const b = await engine.request<'decode'>({ type: 'decode', runDir: onnxDir, latents, labels });
      assert.ok(maxAbs(a.pixels, b.pixels) <= 1, 'decoded images agree to one grey level');

      const some = own.files.slice(0, 4);
      const ra = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir, files: some });
      const rb = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir: onnxDir, files: some });
      assert.ok(maxAbs(ra.reconstructions.pixels, rb.reconstructions.pixels) <= 1);
      assert.equal(rb.terms?.length, 4);
      // KL is closed-form in μ and log σ²: the same; the reconstruction term is one draw of z, so close.
      for (let i = 0; i < 4; i++) {
        assert.ok(Math.abs(ra.terms![i]!.kl - rb.terms![i]!.kl) < 1e-2, `KL ${ra.terms![i]!.kl} vs ${rb.terms![i]!.kl}`);
        assert.ok(Number.isFinite(rb.terms![i]!.reconstruction) && rb.terms![i]!.reconstruction > 0);
      }

      const samples = await engine.request<'writeSamples'>({
        type: 'writeSamples',
        runDir: onnxDir,
        count: 3,
        mode: variant.model.conditional ? { kind: 'label', label: 'square' } : { kind: 'prior' },
        seed: 5,
        dir: join(root, `${variant.name}-samples`),
        stem: 'sample',
      });
      assert.equal(samples.files.length, 3);
    });
  }

  test('the run’s own tfjs layers files load through a manifest (a Keras model converted to tfjs looks the same)', async () => {
    const runDir = join(root, 'mlp-bernoulli');
    const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir });
    const dir = join(root, 'tfjs-model');
    await fs.cp(join(runDir, info.manifest.checkpoint!), dir, { recursive: true });
    const manifest: ModelManifest = {
      ...BASE,
      encoder: 'encoder/model.json',
      decoder: 'decoder/model.json',
      input: { width: 28, height: 28, channels: 1, layout: 'NHWC', flatten: true },
      latentSize: SMALL_MODEL.latentSize,
      encoderOutputs: { kind: 'concatenated', name: 'unused' },
    };
    // The layers model has two outputs (μ, log σ²); first name them wrongly: the message lists what it has.
    await fs.writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify(manifest));
    await assert.rejects(
      engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: dir, folder: images }),
      (err: EngineError) => err.code === 'corrupt-run' && /has no output named "unused"/.test(err.message) && /returns/.test(err.message),
    );
    const model = JSON.parse(await fs.readFile(join(dir, 'encoder', 'model.json'), 'utf8')) as {
      modelTopology: { config: { output_layers: [string, number, number][] } };
    };
    const [mu, logVar] = model.modelTopology.config.output_layers.map((o) => o[0]);
    await fs.writeFile(
      join(dir, MODEL_MANIFEST_FILE),
      JSON.stringify({ ...manifest, encoderOutputs: { kind: 'mu-logvar', mu: mu!, logVar: logVar! } }),
    );
    const own = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
    const imported = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: dir, folder: images });
    assert.equal(maxAbs(imported.mu, own.mu), 0);
  });

  test('what needs a model trained here is refused in words', async () => {
    const dir = join(root, 'mlp-bernoulli-onnx');
    await assert.rejects(
      engine.request<'resume'>({ type: 'resume', runDir: dir, epochs: 3 }),
      (err: EngineError) =>
        err.code === 'bad-request' &&
        /was trained elsewhere \(an imported model\), so Latent Atlas cannot train it further/.test(err.message),
    );
    await assert.rejects(
      engine.request<'estimateLogPx'>({ type: 'estimateLogPx', runDir: dir, k: 5 }),
      (err: EngineError) => err.code === 'bad-request' && /cannot estimate log p\(x\)/.test(err.message),
    );
    await assert.rejects(
      engine.request<'exportOnnx'>({ type: 'exportOnnx', runDir: dir, dir: join(root, 'again') }),
      (err: EngineError) => err.code === 'bad-request' && /cannot export it again/.test(err.message),
    );
  });

  test('a model file that the manifest names but that is missing, or the wrong shape, is named', async () => {
    const dir = join(root, 'broken');
    await fs.cp(join(root, 'mlp-bernoulli-onnx'), dir, { recursive: true });
    const m = JSON.parse(await fs.readFile(join(dir, MODEL_MANIFEST_FILE), 'utf8')) as ModelManifest;
    await fs.writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify({ ...m, input: { ...m.input, width: 32, height: 32 } }));
    await assert.rejects(
      engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: dir, folder: images }),
      (err: EngineError) =>
        err.code === 'corrupt-run' && /encoder\.onnx does not match .*: its input x is not \[N, 1024\]/.test(err.message),
    );
    await fs.writeFile(join(dir, MODEL_MANIFEST_FILE), JSON.stringify({ ...m, decoder: 'gone.onnx' }));
    await assert.rejects(
      engine.request<'loadRun'>({ type: 'loadRun', runDir: dir }),
      (err: EngineError) => err.code === 'corrupt-run' && /names gone\.onnx, but .*gone\.onnx does not exist/.test(err.message),
    );
  });
});

describe('describing model files that have no manifest', () => {
  const shape = (file: string, inputs: [string, (number | string)[]][], outputs: [string, (number | string)[]][]) => ({
    file,
    inputs: inputs.map(([name, dims]) => ({ name, dims })),
    outputs: outputs.map(([name, dims]) => ({ name, dims })),
  });
  const torchEncoder = shape(
    'encoder.onnx',
    [['x', ['N', 1, 28, 28]]],
    [
      ['mu', ['N', 8]],
      ['logvar', ['N', 8]],
    ],
  );
  const torchDecoder = shape('decoder.onnx', [['z', ['N', 8]]], [['logits', ['N', 1, 28, 28]]]);

  test('the shapes give the layout, size, latent size and outputs; normalisation and the decoder output are asked', () => {
    const open = inferManifest(torchEncoder, torchDecoder, {}, 'vae');
    assert.equal(open.manifest, null);
    assert.deepEqual(
      open.questions.map((q) => q.field),
      ['normalize', 'decoderOutput'],
    );
    const { manifest } = inferManifest(torchEncoder, torchDecoder, { normalize: { range: [-1, 1] }, decoderOutput: 'logits' }, 'vae');
    assert.deepEqual(manifest, {
      format: 'latent-atlas-model',
      version: 1,
      name: 'vae',
      encoder: 'encoder.onnx',
      decoder: 'decoder.onnx',
      input: { name: 'x', width: 28, height: 28, channels: 1, layout: 'NCHW', flatten: false, normalize: { range: [-1, 1] } },
      latentSize: 8,
      encoderOutputs: { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' },
      latentInput: 'z',
      decoderOutput: { name: 'logits', kind: 'logits' },
    });
  });

  test('log-variance first, one concatenated output, μ only, NHWC, flattened grey and colour', () => {
    const answers = { normalize: 'none' as const, decoderOutput: 'probabilities' as const };
    const swapped = shape(
      'e.onnx',
      [['img', ['N', 32, 32, 3]]],
      [
        ['log_var', ['N', 4]],
        ['mean', ['N', 4]],
      ],
    );
    const dec = (dims: number[]) => shape('d.onnx', [['z', ['N', 4]]], [['out', ['N', ...dims]]]);
    const a = inferManifest(swapped, dec([32, 32, 3]), answers, 'm').manifest!;
    assert.deepEqual(a.encoderOutputs, { kind: 'mu-logvar', mu: 'mean', logVar: 'log_var' });
    assert.deepEqual([a.input.layout, a.input.width, a.input.channels, a.input.flatten], ['NHWC', 32, 3, false]);
    const concat = inferManifest(shape('e.onnx', [['x', ['N', 784]]], [['stats', ['N', 8]]]), dec([784]), answers, 'm').manifest!;
    assert.deepEqual(concat.encoderOutputs, { kind: 'concatenated', name: 'stats' });
    assert.deepEqual([concat.input.width, concat.input.height, concat.input.channels, concat.input.flatten], [28, 28, 1, true]);
    const ae = inferManifest(shape('e.onnx', [['x', ['N', 784]]], [['code', ['N', 4]]]), dec([784]), answers, 'm').manifest!;
    assert.deepEqual(ae.encoderOutputs, { kind: 'mu', name: 'code' });
    // 3072 = 32×32×3: a colour image, but in which order were its values flattened? Asked.
    const colour = inferManifest(shape('e.onnx', [['x', ['N', 3072]]], [['stats', ['N', 8]]]), dec([3072]), answers, 'm');
    assert.deepEqual(
      colour.questions.map((q) => q.field),
      ['layout'],
    );
    assert.equal(
      inferManifest(shape('e.onnx', [['x', ['N', 3072]]], [['stats', ['N', 8]]]), dec([3072]), { ...answers, layout: 'NCHW' }, 'm').manifest
        ?.input.channels,
      3,
    );
    // [N, 3, 8, 3]: either end could hold the channels.
    assert.deepEqual(
      inferManifest(shape('e.onnx', [['x', ['N', 3, 8, 3]]], [['stats', ['N', 8]]]), dec([3, 8, 3]), answers, 'm').questions.map(
        (q) => q.field,
      ),
      ['layout'],
    );
  });
});

describe('VAEs trained by PyTorch and exported with torch.onnx.export', () => {
  let engine: EngineClient;
  let fixture: TorchVaeFixture;
  before(async () => {
    fixture = await torchVaeFixture();
    engine = client();
  });
  after(async () => {
    await engine.dispose();
    for (const m of ['mlp', 'conv'] as const) await fs.rm(join(fixture[m], 'encodings'), { recursive: true, force: true });
  });

  interface Reference {
    encodings: { file: string; mu: number[]; logVar: number[] }[];
    latents: number[][];
    decoded: number[][];
  }

  for (const kind of ['mlp', 'conv'] as const) {
    test(`${kind}: the points are PyTorch's μ (to 1e-4), decoded images are PyTorch's, reconstructions carry ELBO terms`, async () => {
      const dir = fixture[kind];
      const ref = JSON.parse(await fs.readFile(join(dir, 'reference.json'), 'utf8')) as Reference;
      const info = await engine.request<'loadRun'>({ type: 'loadRun', runDir: dir });
      assert.equal(info.manifest.imported?.format, 'onnx');
      assert.equal(info.manifest.labels.length, 10);
      const enc = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir: dir, folder: fixture.images });
      assert.equal(enc.files.length, 100);
      assert.equal(enc.dims, 8);
      // Class folders named as the model's classes take its label numbers.
      assert.deepEqual(enc.labelNames, info.manifest.labels);
      const byFile = new Map(ref.encodings.map((e) => [e.file, e]));
      let worst = 0;
      enc.files.forEach((file, i) => {
        const r = byFile.get(
          file
            .slice(fixture.images.length + 1)
            .split('\\')
            .join('/'),
        )!;
        assert.ok(r, `PyTorch encoded ${file}`);
        assert.equal(enc.labelNames[enc.labels[i]!], file.split(/[/\\]/).at(-2));
        worst = Math.max(worst, maxAbs(enc.mu.subarray(i * 8, (i + 1) * 8), r.mu));
      });
      assert.ok(worst < 1e-4, `μ differs from PyTorch's by up to ${worst}`);

      // Decoding: PyTorch's raw outputs, taken to pixels as the manifest says, are the images.
      const latents = Float32Array.from(ref.latents.flat());
      const decoded = await engine.request<'decode'>({ type: 'decode', runDir: dir, latents });
      const m = info.manifest.imported!.manifest;
      const toPixel = (v: number) =>
        m.decoderOutput.kind === 'logits' ? 1 / (1 + Math.exp(-v)) : v * normalisation(m.input).std[0]! + normalisation(m.input).mean[0]!;
      const expected = ref.decoded.flat().map((v) => Math.round(Math.min(1, Math.max(0, toPixel(v))) * 255));
      assert.ok(maxAbs(decoded.pixels, expected) <= 1, 'decoded pixels agree to one grey level');

      const rec = await engine.request<'reconstruct'>({ type: 'reconstruct', runDir: dir, files: enc.files.slice(0, 3) });
      assert.equal(rec.terms?.length, 3);
      for (const t of rec.terms!)
        assert.ok(t.kl > 0 && Number.isFinite(t.reconstruction) && Math.abs(t.elbo + t.reconstruction + t.kl) < 1e-3);
      // The CLI takes the model folder like a run.
      const cli = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli.ts'), 'info', dir], { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /^Model\s+Fashion-MNIST .* \(PyTorch\) \(trained elsewhere, ONNX\)/m);
      assert.match(cli.stdout, /^Encodings\s+.*images/m);
      // The reconstruction looks like its original far more than like another image.
      const px = 28 * 28;
      /** L1 distance between the reconstruction of image a and the original of image b. */
      const err = (a: number, b: number) =>
        rec.reconstructions.pixels
          .subarray(a * px, (a + 1) * px)
          .reduce((sum, v, i) => sum + Math.abs(v - rec.originals.pixels[b * px + i]!), 0);
      assert.ok(err(0, 0) < err(0, 1) && err(1, 1) < err(1, 0), 'each reconstruction resembles its own original');
    });
  }
});
