// The built-in demo set and PNG writing: the same shapes for the same seed, the promised classes
// and factor ranges, factors visible in the pixels, and sample files that never overwrite.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  DEMO_CLASSES,
  DEMO_FACTORS,
  demoImages,
  drawShape,
  encodePng,
  loadDataset,
  loadFolder,
  writeDemoFolder,
  writePngs,
} from '../../src/engine/data';
import { tempDir } from '../fixtures/images';

let tmp: ReturnType<typeof tempDir>;
before(() => {
  tmp = tempDir();
});
after(() => tmp.remove());

function correlation(a: number[], b: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let c = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < a.length; i++) {
    c += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return c / Math.sqrt(va * vb);
}

describe('demo set', () => {
  const demo = demoImages();

  test('10,000 grey 28×28 images in three balanced shape classes', () => {
    assert.equal(demo.count, 10_000);
    assert.deepEqual(demo.pre, { width: 28, height: 28, channels: 1, fit: 'cover' });
    assert.equal(demo.images.length, 10_000 * 784);
    assert.deepEqual(demo.labelNames, ['circle', 'square', 'triangle']);
    const perClass = [0, 0, 0];
    for (const l of demo.labels) perClass[l]++;
    assert.ok(
      perClass.every((c) => Math.abs(c - 10_000 / 3) < 2),
      `${perClass}`,
    );
    assert.equal(demo.files[1], 'square/00002.png');
  });

  test('the same seed draws the same images; another seed draws others', () => {
    const again = demoImages(500, 7);
    assert.deepEqual(demoImages(500, 7).images, again.images);
    assert.deepEqual(demoImages(500, 7).factors, again.factors);
    assert.notDeepEqual(demoImages(500, 8).images, again.images);
  });

  test('factors are uniform over their ranges', () => {
    const names = ['rotation', 'scale', 'x', 'y'] as const;
    names.forEach((name, k) => {
      const [lo, hi] = DEMO_FACTORS[name];
      const values = Array.from({ length: demo.count }, (_, i) => demo.factors[i * 4 + k]);
      const min = Math.min(...values);
      const max = Math.max(...values);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      assert.ok(min >= lo - 1e-6 && max <= hi + 1e-6, `${name} in [${lo}, ${hi}]: ${min}…${max}`);
      assert.ok(min - lo < (hi - lo) * 0.01 && hi - max < (hi - lo) * 0.01, `${name} covers its range`);
      assert.ok(Math.abs(mean - (lo + hi) / 2) < (hi - lo) * 0.02, `${name} mean ${mean}`);
    });
  });

  test('every shape is drawn whole inside the frame, anti-aliased', () => {
    let partial = 0;
    for (let i = 0; i < demo.count; i++) {
      const img = demo.images.subarray(i * 784, (i + 1) * 784);
      let mass = 0;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const v = img[y * 28 + x];
          mass += v;
          if (v > 0 && v < 255) partial++;
          if (x === 0 || y === 0 || x === 27 || y === 27) assert.equal(v, 0, `image ${i} touches the border`);
        }
      }
      assert.ok(mass > 15 * 255, `image ${i} is nearly empty`);
    }
    assert.ok(partial > demo.count * 10, 'edges have intermediate grey levels');
  });

  test('position and scale are visible in the pixels (the manifold a 2-D latent should recover)', () => {
    const cx: number[] = [];
    const cy: number[] = [];
    const mass: number[] = [];
    const fx: number[] = [];
    const fy: number[] = [];
    const area: number[] = [];
    for (let i = 0; i < demo.count; i++) {
      let m = 0;
      let sx = 0;
      let sy = 0;
      for (let p = 0; p < 784; p++) {
        const v = demo.images[i * 784 + p];
        m += v;
        sx += v * (p % 28);
        sy += v * Math.floor(p / 28);
      }
      cx.push(sx / m);
      cy.push(sy / m);
      fx.push(demo.factors[i * 4 + 2]);
      fy.push(demo.factors[i * 4 + 3]);
      if (demo.labels[i] === 0) {
        mass.push(m);
        area.push(demo.factors[i * 4 + 1] ** 2);
      }
    }
    assert.ok(correlation(cx, fx) > 0.99);
    assert.ok(correlation(cy, fy) > 0.99);
    assert.ok(correlation(mass, area) > 0.99, 'circle ink grows with scale²');
  });

  test('rotation turns the square and the triangle, not the circle', () => {
    const pre = { width: 28, height: 28, channels: 1 as const };
    const draw = (cls: number, rotation: number) => {
      const img = new Uint8Array(784);
      drawShape(img, 0, pre, cls, rotation, 1, 0, 0);
      return img;
    };
    const differing = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (Math.abs(v - b[i]) > 64 ? 1 : 0), 0);
    assert.ok(differing(draw(1, 0), draw(1, Math.PI / 6)) > 20, 'square turns');
    assert.ok(differing(draw(2, 0), draw(2, Math.PI / 6)) > 20, 'triangle turns');
    assert.equal(differing(draw(0, 0), draw(0, Math.PI / 6)), 0, 'circle looks the same');
    // An unturned square is symmetric about both axes; a turned one is not mirror-symmetric.
    const square = draw(1, 0);
    const mirrored = square.map((_, p) => square[Math.floor(p / 28) * 28 + 27 - (p % 28)]);
    assert.equal(differing(square, mirrored), 0);
    const turned = draw(1, Math.PI / 8);
    const turnedMirrored = turned.map((_, p) => turned[Math.floor(p / 28) * 28 + 27 - (p % 28)]);
    assert.ok(differing(turned, turnedMirrored) > 10);
  });

  test('writeDemoFolder writes one PNG per image in one sub-folder per class; it loads back exactly', async () => {
    const dir = join(tmp.dir, 'demo');
    assert.equal(await writeDemoFolder(dir, 30, 5), 30);
    assert.deepEqual((await fs.readdir(dir)).sort(), [...DEMO_CLASSES]);
    const loaded = await loadFolder(dir, { cacheDir: false });
    const source = demoImages(30, 5);
    assert.equal(loaded.count, 30);
    assert.deepEqual(loaded.pre, source.pre);
    assert.deepEqual(loaded.labelNames, source.labelNames);
    loaded.files.forEach((file, k) => {
      const i = source.files.indexOf(file.slice(dir.length + 1));
      assert.ok(i >= 0, file);
      assert.equal(loaded.labels[k], source.labels[i]);
      assert.deepEqual(loaded.images.subarray(k * 784, (k + 1) * 784), source.images.subarray(i * 784, (i + 1) * 784));
    });
  });

  test('loadDataset gives the demo set with a stable fingerprint, at the size asked for', async () => {
    const a = await loadDataset({ kind: 'demo' });
    const b = await loadDataset({ kind: 'demo' });
    assert.equal(a.summary.count, 10_000);
    assert.equal(a.summary.fingerprint, b.summary.fingerprint);
    assert.deepEqual(a.images.subarray(0, 784 * 5), demo.images.subarray(0, 784 * 5));
    const big = await loadDataset({ kind: 'demo' }, { pre: { width: 32, height: 32, channels: 3 }, labelNames: ['triangle', 'circle'] });
    assert.equal(big.images.length, 10_000 * 32 * 32 * 3);
    assert.deepEqual(Array.from(big.labels.subarray(0, 3)), [1, -1, 0]);
  });
});

