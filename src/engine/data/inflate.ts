// A zlib (RFC 1950/1951) decoder for the small streams in PNG image data, writing into a buffer of
// the exact size the image needs. For a 28×28 PNG, zlib.inflateSync costs ~35 µs, nearly all of it
// setting up a stream object per call; this costs a few. It is never more lenient than zlib: every
// stream it accepts, zlib inflates to the same bytes; anything unusual (a preset dictionary, a
// distance past the declared window, bytes after the checksum) is refused and left to zlib. The
// output never grows past the buffer given, so a decompression bomb costs nothing.

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
  24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists the code-length code's lengths. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** The most bits a look-up table is indexed by (codes longer than a table's bits are decoded bit by bit). */
const FAST_BITS = 9;

/** REVERSED[v]: v's FAST_BITS bits in the opposite order. */
const REVERSED = new Uint16Array(1 << FAST_BITS);
for (let v = 0; v < 1 << FAST_BITS; v++) {
  for (let b = 0; b < FAST_BITS; b++) REVERSED[v] |= ((v >> b) & 1) << (FAST_BITS - 1 - b);
}

/** A canonical Huffman code: a look-up table for short codes, counts and sorted symbols for the rest. */
class Huffman {
  /** Indexed by the next `bits` input bits: symbol << 4 | code length, or 0 for a longer code. */
  readonly fast: Int32Array;
  readonly mask: number;
  readonly count = new Uint16Array(16);
  readonly symbols: Uint16Array;
  /** No symbol at all (allowed for distances when a block has none). */
  empty = false;

  /** `bits`: the table's size (at most FAST_BITS); a small table is quicker to build for every block. */
  constructor(
    maxSymbols: number,
    readonly bits: number,
  ) {
    this.symbols = new Uint16Array(maxSymbols);
    this.fast = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  /**
   * Builds the code from code lengths. False for an over-subscribed code, or an incomplete one
   * zlib would refuse: only a single one-bit code may be incomplete (and for the code-length code
   * none may), as in zlib's inflate_table.
   */
  build(lengths: Uint8Array, n: number, allowIncomplete: boolean): boolean {
    const { count, symbols, fast, bits } = this;
    count.fill(0);
    for (let s = 0; s < n; s++) count[lengths[s]]++;
    count[0] = 0;
    let left = 1;
    let max = 0;
    for (let len = 1; len <= 15; len++) {
      left = (left << 1) - count[len];
      if (left < 0) return false;
      if (count[len] > 0) max = len;
    }
    this.empty = max === 0;
    if (left > 0 && !(allowIncomplete && max <= 1)) return false;
    const offset = OFFSET;
    offset[1] = 0;
    for (let len = 1; len < 15; len++) offset[len + 1] = offset[len] + count[len];
    for (let s = 0; s < n; s++) if (lengths[s] !== 0) symbols[offset[lengths[s]]++] = s;
    fast.fill(0);
    // Canonical codes in order of length then symbol, each written bit-reversed (the stream is
    // read from the least significant bit) and repeated over the table bits it leaves free.
    let code = 0;
    let k = 0;
    for (let len = 1; len <= bits; len++) {
      for (let i = 0; i < count[len]; i++, k++) {
        const reversed = REVERSED[code << (FAST_BITS - len)];
        const entry = (symbols[k] << 4) | len;
        for (let j = reversed; j < 1 << bits; j += 1 << len) fast[j] = entry;
        code++;
      }
      code <<= 1;
    }
    return true;
  }
}

const OFFSET = new Uint16Array(16);
const litLen = new Huffman(288, 9);
const dist = new Huffman(32, 8);
const codeLengths = new Huffman(19, 7); // its codes are at most 7 bits: never the slow path
const codeLengthLengths = new Uint8Array(19);
const lengths = new Uint8Array(288 + 32);
const fixedLitLen = new Huffman(288, 9);
const fixedDist = new Huffman(32, 5);
{
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  fixedLitLen.build(l, 288, false);
  fixedDist.build(new Uint8Array(32).fill(5), 32, false);
}

/** The input read from its least significant bit; past its end it reads zeros and says so. */
class Bits {
  pos = 0;
  buf = 0;
  n = 0;
  constructor(readonly src: Uint8Array) {}

