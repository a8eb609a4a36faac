// Exporting a selection from the map (issue 10, item 4): which points the explorer hands over, the
// host's checks and numbered names, copying originals without overwriting, and the CSV table with
// where the map drew each point.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodingsCsv } from '../../src/engine/csvExport';
import { handleExportCsv } from '../../src/engine/handlers/neighbours';
import { writeEncoding, type StoredEncoding } from '../../src/engine/runStore/encodings';
import { copySelection, nextSelectionName, pathList, selectedFiles } from '../../src/host/selectionFiles';
import { packNames } from '../../src/protocol/pointNames';
import type { PointsMessage } from '../../src/protocol/webview';
import { DIM, FULL, HIDDEN } from '../../webview/core/drawClass';
import { merge } from '../../webview/core/pointSet';
import { exportParts } from '../../webview/core/selectionExport';

function folder(path: string, names: string[]): PointsMessage {
  return {
    type: 'points',
    folder: path,
    folderUri: `https://x${path}`,
    names: packNames(names),
    labels: Int32Array.from(names.map(() => 0)),
    labelNames: ['a'],
    dims: 2,
    mu: Float32Array.from(names.flatMap((_, i) => [i, -i])),
  };
}

test('the explorer exports the selected points that are drawn, by folder, with their map coordinates', () => {
  const set = merge([folder('/ws/train', ['a.png', 'b.png', 'c.png']), folder('/ws/test', ['a.png', 'd.png'])]);
  const coords = Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  // b is in a class switched off; test's d is outside the selection (dimmed).
  const cls = Uint8Array.from([FULL, HIDDEN, FULL, FULL, DIM]);
  const selected = Uint8Array.from([1, 1, 1, 1, 0]);
  const parts = exportParts(set, coords, cls, selected);
  assert.deepEqual(
    parts.map((p) => [p.folder, p.names, Array.from(p.coords)]),
    [
      ['/ws/train', ['a.png', 'c.png'], [0, 0, 2, 2]],
      ['/ws/test', ['a.png'], [3, 3]],
    ],
  );
  // Without a selection: every drawn point, dimmed ones (a search) included, hidden ones not.
  assert.deepEqual(
    exportParts(set, coords, cls, null).map((p) => p.names),
    [
      ['a.png', 'c.png'],
      ['a.png', 'd.png'],
    ],
  );
  assert.deepEqual(exportParts(set, coords, new Uint8Array(5).fill(HIDDEN), null), []);
});

test('the host takes only files of the encodings it shows', () => {
  const shown = new Map([['/ws/train', new Set([join('/ws/train', 'cats', 'a.png'), join('/ws/train', 'b.png')])]]);
  const files = selectedFiles([{ folder: '/ws/train', names: ['cats/a.png', 'b.png'] }], shown);
  assert.deepEqual(files, [{ folder: '/ws/train', files: [join('/ws/train', 'cats', 'a.png'), join('/ws/train', 'b.png')] }]);
  assert.equal(pathList(files), `${join('/ws/train', 'cats', 'a.png')}\n${join('/ws/train', 'b.png')}`);
  assert.throws(() => selectedFiles([{ folder: '/ws/other', names: ['b.png'] }], shown), /\/ws\/other, which it does not show/);
  assert.throws(() => selectedFiles([{ folder: '/ws/train', names: ['../../etc/passwd'] }], shown), /is not among the encoded images/);
});

