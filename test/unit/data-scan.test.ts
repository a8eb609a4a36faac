// Scanning a folder as a person arranges one: sub-folders are labels, hidden things and
// node_modules stay out, symbolic links are followed but never loop, the order is stable.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadFiles, loadFolder, scanFolder } from '../../src/engine/data';
import { greyPng, tempDir } from '../fixtures/images';

let tmp: ReturnType<typeof tempDir>;
let n = 0;

async function folder(names: string[]): Promise<string> {
  const dir = join(tmp.dir, `case-${++n}`);
  await fs.mkdir(dir, { recursive: true });
  for (const [i, name] of names.entries()) {
    await fs.mkdir(join(dir, name, '..'), { recursive: true });
    await fs.writeFile(
      join(dir, name),
      greyPng(8, 8, () => i * 10),
    );
  }
  return dir;
}

before(() => {
  tmp = tempDir();
});
after(() => tmp.remove());

describe('labels', () => {
  test('first-level sub-folders are labels, sorted; images in the root have none', async () => {
    const dir = await folder(['dog/b.png', 'cat/a.png', 'cat/deeper/c.png', 'loose.png']);
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual(loaded.labelNames, ['cat', 'dog']);
    const byName = Object.fromEntries(loaded.files.map((f, i) => [f.slice(dir.length + 1), loaded.labels[i]]));
    assert.deepEqual(byName, { 'cat/a.png': 0, 'cat/deeper/c.png': 0, 'dog/b.png': 1, 'loose.png': -1 });
  });

  test("a trained run's label order is kept and unknown labels become −1", async () => {
    const dir = await folder(['dog/b.png', 'cat/a.png', 'bird/c.png']);
    const loaded = await loadFolder(dir, { cacheDir: false, labelNames: ['dog', 'cat'] });
    assert.deepEqual(loaded.labelNames, ['dog', 'cat']);
    const byName = Object.fromEntries(loaded.files.map((f, i) => [f.slice(dir.length + 1), loaded.labels[i]]));
    assert.deepEqual(byName, { 'bird/c.png': -1, 'cat/a.png': 1, 'dog/b.png': 0 });
  });

  test('all images in the root: no labels at all', async () => {
    const dir = await folder(['a.png', 'b.png']);
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual(loaded.labelNames, []);
    assert.deepEqual(Array.from(loaded.labels), [-1, -1]);
  });

  test('loadFiles takes labels from labelRoot, or from the parent folder name', async () => {
    const dir = await folder(['dog/b.png', 'cat/x/a.png']);
    const files = [join(dir, 'cat/x/a.png'), join(dir, 'dog/b.png')];
    const pre = { width: 8, height: 8, channels: 1 as const, fit: 'cover' as const };
    const rooted = await loadFiles(files, pre, { cacheDir: false, labelRoot: dir });
    assert.deepEqual(rooted.labelNames, ['cat', 'dog']);
    assert.deepEqual(Array.from(rooted.labels), [0, 1]);
    const byParent = await loadFiles(files, pre, { cacheDir: false, labelNames: ['dog', 'x'] });
    assert.deepEqual(Array.from(byParent.labels), [1, 0]);
  });
});

describe('what is scanned', () => {
  test('hidden files and folders and node_modules are skipped', async () => {
    const dir = await folder(['a.png', '.hidden.png', '.git/b.png', 'node_modules/pkg/c.png', 'cls/.thumbs/d.png', 'cls/e.png']);
    const scan = await scanFolder(dir);
    assert.deepEqual(
      scan.files.map((f) => f.path.slice(dir.length + 1)),
      ['a.png', 'cls/e.png'],
    );
  });

  test('a symbolic link loop terminates and every image is counted once', async () => {
    const dir = await folder(['a/x.png', 'b/y.png']);
    await fs.symlink(dir, join(dir, 'a', 'back-to-root'));
    await fs.symlink(join(dir, 'a'), join(dir, 'b', 'to-a'));
    await fs.symlink(join(dir, 'b'), join(dir, 'b', 'self'));
    const scan = await scanFolder(dir);
    assert.deepEqual(
      scan.files.map((f) => f.path.slice(dir.length + 1)),
      ['a/x.png', 'b/y.png'],
    );
  });

  test('symbolic links to folders and files elsewhere are followed', async () => {
    const outside = await folder(['p.png', 'q.png']);
    const dir = await folder(['own.png']);
    await fs.symlink(outside, join(dir, 'linked'));
    await fs.symlink(join(outside, 'p.png'), join(dir, 'alias.png'));
    const scan = await scanFolder(dir);
    assert.deepEqual(
      scan.files.map((f) => f.path.slice(dir.length + 1)),
      ['alias.png', 'linked/p.png', 'linked/q.png', 'own.png'],
    );
    assert.deepEqual(scan.labelNames, ['linked']);
  });

  test('a broken link with an image name is reported', async () => {
    const dir = await folder(['a.png']);
    await fs.symlink(join(dir, 'gone.png'), join(dir, 'dangling.png'));
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.equal(loaded.count, 1);
    assert.equal(loaded.skipped.length, 1);
    assert.equal(loaded.skipped[0].file, join(dir, 'dangling.png'));
    assert.match(loaded.skipped[0].reason, /broken symbolic link/);
  });

  test('order is by relative path, the same on every run', async () => {
    const dir = await folder(['b/2.png', 'a.b/1.png', 'a/3.png', 'B.png', 'a/10.png']);
    const first = (await scanFolder(dir)).files.map((f) => f.path.slice(dir.length + 1));
    assert.deepEqual(first, ['B.png', 'a.b/1.png', 'a/10.png', 'a/3.png', 'b/2.png']);
    const loaded = await loadFolder(dir, { cacheDir: false });
    assert.deepEqual(
      loaded.files.map((f) => f.slice(dir.length + 1)),
      first,
    );
  });

  test('sizes and modification times are recorded', async () => {
    const dir = await folder(['a.png']);
    await fs.utimes(join(dir, 'a.png'), 1_600_000_000, 1_600_000_000);
    const [file] = (await scanFolder(dir)).files;
    assert.equal(file.size, (await fs.stat(join(dir, 'a.png'))).size);
    assert.equal(file.mtimeMs, 1_600_000_000_000);
    assert.equal(file.label, null);
  });

  test('cancelling stops the load', async () => {
    const dir = await folder(['a.png', 'b.png']);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(loadFolder(dir, { cacheDir: false, signal: controller.signal }), { name: 'AbortError' });
  });
});
