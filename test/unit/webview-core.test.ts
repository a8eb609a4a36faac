import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minMaxIndices } from '../../webview/core/downsample';
import { countActive, formatDuration, formatNats } from '../../webview/core/format';
import { fitFrame } from '../../webview/core/geometry';
import { LatestOnly } from '../../webview/core/latestOnly';
import { mix, packRgba, parseColour } from '../../webview/core/palette';
import { imageRgba, sliceBatch } from '../../webview/core/pixels';
import { DEFAULT_VIEW_STATE, restoreViewState } from '../../webview/core/viewState';

test('minMaxIndices thins a long series but keeps its extremes and ends', () => {
  const ys = Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 50));
  ys[4321] = 99;
  ys[7777] = -99;
  const keep = minMaxIndices(ys, 500);
  assert.ok(keep.length <= 500);
  assert.equal(keep[0], 0);
  assert.equal(keep[keep.length - 1], 9999);
  assert.ok(keep.includes(4321) && keep.includes(7777));
  assert.ok(
    keep.every((v, i) => i === 0 || v > keep[i - 1]),
    'indices increase',
  );
  assert.deepEqual(minMaxIndices([3, 1, 2], 500), [0, 1, 2]);
});

test('imageRgba expands grey and RGB pixels to opaque RGBA', () => {
  const grey = { count: 2, width: 2, height: 1, channels: 1 as const, pixels: Uint8Array.from([10, 20, 30, 40]) };
  assert.deepEqual(Array.from(imageRgba(grey, 1)), [30, 30, 30, 255, 40, 40, 40, 255]);
  const rgb = { count: 1, width: 1, height: 2, channels: 3 as const, pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
  assert.deepEqual(Array.from(imageRgba(rgb, 0)), [1, 2, 3, 255, 4, 5, 6, 255]);
  assert.deepEqual(Array.from(sliceBatch(grey, 1, 1).pixels), [30, 40]);
  assert.throws(() => imageRgba({ ...grey, pixels: new Uint8Array(3) }, 0), /holds 3 bytes, expected 2×1×2×1 = 4/);
  assert.throws(() => imageRgba(grey, 2), /outside the batch/);
});

test('theme colours parse and pack for a little-endian ImageData view', () => {
  assert.deepEqual(parseColour('#3794ff'), [0x37, 0x94, 0xff]);
  assert.deepEqual(parseColour('#fff'), [255, 255, 255]);
  assert.deepEqual(parseColour('#cccccc80'), [204, 204, 204]);
  assert.deepEqual(parseColour('rgb(1, 2, 3)'), [1, 2, 3]);
  assert.equal(parseColour('transparent'), null);
  const bytes = new Uint8Array(new Uint32Array([packRgba([1, 2, 3])]).buffer);
  assert.deepEqual(Array.from(bytes), [1, 2, 3, 255]);
  assert.deepEqual(mix([0, 0, 0], [100, 200, 50], 0.5), [50, 100, 25]);
});

test('LatestOnly keeps one request in flight and only the newest wish', () => {
  const sent: [number, string][] = [];
  let next = 10;
  const gate = new LatestOnly<string>(
    (id, p) => sent.push([id, p]),
    () => next++,
  );
  gate.request('a');
  gate.request('b');
  gate.request('c');
  assert.deepEqual(sent, [[10, 'a']]);
  assert.equal(gate.settle(99), false, 'unknown ids are ignored');
  assert.equal(gate.settle(10), false, 'a stale reply is not drawn');
  assert.deepEqual(sent, [
    [10, 'a'],
    [11, 'c'],
  ]);
  assert.equal(gate.settle(11), true);
  assert.equal(gate.busy, false);
});

test('restoreViewState keeps valid fields and drops damaged ones', () => {
  assert.deepEqual(restoreViewState(undefined), DEFAULT_VIEW_STATE);
  const s = restoreViewState({
    transform: { k: 2, x: 10, y: -5 },
    selection: [
      [0, 0],
      [1, 0],
      [1, 1],
    ],
    isolate: true,
    mode: 'lasso',
    endpoints: [
      [1, 2],
      [3, 4],
    ],
    steps: 12,
    projection: { kind: 'dims', x: 0, y: 3 },
    tab: 'training',
  });
  assert.deepEqual(s.transform, { k: 2, x: 10, y: -5 });
  assert.equal(s.isolate, true);
  assert.equal(s.mode, 'lasso');
  assert.deepEqual(s.projection, { kind: 'dims', x: 0, y: 3 });
  const bad = restoreViewState({
    transform: { k: -1, x: 0, y: 0 },
    selection: [[0, 0]],
    isolate: true,
    mode: 'fly',
    steps: 1000,
    endpoints: [[1, 'x']],
  });
  assert.deepEqual(bad.transform, DEFAULT_VIEW_STATE.transform);
  assert.equal(bad.selection, null);
  assert.equal(bad.isolate, false, 'isolate without a selection is meaningless');
  assert.equal(bad.mode, 'pan');
  assert.equal(bad.steps, 8);
  assert.deepEqual(bad.endpoints, []);
});

test('fitFrame has equal units per pixel on both axes and holds every point', () => {
  const f = fitFrame(Float32Array.from([-1, -1, 3, 1]), 800, 400);
  assert.ok(Math.abs((f.x1 - f.x0) / 800 - (f.y1 - f.y0) / 400) < 1e-9);
  assert.ok(f.x0 < -1 && f.x1 > 3 && f.y0 < -1 && f.y1 > 1);
  const empty = fitFrame(new Float32Array(0), 100, 100);
  assert.ok(empty.x0 < 0 && empty.x1 > 0);
});

test('figures read as people expect', () => {
  assert.equal(formatNats(-123.456), '-123.5');
  assert.equal(formatNats(null), '–');
  assert.equal(formatDuration(125), '2 min 05 s');
  assert.equal(formatDuration(3 * 3600 + 120), '3 h 02 min');
  assert.equal(countActive([0.5, 0.001, 2]), 2);
});
