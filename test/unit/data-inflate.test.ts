// The PNG path's own zlib decoder (inflate.ts) against zlib itself: every stream it accepts inflates
// to zlib's bytes, damaged streams are refused, and nothing ever grows past the buffer it is given.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants, deflateRawSync, deflateSync, inflateSync } from 'node:zlib';
import { adler32, inflateInto } from '../../src/engine/data/inflate';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/** Data of several kinds: noise, short repeats, mostly zeros, long runs (every block type and distance). */
function data(kind: number, n: number, rnd: () => number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    b[i] = [() => rnd() * 256, () => i % 37, () => (rnd() < 0.9 ? 0 : rnd() * 256), () => Math.floor(i / 50) * 3][kind % 4]();
  }
  return b;
}

/** zlib's answer, or null where it refuses the stream. */
function zlib(stream: Uint8Array): Buffer | null {
  try {
    return inflateSync(stream);
  } catch {
    return null;
  }
}

/** A zlib stream around raw deflate data, with the header and checksum zlib writes. */
function wrap(raw: Buffer, plain: Buffer, cmf = 0x78): Buffer {
  let flg = 0;
  while (((cmf << 8) | flg) % 31 !== 0) flg++;
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(adler32(plain));
  return Buffer.concat([Buffer.from([cmf, flg]), raw, sum]);
}

describe('inflate: the same bytes as zlib', () => {
  test('streams of every level, strategy and window size inflate to zlib’s bytes', () => {
    const rnd = random(1);
    for (let t = 0; t < 3000; t++) {
      const plain = data(t, Math.floor(rnd() * 5000), rnd);
      const stream = deflateSync(plain, {
        level: Math.floor(rnd() * 10),
        strategy: Math.floor(rnd() * 5),
        windowBits: 9 + Math.floor(rnd() * 7),
        memLevel: 1 + Math.floor(rnd() * 9),
      });
      const out = new Uint8Array(plain.length);
      assert.ok(inflateInto(stream, out), `stream ${t} refused`);
      assert.deepEqual(Buffer.from(out), plain);
    }
  });

  test('a damaged stream is refused or inflates as zlib inflates it; never more leniently', () => {
    const rnd = random(2);
    let refused = 0;
    for (let t = 0; t < 3000; t++) {
      const plain = data(t, 1 + Math.floor(rnd() * 3000), rnd);
      const stream = Buffer.from(deflateSync(plain, { level: Math.floor(rnd() * 10) }));
      let damaged: Buffer;
      if (t % 2 === 0) {
        damaged = stream;
        for (let k = 0; k <= t % 3; k++) damaged[Math.floor(rnd() * damaged.length)] ^= 1 << Math.floor(rnd() * 8);
      } else {
        damaged = stream.subarray(0, Math.floor(rnd() * stream.length));
      }
      const ref = zlib(damaged);
      const out = new Uint8Array(ref?.length ?? plain.length);
      if (inflateInto(damaged, out)) {
        assert.ok(ref, `stream ${t}: accepted, zlib refuses it`);
        assert.deepEqual(Buffer.from(out), ref);
      } else {
        refused++;
      }
    }
    assert.ok(refused > 2500, `${refused} refused`);
  });

  test('the wrong output size, a preset dictionary, a bad checksum and bytes after it are refused', () => {
    const plain = data(1, 1000, random(3));
    const stream = deflateSync(plain);
    assert.equal(inflateInto(stream, new Uint8Array(999)), false, 'one byte short');
    assert.equal(inflateInto(stream, new Uint8Array(1001)), false, 'one byte long');
    assert.equal(inflateInto(Buffer.concat([stream, Buffer.from([0])]), new Uint8Array(1000)), false, 'trailing byte');
    const badSum = Buffer.from(stream);
    badSum[badSum.length - 1] ^= 1;
    assert.equal(inflateInto(badSum, new Uint8Array(1000)), false, 'checksum');
    const dict = Buffer.from(stream);
    dict[1] = 0x20;
    while (((dict[0] << 8) | dict[1]) % 31 !== 0) dict[1]++;
    assert.equal(inflateInto(dict, new Uint8Array(1000)), false, 'preset dictionary');
  });

  test('stored, fixed and dynamic blocks in one stream', () => {
    const rnd = random(4);
    const parts = [data(0, 700, rnd), data(1, 900, rnd), data(2, 1200, rnd)];
    const plain = Buffer.concat(parts);
    // Raw deflate with a flush between parts: each part its own block of the chosen kind.
    const raws = [
      deflateRawSync(parts[0], { level: 0, finishFlush: constants.Z_SYNC_FLUSH }),
      deflateRawSync(parts[1], { strategy: constants.Z_FIXED, finishFlush: constants.Z_SYNC_FLUSH }),
      deflateRawSync(parts[2]),
    ];
    const stream = wrap(Buffer.concat(raws), plain);
    assert.deepEqual(zlib(stream), plain);
    const out = new Uint8Array(plain.length);
    assert.ok(inflateInto(stream, out));
    assert.deepEqual(Buffer.from(out), plain);
  });

  test('a distance past the window the header declares is refused (zlib may refuse it too)', () => {
    const plain = Buffer.concat([data(0, 600, random(5)), data(0, 600, random(5))]);
    const raw = deflateRawSync(plain); // matches 600 bytes back, past a 256-byte window
    const narrow = wrap(raw, plain, 0x08); // CINFO 0: a 256-byte window
    assert.equal(inflateInto(narrow, new Uint8Array(plain.length)), false);
    assert.ok(inflateInto(wrap(raw, plain), new Uint8Array(plain.length)));
  });

  test('a decompression bomb stops at the buffer’s end', () => {
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024));
    // The output is the caller's buffer: nothing larger is ever allocated.
    assert.equal(inflateInto(bomb, new Uint8Array(29 * 28)), false);
  });
});
