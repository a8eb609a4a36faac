// Several encoded folders at once (issue 9, item 6): how the explorer merges the folders' points
// messages, looks a file up by (folder, name) and switches a folder off.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packedNamesProblem, packNames, PointNames } from '../../src/protocol/pointNames';
import type { PointsMessage } from '../../src/protocol/webview';
import { findPoint, hiddenMask, merge, pointFile, pointImage, withFolder } from '../../webview/core/pointSet';

function folder(path: string, names: string[], labels: number[], labelNames: string[], extra: Partial<PointsMessage> = {}): PointsMessage {
  return {
    type: 'points',
    folder: path,
    folderUri: `https://x${path}`,
    names: packNames(names),
    labels: Int32Array.from(labels),
    labelNames,
    dims: 2,
    mu: Float32Array.from(names.flatMap((_, i) => [i, -i])),
    ...extra,
  };
}

const RUN = ['Trouser', 'Sneaker'];
const train = folder('/ws/train', ['Trouser/a.png', 'Sneaker/b.png', 'Sneaker/c.png'], [0, 1, 1], RUN, {
  terms: { reconstruction: Float32Array.from([1, 2, 3]), kl: Float32Array.from([4, 5, 6]) },
});
const test_ = folder('/ws/test', ['Sneaker/a.png', 'x.png'], [1, -1], RUN);

test('a folder joins the others; a new message for it replaces only its points, in its place', () => {
  let shown = withFolder([], train);
  shown = withFolder(shown, test_);
  assert.deepEqual(
    shown.map((f) => f.folder),
    ['/ws/train', '/ws/test'],
  );
  const again = folder('/ws/train', ['Trouser/a.png'], [0], RUN);
  shown = withFolder(shown, again);
  assert.deepEqual(
    shown.map((f) => new PointNames(f.names).length),
    [1, 2],
  );
  assert.equal(shown[0], again);
  // 'all' drops the others; folder '' clears everything.
  assert.deepEqual(
    withFolder(shown, { ...test_, replace: 'all' }).map((f) => f.folder),
    ['/ws/test'],
  );
  assert.deepEqual(withFolder(shown, folder('', [], [], [])), []);
  // Another latent size cannot be drawn beside these.
  const wide = folder('/ws/wide', ['a.png'], [0], RUN, { dims: 3, mu: Float32Array.from([1, 2, 3]) });
  assert.deepEqual(
    withFolder(shown, wide).map((f) => f.folder),
    ['/ws/wide'],
  );
});

test('merge concatenates the folders, keeps classes by name and fills missing figures with NaN', () => {
  const own = folder('/ws/other', ['cats/1.png', 'Sneaker/2.png'], [0, 1], ['cats', 'Sneaker']);
  const set = merge([train, test_, own]);
  assert.equal(set.names.length, 7);
  assert.deepEqual(
    Array.from({ length: 7 }, (_, i) => set.names.at(i)),
    ['Trouser/a.png', 'Sneaker/b.png', 'Sneaker/c.png', 'Sneaker/a.png', 'x.png', 'cats/1.png', 'Sneaker/2.png'],
  );
  assert.throws(() => set.names.at(7), RangeError);
  assert.deepEqual(set.labelNames, ['Trouser', 'Sneaker', 'cats']);
  assert.deepEqual(Array.from(set.labels), [0, 1, 1, 1, -1, 2, 1]);
  assert.deepEqual(Array.from(set.folderOf), [0, 0, 0, 1, 1, 2, 2]);
  assert.deepEqual(
    set.folders.map((f) => [f.title, f.start, f.count]),
    [
      ['train', 0, 3],
      ['test', 3, 2],
      ['other', 5, 2],
    ],
  );
  assert.deepEqual(Array.from(set.mu.subarray(6, 10)), [0, -0, 1, -1]);
  assert.deepEqual(Array.from(set.terms!.reconstruction.subarray(0, 3)), [1, 2, 3]);
  assert.ok(Number.isNaN(set.terms!.kl[3]));
  assert.equal(set.meanSigma, undefined);
  assert.equal(merge([{ ...test_, title: 'data/test' }]).folders[0].title, 'data/test');
  assert.equal(merge([], 8).dims, 8);
});

test('a point is named, found and drawn through its folder', () => {
  const set = merge([train, test_]);
  assert.deepEqual(pointFile(set, 3), { folder: '/ws/test', name: 'Sneaker/a.png' });
  assert.equal(pointImage(set, 3), 'https://x/ws/test/Sneaker/a.png');
  // The same name in two folders is two points.
  const twin = folder('/ws/twin', ['Trouser/a.png'], [0], RUN);
  const both = merge([train, twin]);
  assert.equal(findPoint(both, { folder: '/ws/train', name: 'Trouser/a.png' }), 0);
  assert.equal(findPoint(both, { folder: '/ws/twin', name: 'Trouser/a.png' }), 3);
  assert.equal(findPoint(both, { folder: '/ws/test', name: 'Trouser/a.png' }), -1);
  assert.equal(hiddenMask(set, new Set()), null);
  assert.deepEqual(Array.from(hiddenMask(set, new Set(['/ws/test']))!), [0, 0, 0, 1, 1]);
});

test('names travel packed: UTF-8 bytes and offsets, decoded one at a time', () => {
  const list = ['cats/a b #1.png', 'dogs/ünïcode €.png', '', 'emoji/😀.png', 'x.png'];
  const packed = packNames(list);
  assert.equal(packed.offsets.length, list.length + 1);
  assert.equal(packed.bytes.length, new TextEncoder().encode(list.join('')).length);
  // Each array owns exactly its buffer: VS Code sends a view's whole buffer.
  assert.equal(packed.bytes.buffer.byteLength, packed.bytes.length);
  const names = new PointNames(packed);
  assert.deepEqual(
    [4, 0, 3, 2, 1].map((i) => names.at(i)),
    [list[4], list[0], list[3], list[2], list[1]],
  );
  assert.deepEqual(names.toArray(), list);
  assert.equal(new PointNames(packNames([])).length, 0);
  const ascii = packNames(['a.png', 'bb/c.png', '']);
  assert.deepEqual(Array.from(ascii.offsets), [0, 5, 13, 13]);
  assert.equal(ascii.bytes.buffer.byteLength, 13);
  assert.deepEqual(new PointNames(ascii).toArray(), ['a.png', 'bb/c.png', '']);
  assert.equal(packedNamesProblem(packed, list.length), null);
  assert.match(packedNamesProblem(packed, 4) ?? '', /5 names for 4 points/);
  assert.match(packedNamesProblem({ bytes: packed.bytes.slice(1), offsets: packed.offsets }, 5) ?? '', /offsets run/);
});