  /** At least 24 bits buffered (zeros past the end: `overrun` tells). */
  fill(): void {
    while (this.n < 24) {
      this.buf |= (this.pos < this.src.length ? this.src[this.pos] : 0) << this.n;
      this.pos++;
      this.n += 8;
    }
  }

  /** Bits read beyond the end of the input. */
  get overrun(): boolean {
    return this.pos * 8 - this.n > this.src.length * 8;
  }

  take(count: number): number {
    if (this.n < count) this.fill();
    const v = this.buf & ((1 << count) - 1);
    this.buf >>= count;
    this.n -= count;
    return v;
  }

  /** The next symbol of code h, or −1 for a bit pattern that is no code. */
  decode(h: Huffman): number {
    if (this.n < 15) this.fill();
    const entry = h.fast[this.buf & h.mask];
    if (entry !== 0) {
      const len = entry & 15;
      this.buf >>= len;
      this.n -= len;
      return entry >> 4;
    }
    // A code longer than the table: canonical decoding, one bit at a time.
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= (this.buf >> (len - 1)) & 1;
      const c = h.count[len];
      if (code - first < c) {
        this.buf >>= len;
        this.n -= len;
        return h.symbols[index + code - first];
      }
      index += c;
      first = (first + c) << 1;
      code <<= 1;
    }
    return -1;
  }

  /** Drops the bits up to the next byte boundary; the byte position in the input then. */
  align(): number {
    this.take(this.n & 7);
    return this.pos - this.n / 8;
  }
}

/**
 * Inflates the zlib stream `src` into `out`, whose first `size` bytes it must fill exactly. False
 * when the stream is damaged, inflates to another size, or is one zlib might treat otherwise.
 */
export function inflateInto(src: Uint8Array, out: Uint8Array, size = out.length): boolean {
  if (src.length < 6) return false;
  const cmf = src[0];
  const flg = src[1];
  if ((cmf & 15) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20) return false;
  const window = 1 << ((cmf >> 4) + 8);
  const bits = new Bits(src.subarray(2));
  let o = 0;
  for (;;) {
    const last = bits.take(1);
    const type = bits.take(2);
    if (type === 0) {
      const at = bits.align();
      const s = bits.src;
      if (at + 4 > s.length) return false;
      const len = s[at] | (s[at + 1] << 8);
      if ((s[at + 2] | (s[at + 3] << 8)) !== (~len & 0xffff) || at + 4 + len > s.length || o + len > size) return false;
      out.set(s.subarray(at + 4, at + 4 + len), o);
      o += len;
      bits.pos = at + 4 + len;
      bits.buf = 0;
      bits.n = 0;
    } else if (type === 3) {
      return false;
    } else {
      let lit = fixedLitLen;
      let dst = fixedDist;
      if (type === 2 && !readDynamic(bits)) return false;
      if (type === 2) {
        lit = litLen;
        dst = dist;
      }
      if (!inflateBlock(bits, lit, dst, out, o, window, size)) return false;
      o = blockEnd;
    }
    if (bits.overrun) return false;
    if (last) break;
  }
  if (o !== size) return false;
  const at = bits.align() + 2;
  // The Adler-32 checksum ends the stream; nothing may follow it.
  if (at + 4 !== src.length) return false;
  const want = ((src[at] << 24) | (src[at + 1] << 16) | (src[at + 2] << 8) | src[at + 3]) >>> 0;
  return adler32(out, size) === want;
}

/** Where the last inflateBlock left the output. */
let blockEnd = 0;

/**
 * One Huffman-coded block from output position `o`, to its end-of-block code; the bit reader's
 * state lives in locals here (the hot loop of the whole decoder).
 */
