import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolationLatents, lerp, slerp } from '../../webview/core/interpolate';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6) =>
  assert.ok(
    Array.from(a).every((v, i) => Math.abs(v - b[i]) < eps),
    `${Array.from(a)} ≠ ${Array.from(b)}`,
  );
const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));

test('lerp and slerp hit both endpoints', () => {
  const a = [1, 0, 2];
  const b = [0, 3, -1];
  for (const f of [lerp, slerp]) {
    close(f(a, b, 0), a);
    close(f(a, b, 1), b);
  }
});

test('slerp between orthogonal unit vectors stays on the unit circle at the 45° point', () => {
  const mid = slerp([1, 0], [0, 1], 0.5);
  close(mid, [Math.SQRT1_2, Math.SQRT1_2]);
  assert.ok(Math.abs(norm(mid) - 1) < 1e-6);
  // lerp cuts the corner: its midpoint norm is only 1/√2.
  assert.ok(Math.abs(norm(lerp([1, 0], [0, 1], 0.5)) - Math.SQRT1_2) < 1e-6);
});

test('slerp falls back to lerp for parallel vectors and the zero vector', () => {
  close(slerp([1, 1], [2, 2], 0.5), [1.5, 1.5]);
  close(slerp([0, 0], [2, 2], 0.25), [0.5, 0.5]);
});

test('interpolationLatents gives steps × dims values from a to b', () => {
  const out = interpolationLatents([0, 0], [1, 2], 5, 'lerp');
  assert.equal(out.length, 10);
  close(out.slice(4, 6), [0.5, 1]);
  assert.throws(() => interpolationLatents([0], [1], 1, 'lerp'), /steps must be an integer ≥ 2/);
  assert.throws(() => lerp([0], [1, 2], 0.5), /differ in size/);
});
