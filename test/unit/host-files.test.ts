import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { encodePng, writePngFiles } from '../../src/host/pngFiles';
import { projectorTables, writeProjectorFiles } from '../../src/host/projectorExport';
import type { Encoding, ImageBatch } from '../../src/protocol/engine';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'host-files-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

function batch(count: number, width: number, height: number, channels: 1 | 3): ImageBatch {
  const pixels = new Uint8Array(count * width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 256;
  return { count, width, height, channels, pixels };
}

test('encoded PNGs decode (with sharp) to the exact pixels, grey and RGB', async () => {
  for (const channels of [1, 3] as const) {
    const b = batch(1, 7, 5, channels);
    const png = encodePng(b.pixels, 7, 5, channels);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 7, 5, channels]);
    const { data, info } = await sharp(png).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, channels);
    assert.deepEqual(new Uint8Array(data), b.pixels);
  }
  assert.throws(() => encodePng(new Uint8Array(10), 7, 5, 1), /7×5×1/);
});

test('samples are written as stem-NNN.png and never overwrite an existing file', async () => {
  const dir = join(tmp, 'samples', 'run');
  const first = await writePngFiles(batch(3, 4, 4, 1), dir, 'sample');
  assert.deepEqual(first.map((f) => basename(f)), ['sample-001.png', 'sample-002.png', 'sample-003.png']);
  await writeFile(join(dir, 'sample-005.png'), 'mine');
  const second = await writePngFiles(batch(3, 4, 4, 1), dir, 'sample');
  assert.deepEqual(second.map((f) => basename(f)), ['sample-004.png', 'sample-006.png', 'sample-007.png']);
  assert.equal(await readFile(join(dir, 'sample-005.png'), 'utf8'), 'mine');
  assert.equal((await readdir(dir)).length, 7);
});

test('the projector export has one vector row and one metadata row per point', async () => {
  const folder = join(tmp, 'images');
  const encoding: Encoding = {
    runDir: join(tmp, '.vae', 'r'), folder, files: [join(folder, 'cat', 'a.png'), join(folder, 'b\tc.png'), join(folder, 'dog', 'd.png')],
    labels: Int32Array.from([0, -1, 1]), labelNames: ['cat', 'dog'], dims: 2, mu: Float32Array.from([0.5, -1, 2, 0.25, -3, 4]),
    logVar: new Float32Array(6), skipped: [], encoded: 3, reused: 0,
  };
  const t = projectorTables(encoding);
  assert.equal(t.vectors, '0.5\t-1\n2\t0.25\n-3\t4\n');
  assert.equal(t.metadata, `file\tlabel\n${join('cat', 'a.png')}\tcat\nb c.png\t\n${join('dog', 'd.png')}\tdog\n`);
  const [v, m] = await writeProjectorFiles(encoding, join(tmp, 'projector'));
  assert.equal(await readFile(v, 'utf8'), t.vectors);
  assert.equal(await readFile(m, 'utf8'), t.metadata);
});
