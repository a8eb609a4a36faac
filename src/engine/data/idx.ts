// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
// (0, 0, data type, number of dimensions), one big-endian uint32 per dimension, then the data.
import { promises as fs } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  /** Only unsigned bytes (type 0x08) are read: every MNIST-family file uses them. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

export function parseIdx(buf: Uint8Array, name = 'IDX data'): IdxArray {
  if (buf.length < 4) throw new Error(`${name}: not an IDX file: only ${buf.length} bytes, a 4-byte header at least is expected.`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${name}: not an IDX file: the magic number must start with two zero bytes, found 0x${hex(buf[0])}${hex(buf[1])}.`);
  }
  const type = buf[2];
  const ndims = buf[3];
  if (type !== UBYTE) {
    const what = TYPE_NAMES[type] ?? `unknown type 0x${hex(type)}`;
    throw new Error(`${name}: IDX data of type ${what} is not supported; only unsigned bytes (0x08) are.`);
  }
  if (ndims < 1) throw new Error(`${name}: IDX header declares 0 dimensions.`);
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes)
    throw new Error(`${name}: truncated IDX header: ${ndims} dimensions need ${headerBytes} bytes, the file has ${buf.length}.`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = buf.length - headerBytes;
  if (actual !== expected) {
    const how = actual < expected ? 'truncated' : 'has trailing bytes';
    throw new Error(`${name}: IDX data ${how}: dimensions ${dims.join('×')} need ${expected} bytes, found ${actual}.`);
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerBytes, expected) };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Reads an IDX file, gunzipping it when it is gzip-compressed (by content, not by name). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(path);
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`);
  }
  let buf: Buffer = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      buf = gunzipSync(raw);
    } catch (err) {
      throw new Error(`${path}: the gzip data is damaged (${(err as Error).message}); download or reinstall the file.`);
    }
  }
  return parseIdx(buf, path);
}

export interface IdxImageSet {
  count: number;
  height: number;
  width: number;
  /** count × height × width bytes. */
  images: Uint8Array;
  labels: Uint8Array;
}

/** An images file (3-D) and its labels file (1-D) with matching counts. */
export async function readIdxImageSet(imagesPath: string, labelsPath: string): Promise<IdxImageSet> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  if (images.dims.length !== 3)
    throw new Error(`${imagesPath}: expected 3 dimensions (count × rows × columns), found ${images.dims.length}; is this a labels file?`);
  if (labels.dims.length !== 1)
    throw new Error(`${labelsPath}: expected 1 dimension (count), found ${labels.dims.length}; is this an images file?`);
  if (images.dims[0] !== labels.dims[0]) {
    throw new Error(
      `${imagesPath} holds ${images.dims[0]} images but ${labelsPath} holds ${labels.dims[0]} labels; use the files of the same split.`,
    );
  }
  return { count: images.dims[0], height: images.dims[1], width: images.dims[2], images: images.data, labels: labels.data };
}
