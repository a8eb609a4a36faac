// Each encoded image's ELBO terms (issue: "which images does the model get wrong?"): stored with the
// points, the same for a file every time it is encoded, re-used with the point, highest for an image
// unlike anything the model saw; the CLI names the worst.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { EngineClient } from '../../src/client/engineClient';
import { readEncoding, writeEncoding } from '../../src/engine/runStore/encodings';
import type { Encoding } from '../../src/protocol/engine';
import { SMALL_TRAINING, client, demoFolder, tempDir, trainBody } from './worker-fixtures';

let root: string;
let images: string;
let runDir: string;
let engine: EngineClient;

before(async () => {
  root = await tempDir('terms');
  images = await demoFolder(join(root, 'images'), 150);
  engine = client();
  runDir = join(root, 'run');
  await engine.request<'train'>(trainBody(runDir, images, { training: { ...SMALL_TRAINING, epochs: 3 } }));
  // Noise: nothing like the circles, squares and triangles the model learned.
  const noise = Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => ((i * 7919) % 251) + 2));
  await sharp(noise, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(join(images, 'circle', 'zz-noise.png'));
});
after(async () => {
  await engine.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

test('every point carries its reconstruction term and KL; an image unlike the training data is the worst reconstructed', async () => {
  const enc = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
  assert.ok(enc.terms);
  assert.equal(enc.terms.reconstruction.length, enc.files.length);
  assert.ok(enc.terms.kl.every((k) => k >= 0 && Number.isFinite(k)));
  assert.ok(enc.terms.reconstruction.every((r) => r > 0 && Number.isFinite(r)));
  // The posterior spread per point: the mean of σ = exp(½ log σ²) over the dimensions.
  const stored0 = await readEncoding(runDir, images);
  const lv = stored0!.logVar.subarray(0, enc.dims);
  assert.ok(Math.abs(enc.meanSigma[0]! - Array.from(lv, (v) => Math.exp(v / 2)).reduce((a, b) => a + b) / enc.dims) < 1e-6);
  const worst = enc.terms.reconstruction.indexOf(Math.max(...enc.terms.reconstruction));
  assert.match(enc.files[worst]!, /zz-noise\.png$/);
  // Stored in the run's encoding file too.
  const stored = await readEncoding(runDir, images);
  assert.deepEqual(stored?.terms, enc.terms);
});

test('the terms of a file are the same each time it is encoded (its own noise), and re-used with its point', async () => {
  const first = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images, incremental: false });
  const again = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images, incremental: false });
  assert.deepEqual(again.terms, first.terms);
  const reused = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
  assert.equal(reused.encoded, 0);
  assert.deepEqual(reused.terms, first.terms);
  // A new file is encoded alone; the others keep theirs.
  await fs.copyFile(join(images, 'circle', 'zz-noise.png'), join(images, 'square', 'zz-noise-copy.png'));
  const grown = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
  assert.equal(grown.encoded, 1);
  const at = (e: typeof grown, name: string) => e.files.findIndex((f) => f.endsWith(name));
  assert.equal(
    grown.terms!.reconstruction[at(grown, 'circle/zz-noise.png')],
    first.terms!.reconstruction[at(first, 'circle/zz-noise.png')],
  );
  await fs.rm(join(images, 'square', 'zz-noise-copy.png'));
});

test('the points come first: sent before the decoder computes the terms, which then fill them in', async () => {
  let sent: Encoding | undefined;
  const { result } = engine.begin<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images, incremental: false }, (e) => {
    if (e.type === 'encodedPoints') sent = e.encoding;
  });
  const done = await result;
  assert.ok(sent, 'an encodedPoints event came before the reply');
  assert.deepEqual(sent.mu, done.mu);
  assert.deepEqual(sent.files, done.files);
  assert.ok(sent.terms!.reconstruction.every(Number.isNaN), 'no terms yet when the points are sent');
  assert.ok(done.terms!.reconstruction.every(Number.isFinite) && done.terms!.kl.every(Number.isFinite));
  assert.deepEqual((await readEncoding(runDir, images))?.terms, done.terms);
});

test('an encoding stored without some terms (cancelled, or encoded without them) gets them at the next encode', async () => {
  const full = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
  const stored = (await readEncoding(runDir, images))!;
  // As a cancel between the points and the terms leaves it: three files without terms.
  for (const i of [0, 5, 9]) stored.terms!.reconstruction[i] = stored.terms!.kl[i] = Number.NaN;
  await writeEncoding(runDir, stored);
  let events = 0;
  const { result } = engine.begin<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images }, (e) => {
    if (e.type === 'encodedPoints') events++;
  });
  const filled = await result;
  assert.equal(filled.encoded, 3);
  assert.equal(events, 1);
  assert.deepEqual(filled.terms, full.terms, 'the same figures (each file has its own noise)');

  // Without terms: no decoder pass, no points event; their figures stay empty, and the next
  // encode with terms encodes those files again.
  const bare = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images, incremental: false, terms: false });
  assert.ok(bare.terms!.reconstruction.every(Number.isNaN));
  assert.deepEqual(bare.mu, full.mu);
  const again = await engine.request<'encodeFolder'>({ type: 'encodeFolder', runDir, folder: images });
  assert.equal(again.encoded, again.files.length);
  assert.deepEqual(again.terms, full.terms);
});
