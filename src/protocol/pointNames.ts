// The points' file names as the points message carries them: every name's UTF-8 bytes one after
// another, and where each starts. Two typed arrays instead of one string per point: the browser
// clones a million small strings one object at a time (about a second of the Explorer's first
// paint at 1M points), a typed array in one copy; VS Code sends typed arrays beside the JSON and
// hands them to the webview without another copy. A name is decoded only when a point is shown,
// pinned, searched or opened.

/** Each point's name, packed. */
export interface PackedNames {
  /** The names' UTF-8 bytes, in point order, with nothing between them. */
  bytes: Uint8Array;
  /** count + 1 byte offsets: name i is bytes[offsets[i]] up to, not including, bytes[offsets[i + 1]]. */
  offsets: Uint32Array;
}

/** What reads the names: how many, and the name of point i. */
export interface NameList {
  readonly length: number;
  at(i: number): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Packs the names. Both arrays own their buffers exactly: VS Code sends a typed array's whole
 * underlying buffer, so a view into a larger one would send the rest as well.
 */
export function packNames(names: readonly string[]): PackedNames {
  const offsets = new Uint32Array(names.length + 1);
  // Mostly ASCII, where a name's bytes are its characters: one join and one encode.
  const joined = names.join('');
  const ascii = encoder.encode(joined);
  if (ascii.length === joined.length) {
    for (let i = 0; i < names.length; i++) offsets[i + 1] = offsets[i] + names[i].length;
    return { bytes: ownBuffer(ascii), offsets };
  }
  let capacity = 0;
  for (const name of names) capacity += name.length * 3;
  const bytes = new Uint8Array(capacity);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    offsets[i] = at;
    at += encoder.encodeInto(names[i], bytes.subarray(at)).written;
  }
  offsets[names.length] = at;
  return { bytes: ownBuffer(bytes.subarray(0, at)), offsets };
}

function ownBuffer(a: Uint8Array): Uint8Array {
  return a.byteOffset === 0 && a.buffer.byteLength === a.length ? a : a.slice();
}

/** The names of a packed list, decoded one at a time. */
export class PointNames implements NameList {
  readonly length: number;

  constructor(private readonly packed: PackedNames) {
    this.length = Math.max(0, packed.offsets.length - 1);
  }

  static of(names: readonly string[]): PointNames {
    return new PointNames(packNames(names));
  }

  at(i: number): string {
    const { bytes, offsets } = this.packed;
    if (!(i >= 0 && i < this.length)) throw new RangeError(`point name ${i} of ${this.length}`);
    return decoder.decode(bytes.subarray(offsets[i], offsets[i + 1]));
  }

  /** Every name, decoded (for tests and small lists). */
  toArray(): string[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
}

/** Why a packed list cannot be the names of `count` points, or null when it can. */
export function packedNamesProblem(packed: PackedNames, count: number): string | null {
  const { bytes, offsets } = packed;
  if (offsets.length !== count + 1) return `${offsets.length - 1} names for ${count} points`;
  if (offsets[0] !== 0 || offsets[count] !== bytes.length)
    return `name offsets run from ${offsets[0]} to ${offsets[count]}, not 0 to ${bytes.length}`;
  return null;
}
