// The uint8 cache as a person notices it: the second load of a folder decodes nothing, one
// changed file is decoded alone, a damaged cache is rebuilt silently, and the cache stays bounded.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultCacheDir, flushImageCache, releaseImageCache, loadDataset, loadFiles, loadFolder, scanFolder } from '../../src/engine/data';
import { readPack } from '../../src/engine/data/cache';
import { greyPng, tempDir } from '../fixtures/images';

let tmp: ReturnType<typeof tempDir>;
let n = 0;

/** A folder of `count` distinct 16×16 images in two classes, and a cache folder of its own. */
async function setup(count = 6): Promise<{ dir: string; cacheDir: string }> {
  const dir = join(tmp.dir, `data-${++n}`);
  for (let i = 0; i < count; i++) {
    const cls = i % 2 ? 'odd' : 'even';
    await fs.mkdir(join(dir, cls), { recursive: true });
    await fs.writeFile(
      join(dir, cls, `${i}.png`),
      greyPng(16, 16, (x, y) => (x + y + i * 20) % 256),
    );
  }
  return { dir, cacheDir: join(tmp.dir, `cache-${n}`) };
}

async function packs(cacheDir: string): Promise<string[]> {
  return (await fs.readdir(join(cacheDir, 'images-v1')).catch(() => [])).filter((f) => f.endsWith('.pack'));
}

before(() => {
  tmp = tempDir();
});
after(() => tmp.remove());