function inflateBlock(bits: Bits, lit: Huffman, dst: Huffman, out: Uint8Array, o: number, window: number, size: number): boolean {
  const src = bits.src;
  const end = src.length;
  const litFast = lit.fast;
  const distFast = dst.fast;
  const litMask = lit.mask;
  const distMask = dst.mask;
  let buf = bits.buf;
  let n = bits.n;
  let pos = bits.pos;
  for (;;) {
    // 24 bits cover a literal/length code (≤ 15 bits) with its extra bits (≤ 5); the distance
    // code and its extra bits (≤ 15 + 13) are refilled for below.
    while (n < 24) {
      buf |= (pos < end ? src[pos] : 0) << n;
      pos++;
      n += 8;
    }
    if (pos * 8 - n > end * 8) return false;
    // The literal/length and the distance decodes below are written out in place, not shared
    // through a function, so the per-symbol loop makes no call for the short codes of the tables.
    let entry = litFast[buf & litMask];
    let sym: number;
    if (entry !== 0) {
      sym = entry >> 4;
      buf >>= entry & 15;
      n -= entry & 15;
    } else {
      bits.buf = buf;
      bits.n = n;
      bits.pos = pos;
      sym = bits.decode(lit);
      buf = bits.buf;
      n = bits.n;
      if (sym < 0) return false;
    }
    if (sym < 256) {
      if (o >= size) return false;
      out[o++] = sym;
      continue;
    }
    if (sym === 256) break;
    const li = sym - 257;
    if (li >= 29) return false;
    const extra = LENGTH_EXTRA[li];
    const length = LENGTH_BASE[li] + (buf & ((1 << extra) - 1));
    buf >>= extra;
    n -= extra;
    while (n < 24) {
      buf |= (pos < end ? src[pos] : 0) << n;
      pos++;
      n += 8;
    }
    if (dst.empty) return false;
    entry = distFast[buf & distMask];
    let di: number;
    if (entry !== 0) {
      di = entry >> 4;
      buf >>= entry & 15;
      n -= entry & 15;
    } else {
      bits.buf = buf;
      bits.n = n;
      bits.pos = pos;
      di = bits.decode(dst);
      buf = bits.buf;
      n = bits.n;
      if (di < 0) return false;
    }
    if (di >= 30) return false;
    const dextra = DIST_EXTRA[di];
    if (n < dextra) {
      while (n < 24) {
        buf |= (pos < end ? src[pos] : 0) << n;
        pos++;
        n += 8;
      }
    }
    const d = DIST_BASE[di] + (buf & ((1 << dextra) - 1));
    buf >>= dextra;
    n -= dextra;
    if (d > o || d > window || o + length > size) return false;
    for (let i = 0; i < length; i++, o++) out[o] = out[o - d];
  }
  bits.buf = buf;
  bits.n = n;
  bits.pos = pos;
  blockEnd = o;
  return !bits.overrun;
}

function readDynamic(bits: Bits): boolean {
  const nLit = bits.take(5) + 257;
  const nDist = bits.take(5) + 1;
  const nCode = bits.take(4) + 4;
  if (nLit > 286 || nDist > 30) return false;
  const clen = codeLengthLengths.fill(0);
  for (let i = 0; i < nCode; i++) clen[CLEN_ORDER[i]] = bits.take(3);
  if (!codeLengths.build(clen, 19, false)) return false;
  const total = nLit + nDist;
  let i = 0;
  while (i < total) {
    const sym = bits.decode(codeLengths);
    if (sym < 0) return false;
    if (sym < 16) {
      lengths[i++] = sym;
      continue;
    }
    let value = 0;
    let repeat: number;
    if (sym === 16) {
      if (i === 0) return false;
      value = lengths[i - 1];
      repeat = 3 + bits.take(2);
    } else if (sym === 17) {
      repeat = 3 + bits.take(3);
    } else {
      repeat = 11 + bits.take(7);
    }
    if (i + repeat > total) return false;
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  if (bits.overrun || lengths[256] === 0) return false;
  return litLen.build(lengths, nLit, true) && dist.build(lengths.subarray(nLit), nDist, true);
}

export function adler32(data: Uint8Array, size = data.length): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < size;) {
    const end = Math.min(size, i + 5552);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
