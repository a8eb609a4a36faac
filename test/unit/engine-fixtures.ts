// Shared by the engine's unit tests: Fashion-MNIST read straight from Debian's IDX files, and a
// backend set up once per test process.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { initBackend } from '../../src/engine/backends/ladder';
import type { BackendName, Preprocessing } from '../../src/protocol/model';
import type { Tf } from '../../src/engine/tf';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_PRE: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'fill' };

export interface IdxImages {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** The first `limit` images and labels of a Fashion-MNIST split ('train' or 't10k'). */
export function readFashionMnist(split: 'train' | 't10k', limit = Infinity): IdxImages {
  const images = gunzipSync(readFileSync(`${FASHION_DIR}/${split}-images-idx3-ubyte.gz`));
  const labels = gunzipSync(readFileSync(`${FASHION_DIR}/${split}-labels-idx1-ubyte.gz`));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) {
    throw new Error(`${FASHION_DIR}: not IDX image/label files (bad magic numbers). Reinstall dataset-fashion-mnist.`);
  }
  const count = Math.min(limit, images.readUInt32BE(4));
  const px = images.readUInt32BE(8) * images.readUInt32BE(12);
  return {
    images: new Uint8Array(images.buffer, images.byteOffset + 16, count * px).slice(),
    labels: Int32Array.from(labels.subarray(8, 8 + count)),
    count,
  };
}

let ready: Promise<Tf> | undefined;

/** Initialises TensorFlow.js once per test file on the given backend (wasm by default). */
export function useBackend(name: BackendName = 'wasm'): Promise<Tf> {
  ready ??= initBackend({ backend: name }).then((r) => r.tf);
  return ready;
}