describe('cache', () => {
  test('the second load of a folder decodes no file and gives the same images', async () => {
    const { dir, cacheDir } = await setup();
    const first = await loadFolder(dir, { cacheDir });
    assert.equal(first.decoded, 6);
    assert.equal(first.fromCache, 0);
    await releaseImageCache(); // read back from disk, as a new worker process would
    const second = await loadFolder(dir, { cacheDir });
    assert.equal(second.decoded, 0);
    assert.equal(second.fromCache, 6);
    assert.deepEqual(second.images, first.images);
    assert.deepEqual(second.files, first.files);
    assert.deepEqual(second.labels, first.labels);
    assert.deepEqual(second.pre, first.pre);
  });

  test('a changed file is decoded alone and its new pixels are used', async () => {
    const { dir, cacheDir } = await setup();
    const first = await loadFolder(dir, { cacheDir });
    const changed = join(dir, 'odd', '3.png');
    await fs.writeFile(
      changed,
      greyPng(16, 16, () => 77),
    );
    await fs.utimes(changed, new Date(), new Date(Date.now() + 5000));
    const second = await loadFolder(dir, { cacheDir });
    assert.equal(second.decoded, 1);
    assert.equal(second.fromCache, 5);
    const i = second.files.indexOf(changed);
    assert.ok(second.images.subarray(i * 256, (i + 1) * 256).every((v) => v === 77));
    const j = second.files.indexOf(join(dir, 'even', '0.png'));
    assert.deepEqual(second.images.subarray(j * 256, (j + 1) * 256), first.images.subarray(j * 256, (j + 1) * 256));
  });

  test('added and deleted files: only the new one is decoded, the deleted one is gone', async () => {
    const { dir, cacheDir } = await setup();
    await loadFolder(dir, { cacheDir });
    await fs.rm(join(dir, 'even', '0.png'));
    await fs.writeFile(
      join(dir, 'even', 'new.png'),
      greyPng(16, 16, () => 5),
    );
    const second = await loadFolder(dir, { cacheDir });
    assert.equal(second.count, 6);
    assert.equal(second.decoded, 1);
    assert.ok(!second.files.includes(join(dir, 'even', '0.png')));
    const third = await loadFolder(dir, { cacheDir });
    assert.equal(third.decoded, 0);
  });

  test('unusable files are remembered with their reason', async () => {
    const { dir, cacheDir } = await setup(2);
    await fs.writeFile(join(dir, 'odd', 'broken.png'), 'not a png');
    const first = await loadFolder(dir, { cacheDir });
    assert.equal(first.decoded, 3);
    const second = await loadFolder(dir, { cacheDir });
    assert.equal(second.decoded, 0);
    assert.deepEqual(second.skipped, first.skipped);
    assert.match(second.skipped[0].reason, /not an image/);
  });

  test('progress is reported up to the total', async () => {
    const { dir, cacheDir } = await setup();
    const calls: [number, number][] = [];
    await loadFolder(dir, { cacheDir, onProgress: (done, total) => calls.push([done, total]) });
    assert.ok(calls.length >= 2);
    assert.deepEqual(calls.at(-1), [6, 6]);
    for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] >= calls[i - 1][0]);
  });

  test('a cancelled load keeps what it decoded, so the next load does less', async () => {
    const { dir, cacheDir } = await setup(20);
    await fs.writeFile(join(dir, 'even', '000-broken.png'), 'not a png');
    const controller = new AbortController();
    await assert.rejects(loadFolder(dir, { cacheDir, signal: controller.signal, onProblem: () => controller.abort() }), {
      name: 'AbortError',
    });
    const next = await loadFolder(dir, { cacheDir });
    assert.equal(next.count, 20);
    assert.ok(next.decoded < 21, `decoded ${next.decoded} of 21`);
    assert.equal(next.decoded + next.fromCache + 1, 21);
  });

  test('a damaged cache file is ignored and rebuilt, never an error', async () => {
    const { dir, cacheDir } = await setup();
    const first = await loadFolder(dir, { cacheDir });
    const [pack] = await packs(cacheDir);
    const path = join(cacheDir, 'images-v1', pack);
    const bytes = await fs.readFile(path);
    bytes[bytes.length - 10] ^= 0xff; // one flipped pixel byte
    await fs.writeFile(path, bytes);
    const flipped = await loadFolder(dir, { cacheDir });
    assert.equal(flipped.decoded, 6);
    assert.deepEqual(flipped.images, first.images);

    await fs.writeFile(path, bytes.subarray(0, 30)); // truncated
    assert.equal((await loadFolder(dir, { cacheDir })).decoded, 6);
    await fs.writeFile(path, 'garbage');
    assert.equal((await loadFolder(dir, { cacheDir })).decoded, 6);
    assert.equal((await loadFolder(dir, { cacheDir })).decoded, 0);
  });

  test('other preprocessing is cached separately', async () => {
    const { dir, cacheDir } = await setup();
    await loadFolder(dir, { cacheDir });
    const small = await loadFolder(dir, { cacheDir, pre: { width: 8, height: 8, channels: 1, fit: 'cover' } });
    assert.equal(small.decoded, 6);
    assert.equal(small.images.length, 6 * 64);
    assert.equal((await loadFolder(dir, { cacheDir })).decoded, 0);
  });

  test('loading a few files of a folder keeps the rest of its cache', async () => {
    const { dir, cacheDir } = await setup();
    const all = await loadFolder(dir, { cacheDir });
    const some = await loadFiles([join(dir, 'odd', '1.png'), join(dir, 'even', '2.png')], all.pre, { cacheDir, labelRoot: dir });
    assert.equal(some.decoded, 0);
    assert.equal(some.fromCache, 2);
    assert.equal((await loadFolder(dir, { cacheDir })).decoded, 0);
  });

  test('a folder loaded in small chunks ends up whole on disk after a flush', async () => {
    const { dir, cacheDir } = await setup(24);
    const pre = { width: 16, height: 16, channels: 1 as const, fit: 'cover' as const };
    const files = (await scanFolder(dir)).files.map((f) => f.path);
    for (let i = 0; i < files.length; i += 4) {
      const chunk = await loadFiles(files.slice(i, i + 4), pre, { cacheDir, labelRoot: dir });
      assert.equal(chunk.decoded, 4);
    }
    await flushImageCache();
    const [pack] = await packs(cacheDir);
    const onDisk = await readPack(join(cacheDir, 'images-v1', pack), dir, pre);
    assert.equal(onDisk.size, 24);
    assert.equal((await loadFolder(dir, { cacheDir, pre })).decoded, 0);
  });

  test('the cache stays within its size bound, dropping the least recently used folder', async () => {
    const a = await setup();
    const b = await setup();
    const cacheDir = join(tmp.dir, 'bounded');
    await loadFolder(a.dir, { cacheDir });
    const dir = join(cacheDir, 'images-v1');
    let oneFolder = 0;
    for (const f of await fs.readdir(dir)) oneFolder += (await fs.stat(join(dir, f))).size;
    // The bound holds one folder's cache but not two of the same size.
    const cacheMaxBytes = Math.round(oneFolder * 1.5);
    await loadFolder(b.dir, { cacheDir, cacheMaxBytes });
    assert.equal((await packs(cacheDir)).length, 1);
    assert.equal((await loadFolder(b.dir, { cacheDir, cacheMaxBytes })).decoded, 0);
    assert.equal((await loadFolder(a.dir, { cacheDir, cacheMaxBytes })).decoded, 6);
  });

  test('the default cache folder follows XDG_CACHE_HOME, else ~/.cache', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/somewhere/cache';
      assert.equal(defaultCacheDir(), '/somewhere/cache/latent-atlas');
      delete process.env.XDG_CACHE_HOME;
      assert.match(defaultCacheDir(), /\/\.cache\/latent-atlas$/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  test('the dataset fingerprint is stable and changes when a file does', async () => {
    const { dir, cacheDir } = await setup();
    const a = await loadDataset({ kind: 'folder', path: dir }, { cacheDir });
    const b = await loadDataset({ kind: 'folder', path: dir }, { cacheDir });
    assert.match(a.summary.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(b.summary.fingerprint, a.summary.fingerprint);
    assert.deepEqual({ ...a.summary, fingerprint: '' }, { source: { kind: 'folder', path: dir }, count: 6, skipped: 0, fingerprint: '' });
    await fs.utimes(join(dir, 'odd', '1.png'), new Date(), new Date(Date.now() + 9000));
    const c = await loadDataset({ kind: 'folder', path: dir }, { cacheDir });
    assert.notEqual(c.summary.fingerprint, a.summary.fingerprint);
  });
});
