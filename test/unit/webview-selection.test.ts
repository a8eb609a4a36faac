import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointNames } from '../../src/protocol/pointNames';
import { baseName, pointInPolygon, pointsInPolygon, rectPolygon, searchFileNames } from '../../webview/core/hitTest';

test('pointInPolygon on a concave (L-shaped) lasso', () => {
  const l: [number, number][] = [
    [0, 0],
    [2, 0],
    [2, 1],
    [1, 1],
    [1, 2],
    [0, 2],
  ];
  assert.equal(pointInPolygon(0.5, 0.5, l), true);
  assert.equal(pointInPolygon(0.5, 1.5, l), true);
  assert.equal(pointInPolygon(1.5, 1.5, l), false, 'the notch of the L is outside');
  assert.equal(pointInPolygon(3, 0.5, l), false);
});

test('pointsInPolygon returns the indices inside a brush rectangle', () => {
  const coords = Float32Array.from([0, 0, 1, 1, 2, 2, -1, 0.5, 0.5, 0.5]);
  const rect = rectPolygon([1.5, 1.5], [-0.5, -0.5]);
  assert.deepEqual(Array.from(pointsInPolygon(coords, rect)), [0, 1, 4]);
  assert.deepEqual(
    Array.from(
      pointsInPolygon(coords, [
        [0, 0],
        [1, 1],
      ]),
    ),
    [],
    'fewer than 3 corners selects nothing',
  );
});

test('file-name search matches base names case-insensitively', () => {
  const files = PointNames.of(['/a/Cats/cat-001.png', '/a/dogs/dog-002.png', 'C:\\pics\\CAT-9.PNG', '/cats-folder/x.png']);
  assert.deepEqual(Array.from(searchFileNames(files, 'cat')), [0, 2]);
  assert.deepEqual(Array.from(searchFileNames(files, '  ')), []);
  assert.equal(baseName('C:\\pics\\CAT-9.PNG'), 'CAT-9.PNG');
});