describe('PNG writing', () => {
  const batch = (count: number, value: number) => ({
    count,
    width: 4,
    height: 3,
    channels: 1 as const,
    pixels: new Uint8Array(count * 12).fill(value),
  });

  test('encodePng round-trips grey and colour pixels', async () => {
    const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 23) % 256);
    const { data, info } = await sharp(await encodePng(rgb, 4, 3, 3))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [4, 3, 3]);
    assert.deepEqual(new Uint8Array(data), rgb);
    await assert.rejects(encodePng(rgb, 5, 3, 3), /36 bytes given for a 5×3×3 image/);
  });

  test('writePngs numbers files, skips names that exist, and never overwrites', async () => {
    const dir = join(tmp.dir, 'samples');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(dir, 'sample-002.png'), 'keep me');
    const first = await writePngs(batch(3, 10), dir, 'sample');
    assert.deepEqual(
      first.map((p) => p.slice(dir.length + 1)),
      ['sample-001.png', 'sample-003.png', 'sample-004.png'],
    );
    assert.equal(await fs.readFile(join(dir, 'sample-002.png'), 'utf8'), 'keep me');
    const second = await writePngs(batch(2, 200), dir, 'sample');
    assert.deepEqual(
      second.map((p) => p.slice(dir.length + 1)),
      ['sample-005.png', 'sample-006.png'],
    );
    const { data } = await sharp(first[0]).raw().toBuffer({ resolveWithObject: true });
    assert.ok(
      data.every((v) => v === 10),
      'first files keep their pixels',
    );
  });

  test('two writers at once never overwrite each other', async () => {
    const dir = join(tmp.dir, 'race');
    const [a, b] = await Promise.all([writePngs(batch(5, 1), dir, 's'), writePngs(batch(5, 2), dir, 's')]);
    const all = [...a, ...b];
    assert.equal(new Set(all).size, 10);
    assert.equal((await fs.readdir(dir)).length, 10);
    for (const [paths, value] of [
      [a, 1],
      [b, 2],
    ] as const) {
      for (const p of paths) {
        const { data } = await sharp(p).raw().toBuffer({ resolveWithObject: true });
        assert.equal(data[0], value, `${p} holds its own writer's pixels`);
      }
    }
  });
});