test('exports get the next free number, counting tables and folders alike', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'la-sel-'));
  try {
    assert.deepEqual(await nextSelectionName(join(dir, 'selections')), {
      csv: join(dir, 'selections', 'selection-001.csv'),
      folder: join(dir, 'selections', 'selection-001'),
    });
    await fs.mkdir(join(dir, 'selections', 'selection-001'), { recursive: true });
    await fs.writeFile(join(dir, 'selections', 'selection-002.csv'), '');
    assert.equal((await nextSelectionName(join(dir, 'selections'))).csv, join(dir, 'selections', 'selection-003.csv'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('copying keeps paths, keeps two folders apart, survives a vanished file and never writes into an existing folder', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'la-copy-'));
  try {
    for (const [f, body] of [
      ['train/cat/1.png', 'train cat'],
      ['test/cat/1.png', 'test cat'],
      ['other/train/cat/1.png', 'other train cat'],
    ] as const) {
      await fs.mkdir(join(dir, f, '..'), { recursive: true });
      await fs.writeFile(join(dir, f), body);
    }
    const parts = [
      { folder: join(dir, 'train'), files: [join(dir, 'train', 'cat', '1.png'), join(dir, 'train', 'gone.png')] },
      { folder: join(dir, 'test'), files: [join(dir, 'test', 'cat', '1.png')] },
      { folder: join(dir, 'other', 'train'), files: [join(dir, 'other', 'train', 'cat', '1.png')] },
    ];
    const dest = join(dir, 'out', 'selection-001');
    const r = await copySelection(parts, dest);
    assert.equal(r.copied, 3);
    assert.deepEqual(
      r.failed.map((f) => [f.file, f.reason]),
      [[join(dir, 'train', 'gone.png'), 'the file is gone (moved or deleted since it was encoded)']],
    );
    assert.equal(await fs.readFile(join(dest, 'train', 'cat', '1.png'), 'utf8'), 'train cat');
    assert.equal(await fs.readFile(join(dest, 'test', 'cat', '1.png'), 'utf8'), 'test cat');
    assert.equal(await fs.readFile(join(dest, 'train-2', 'cat', '1.png'), 'utf8'), 'other train cat', 'a second "train" is numbered');
    // One folder: its files directly below the new folder. An existing folder is refused, untouched.
    const one = await copySelection([parts[1]], join(dir, 'out', 'selection-002'));
    assert.equal(await fs.readFile(join(one.folder, 'cat', '1.png'), 'utf8'), 'test cat');
    await assert.rejects(copySelection([parts[0]], dest), { code: 'EEXIST' });
    assert.equal(await fs.readFile(join(dest, 'train', 'cat', '1.png'), 'utf8'), 'train cat');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a whole folder exported with a map: PCA over its posterior means, the latent itself when it is 2-D', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'latent-atlas-csvmap-'));
  try {
    // 3-D means along one direction u (plus a small spread along v): PC1 is u, explaining nearly all.
    const u = [2 / 3, 2 / 3, 1 / 3];
    const v = [1 / Math.SQRT2, -1 / Math.SQRT2, 0];
    const names = Array.from({ length: 40 }, (_, i) => `cat/${String(i).padStart(2, '0')}.png`);
    const t = names.map((_, i) => Math.floor(i / 2) - 9.5); // each position twice, at ±0.5 along v: no correlation
    const enc = encoding('/ws/train', names, 3);
    enc.mu = Float32Array.from(names.flatMap((_, i) => [0, 1, 2].map((j) => 5 + t[i]! * u[j]! + (i % 2 ? 0.5 : -0.5) * v[j]!)));
    await writeEncoding(dir, enc);
    const signal = new AbortController().signal;
    const ctx = { id: 1, signal, emit: () => {}, sent: async () => {} };
    const path = join(dir, 'out.csv');
    const r = await handleExportCsv({ type: 'exportCsv', id: 1, runDir: dir, parts: [{ folder: '/ws/train' }], path, map: 'pca' }, ctx);
    assert.equal(r.rows, 40);
    assert.equal(r.map?.kind, 'pca');
    assert.ok(r.map!.explained![0] > 0.99, `PC1 explains ${r.map!.explained![0]}`);
    const lines = (await fs.readFile(path, 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], 'file,folder,label,map_x,map_y,z1,z2,z3,logvar1,logvar2,logvar3,reconstruction,kl,elbo,mean_sigma');
    lines.slice(1).forEach((line, i) => {
      const [x, y] = line.split(',').slice(3, 5).map(Number);
      assert.ok(Math.abs(x! - t[i]!) < 1e-3, `row ${i}: map_x ${x} is its position along PC1, ${t[i]}`);
      assert.ok(Math.abs(Math.abs(y!) - 0.5) < 1e-3, `row ${i}: map_y ${y} is ±0.5`);
    });
    // No map asked: no map columns. A 2-D latent is its own map, whatever was asked.
    await handleExportCsv({ type: 'exportCsv', id: 2, runDir: dir, parts: [{ folder: '/ws/train' }], path }, ctx);
    assert.ok(!(await fs.readFile(path, 'utf8')).startsWith('file,folder,label,map_x'));
    await writeEncoding(dir, encoding('/ws/flat', ['a.png', 'b.png', 'c.png']));
    const flat = await handleExportCsv({ type: 'exportCsv', id: 3, runDir: dir, parts: [{ folder: '/ws/flat' }], path, map: 'umap' }, ctx);
    assert.equal(flat.map?.kind, 'latent');
    const row = (await fs.readFile(path, 'utf8')).split('\n')[2]!.split(',');
    assert.deepEqual(row.slice(3, 7), ['0.5', '0.75', '0.5', '0.75'], 'map_x, map_y = z1, z2');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

function encoding(folderPath: string, names: string[], dims = 2): StoredEncoding {
  return {
    folder: folderPath,
    checkpoint: 'c',
    dims,
    labelNames: ['cat', 'dog'],
    files: names.map((n, i) => ({ path: join(folderPath, ...n.split('/')), size: 1, mtimeMs: 0, label: i % 2 })),
    mu: Float32Array.from({ length: names.length * dims }, (_, i) => i / 4),
    logVar: new Float32Array(names.length * dims).fill(0),
    terms: { reconstruction: Float32Array.from(names.map((_, i) => 100 + i)), kl: Float32Array.from(names.map(() => 5)) },
    skipped: [],
    updatedAt: '',
  };
}

test('the CSV of a selection: the named rows in order, with where the map drew them', () => {
  const train = encoding('/ws/train', ['cat/a.png', 'dog/b.png', 'cat/c,1.png']);
  const csv = encodingsCsv([{ encoding: train, names: ['cat/c,1.png', 'cat/a.png'], coords: Float32Array.from([1.5, -2, 0.25, 3]) }]);
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'file,folder,label,map_x,map_y,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma');
  assert.deepEqual(lines.slice(1), [
    `"${join('/ws/train', 'cat', 'c,1.png')}",/ws/train,cat,1.5,-2,1,1.25,0,0,102,5,-107,1`,
    `${join('/ws/train', 'cat', 'a.png')},/ws/train,cat,0.25,3,0,0.25,0,0,100,5,-105,1`,
  ]);
  // A whole folder (the CLI): no map columns.
  assert.equal(
    encodingsCsv([{ encoding: train }]).split('\n')[0],
    'file,folder,label,z1,z2,logvar1,logvar2,reconstruction,kl,elbo,mean_sigma',
  );
  assert.throws(() => encodingsCsv([{ encoding: train, names: ['cat/zzz.png'] }]), /cat\/zzz\.png is not in the encoding of \/ws\/train/);
  assert.throws(() => encodingsCsv([{ encoding: train }, { encoding: encoding('/ws/z3', ['a.png'], 3) }]), /3 latent dimensions, not 2/);
});
