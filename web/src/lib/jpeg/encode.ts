// A baseline JPEG encoder that starts from the camera's own YUV 4:2:0 planes.
//
// Where the browser has no ImageCapture (Safari), the photo is the preview's frame. Drawing
// that frame on a canvas converts its YUV to RGB and the canvas's JPEG encoder converts it
// back to YCbCr and halves the colour again: two conversions and a 12 MP RGB buffer that a
// photo does not need. A VideoFrame hands over its YUV planes as they are (copyTo), and JPEG
// stores YCbCr 4:2:0: this encoder quantises those planes directly.
//
// - Output: JFIF, baseline (SOF0), 8-bit, three components, luma 2x2 / chroma 1x1 sampling,
//   the quantisation tables of the JPEG standard's Annex K scaled as libjpeg scales them for
//   a quality (so quality 92 here is quality 92 there), Annex K's Huffman tables, and a
//   restart marker after every row of MCUs. Nothing else: no EXIF, no comment, no thumbnail.
// - Colour: JPEG's YCbCr is full range with BT.601's matrix. A camera's frame is usually
//   video range (16-235 / 16-240) and often BT.709's matrix; both are converted here (the
//   range within the quantisation, the matrix per sample), as the canvas would convert them.
// - Rows: the restart markers make each row of MCUs independent of the others, so rows can
//   be encoded apart (in several workers) and joined with `assemble`; the file is the same
//   byte for byte however the rows were split.
//
// The forward DCT is the AAN floating-point one (libjpeg's jfdctflt.c), with its output
// scaling folded into the quantisation divisors.

/** One plane of samples: `data[offset + row * stride + col * step]`. */
export interface Plane {
  data: Uint8Array;
  offset: number;
  stride: number;
  /** 1 for a planar format (I420); 2 for interleaved chroma (NV12's UV plane). */
  step: number;
}

/** A 4:2:0 frame (or a band of its rows): luma at full size, chroma at half (rounded up). */
export interface Yuv420 {
  width: number;
  height: number;
  y: Plane;
  u: Plane;
  v: Plane;
  /** Video range (Y 16-235, chroma 16-240) rather than full range (0-255). */
  videoRange: boolean;
  /** The matrix the camera used: BT.709 (HD video) or BT.601 (JPEG's own). */
  matrix: "bt601" | "bt709";
}

/** The quality of libjpeg's scale (1-100). */
export type Quality = number;

// prettier-ignore
const ZIGZAG = Int32Array.of(
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
  20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63);

// Annex K.1, in natural (row-major) order.
// prettier-ignore
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99];
// prettier-ignore
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99];

// Annex K.3: the number of codes of each length 1-16, then the symbols in code order.
const DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
// prettier-ignore
const AC_LUMA_VALUES = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
  0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
  0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
  0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
  0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
  0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
  0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
  0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
  0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa];
const AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
// prettier-ignore
const AC_CHROMA_VALUES = [
  0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
  0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
  0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
  0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
  0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
  0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
  0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
  0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
  0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
  0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa];

// AAN scale factors: cos(k*pi/16) * sqrt(2) for k > 0, 1 for k = 0.
const AAN = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** An MCU is 16x16 luma pixels: four luma blocks and one block of each chroma. */
export const MCU = 16;

/** The quantisation table of a quality, in natural order, as libjpeg's jpeg_set_quality. */
export function quantTable(base: readonly number[], quality: Quality): Uint8Array {
  if (!(quality >= 1 && quality <= 100)) throw new RangeError("quality is 1 to 100");
  const q = Math.round(quality);
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  return Uint8Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
}

interface Huffman {
  code: Int32Array; // by symbol
  size: Int32Array; // by symbol; 0 = no code
}

function huffman(bits: readonly number[], values: readonly number[]): Huffman {
  const code = new Int32Array(256);
  const size = new Int32Array(256);
  let next = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < (bits[len - 1] ?? 0); i++) {
      const symbol = values[k++] ?? 0;
      code[symbol] = next++;
      size[symbol] = len;
    }
    next <<= 1;
  }
  return { code, size };
}

const HUFF = {
  dcLuma: huffman(DC_LUMA_BITS, DC_VALUES),
  acLuma: huffman(AC_LUMA_BITS, AC_LUMA_VALUES),
  dcChroma: huffman(DC_CHROMA_BITS, DC_VALUES),
  acChroma: huffman(AC_CHROMA_BITS, AC_CHROMA_VALUES),
};

/** Multipliers of the AAN DCT's output, in zigzag order: a range factor / (q * scale). */
function divisors(table: Uint8Array, gain: number): Float64Array {
  const out = new Float64Array(64);
  for (let k = 0; k < 64; k++) {
    const z = ZIGZAG[k]!;
    out[k] = gain / ((table[z] ?? 1) * AAN[z >> 3]! * AAN[z & 7]! * 8);
  }
  return out;
}

/** The byte sink of the entropy-coded data, with 0xFF stuffing. */
class Bits {
  out: Uint8Array;
  pos = 0;
  /** Bits not yet written: the low `n` (fewer than 8) of `acc`. */
  acc = 0;
  n = 0;

  constructor(capacity: number) {
    this.out = new Uint8Array(Math.max(1024, capacity));
  }

  put(code: number, size: number): void {
    let acc = (this.acc << size) | code;
    let n = this.n + size;
    const out = this.out;
    while (n >= 8) {
      n -= 8;
      const b = (acc >>> n) & 0xff;
      out[this.pos++] = b;
      if (b === 0xff) out[this.pos++] = 0;
    }
    this.acc = acc & ((1 << n) - 1);
    this.n = n;
  }

  /** Pad the last byte with ones (as before a marker) and write `marker` when given. */
  flush(marker?: number): void {
    if (this.n > 0) this.put((1 << (8 - this.n)) - 1, 8 - this.n);
    if (marker !== undefined) {
      this.out[this.pos++] = 0xff;
      this.out[this.pos++] = marker;
    }
  }

  /** Room for `more` bytes (an MCU at worst is well under 1,600). */
  reserve(more: number): void {
    if (this.pos + more <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.pos + more));
    bigger.set(this.out.subarray(0, this.pos));
    this.out = bigger;
  }

  bytes(): Uint8Array {
    return this.out.subarray(0, this.pos);
  }
}

/** The per-encode state: divisors, the block being coded and each component's last DC. */
class BlockCoder {
  readonly block = new Float64Array(64);
  private readonly lumaDiv: Float64Array;
  private readonly chromaDiv: Float64Array;
  dcY = 0;
  dcU = 0;
  dcV = 0;

  constructor(
    readonly bits: Bits,
    quality: Quality,
    lumaGain: number,
    chromaGain: number,
  ) {
    this.lumaDiv = divisors(quantTable(LUMA_QUANT, quality), lumaGain);
    this.chromaDiv = divisors(quantTable(CHROMA_QUANT, quality), chromaGain);
  }

  /** Transform, quantise and code `block`; returns the block's DC (quantised). */
  code(component: 0 | 1 | 2, lastDc: number): number {
    const d = this.block;
    // Rows.
    for (let i = 0; i < 64; i += 8) {
      const t0 = d[i]! + d[i + 7]!;
      const t7 = d[i]! - d[i + 7]!;
      const t1 = d[i + 1]! + d[i + 6]!;
      const t6 = d[i + 1]! - d[i + 6]!;
      const t2 = d[i + 2]! + d[i + 5]!;
      const t5 = d[i + 2]! - d[i + 5]!;
      const t3 = d[i + 3]! + d[i + 4]!;
      const t4 = d[i + 3]! - d[i + 4]!;
      let t10 = t0 + t3;
      const t13 = t0 - t3;
      let t11 = t1 + t2;
      let t12 = t1 - t2;
      d[i] = t10 + t11;
      d[i + 4] = t10 - t11;
      const z1 = (t12 + t13) * 0.707106781;
      d[i + 2] = t13 + z1;
      d[i + 6] = t13 - z1;
      t10 = t4 + t5;
      t11 = t5 + t6;
      t12 = t6 + t7;
      const z5 = (t10 - t12) * 0.382683433;
      const z2 = 0.5411961 * t10 + z5;
      const z4 = 1.306562965 * t12 + z5;
      const z3 = t11 * 0.707106781;
      const z11 = t7 + z3;
      const z13 = t7 - z3;
      d[i + 5] = z13 + z2;
      d[i + 3] = z13 - z2;
      d[i + 1] = z11 + z4;
      d[i + 7] = z11 - z4;
    }
    // Columns.
    for (let i = 0; i < 8; i++) {
      const t0 = d[i]! + d[i + 56]!;
      const t7 = d[i]! - d[i + 56]!;
      const t1 = d[i + 8]! + d[i + 48]!;
      const t6 = d[i + 8]! - d[i + 48]!;
      const t2 = d[i + 16]! + d[i + 40]!;
      const t5 = d[i + 16]! - d[i + 40]!;
      const t3 = d[i + 24]! + d[i + 32]!;
      const t4 = d[i + 24]! - d[i + 32]!;
      let t10 = t0 + t3;
      const t13 = t0 - t3;
      let t11 = t1 + t2;
      let t12 = t1 - t2;
      d[i] = t10 + t11;
      d[i + 32] = t10 - t11;
      const z1 = (t12 + t13) * 0.707106781;
      d[i + 16] = t13 + z1;
      d[i + 48] = t13 - z1;
      t10 = t4 + t5;
      t11 = t5 + t6;
      t12 = t6 + t7;
      const z5 = (t10 - t12) * 0.382683433;
      const z2 = 0.5411961 * t10 + z5;
      const z4 = 1.306562965 * t12 + z5;
      const z3 = t11 * 0.707106781;
      const z11 = t7 + z3;
      const z13 = t7 - z3;
      d[i + 40] = z13 + z2;
      d[i + 24] = z13 - z2;
      d[i + 8] = z11 + z4;
      d[i + 56] = z11 - z4;
    }
    // Quantise in zigzag order, rounding to nearest (x + 0.5 floored: exact for |x| < 16384,
    // far beyond the 11 bits a baseline coefficient may take), and code as we go: the DC's
    // difference from the last block of this component, then runs of zeros and values,
    // then the end of block. The bit writer's state is kept in locals here (the hot loop).
    const div = component === 0 ? this.lumaDiv : this.chromaDiv;
    const dcT = component === 0 ? HUFF.dcLuma : HUFF.dcChroma;
    const acT = component === 0 ? HUFF.acLuma : HUFF.acChroma;
    const acCode = acT.code;
    const acSize = acT.size;
    const bits = this.bits;
    const out = bits.out;
    let acc = bits.acc;
    let n = bits.n;
    let pos = bits.pos;
    // Write `size` (at most 24) bits of `code`, stuffing a zero after each 0xFF byte. Bits of
    // `acc` above the n + size it holds are left as they are: only those below are read.
    const dcValue = ((d[0]! * div[0]! + 16384.5) | 0) - 16384;
    const diff = dcValue - lastDc;
    const mag = diff < 0 ? -diff : diff;
    const cat = mag === 0 ? 0 : 32 - Math.clz32(mag);
    {
      const size = dcT.size[cat]! + cat;
      acc = (acc << size) | (dcT.code[cat]! << cat) | ((diff < 0 ? diff - 1 : diff) & ((1 << cat) - 1));
      n += size;
      while (n >= 8) {
        n -= 8;
        const byte = (acc >>> n) & 0xff;
        out[pos++] = byte;
        if (byte === 0xff) out[pos++] = 0;
      }
    }
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = ((d[ZIGZAG[k]!]! * div[k]! + 16384.5) | 0) - 16384;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        acc = (acc << acSize[0xf0]!) | acCode[0xf0]!;
        n += acSize[0xf0]!;
        while (n >= 8) {
          n -= 8;
          const byte = (acc >>> n) & 0xff;
          out[pos++] = byte;
          if (byte === 0xff) out[pos++] = 0;
        }
        run -= 16;
      }
      const m = v < 0 ? -v : v;
      const c = 32 - Math.clz32(m);
      const symbol = (run << 4) | c;
      const size = acSize[symbol]!;
      // The code (at most 16 bits), then the value (at most 10): written in two steps so that
      // no write passes 24 bits.
      acc = (acc << size) | acCode[symbol]!;
      n += size;
      while (n >= 8) {
        n -= 8;
        const byte = (acc >>> n) & 0xff;
        out[pos++] = byte;
        if (byte === 0xff) out[pos++] = 0;
      }
      acc = (acc << c) | ((v < 0 ? v - 1 : v) & ((1 << c) - 1));
      n += c;
      while (n >= 8) {
        n -= 8;
        const byte = (acc >>> n) & 0xff;
        out[pos++] = byte;
        if (byte === 0xff) out[pos++] = 0;
      }
      run = 0;
    }
    if (run > 0) {
      acc = (acc << acSize[0]!) | acCode[0]!;
      n += acSize[0]!;
      while (n >= 8) {
        n -= 8;
        const byte = (acc >>> n) & 0xff;
        out[pos++] = byte;
        if (byte === 0xff) out[pos++] = 0;
      }
    }
    bits.acc = acc & ((1 << n) - 1);
    bits.n = n;
    bits.pos = pos;
    return dcValue;
  }
}

/** The restart marker after MCU row `row` (RST0-RST7, in turn). */
export function restartMarker(row: number): number {
  return 0xd0 + (row % 8);
}

/** The number of MCU rows of a frame `height` pixels tall. */
export function mcuRows(height: number): number {
  return Math.ceil(height / MCU);
}

/**
 * The entropy-coded data of MCU rows `first` to `end - 1` of a frame `height` pixels tall,
 * from `frame`, which holds those rows from its own row 0 (a band cut from the frame at pixel
 * row `first * 16`, or the whole frame when `first` is 0). Each row but the last of the band
 * is followed by its restart marker; `assemble` puts the band's last one.
 */
export function encodeRows(frame: Yuv420, quality: Quality, first: number, end: number, height: number): Uint8Array {
  const { width } = frame;
  const bandTop = first * MCU;
  const bandHeight = Math.min(height, end * MCU) - bandTop;
  if (!(width > 0 && bandHeight > 0 && frame.height >= bandHeight)) throw new RangeError("no rows to encode");
  const mcusPerRow = Math.ceil(width / MCU);
  const blocks = mcusPerRow * (end - first) * 6;
  const bits = new Bits(blocks * 24);
  // Full range: samples as they are. Video range: luma 219 and chroma 224 steps to 255.
  const yGain = frame.videoRange ? 255 / 219 : 1;
  const cGain = frame.videoRange ? 255 / 224 : 1;
  const coder = new BlockCoder(bits, quality, yGain, cGain);
  // Luma's level shift: the value that becomes 128 after the range factor.
  const yShift = frame.videoRange ? 16 + (128 * 219) / 255 : 128;
  // BT.709 to BT.601: Y' = Y + kb*Cb + kr*Cr, Cb' = cbb*Cb + cbr*Cr, Cr' = crb*Cb + crr*Cr,
  // with Cb and Cr centred, and luma's share scaled from chroma's steps to luma's.
  const bt709 = frame.matrix === "bt709";
  const steps = frame.videoRange ? 219 / 224 : 1;
  const kb = bt709 ? 0.101581 * steps : 0;
  const kr = bt709 ? 0.196079 * steps : 0;
  const cbb = bt709 ? 0.98985 : 1;
  const cbr = bt709 ? -0.11065 : 0;
  const crb = bt709 ? -0.07245 : 0;
  const crr = bt709 ? 0.98339 : 1;

  const yd = frame.y.data;
  const yo = frame.y.offset;
  const ys = frame.y.stride;
  const yStep = frame.y.step;
  const ud = frame.u.data;
  const uo = frame.u.offset;
  const us = frame.u.stride;
  const uStep = frame.u.step;
  const vd = frame.v.data;
  const vo = frame.v.offset;
  const vs = frame.v.stride;
  const vStep = frame.v.step;
  const lastX = width - 1;
  const lastY = bandHeight - 1;
  const lastCx = ((width + 1) >> 1) - 1;
  const lastCy = ((bandHeight + 1) >> 1) - 1;
  const blk = coder.block;

  for (let row = first; row < end; row++) {
    coder.dcY = 0;
    coder.dcU = 0;
    coder.dcV = 0;
    const y0 = (row - first) * MCU;
    for (let mx = 0; mx < mcusPerRow; mx++) {
      bits.reserve(4096);
      const x0 = mx * MCU;
      // An MCU inside the frame reads its samples straight; one on the right or bottom edge
      // repeats the last column and row, as libjpeg pads.
      const inside = x0 + MCU <= width && y0 + MCU <= bandHeight;
      // Four luma blocks.
      for (let b = 0; b < 4; b++) {
        const bx = x0 + (b & 1) * 8;
        const by = y0 + (b >> 1) * 8;
        for (let r = 0; r < 8; r++) {
          const yy = inside || by + r <= lastY ? by + r : lastY;
          const rowAt = yo + yy * ys;
          const o = r * 8;
          if (inside && yStep === 1) {
            const at = rowAt + bx;
            if (!bt709) {
              blk[o] = yd[at]! - yShift;
              blk[o + 1] = yd[at + 1]! - yShift;
              blk[o + 2] = yd[at + 2]! - yShift;
              blk[o + 3] = yd[at + 3]! - yShift;
              blk[o + 4] = yd[at + 4]! - yShift;
              blk[o + 5] = yd[at + 5]! - yShift;
              blk[o + 6] = yd[at + 6]! - yShift;
              blk[o + 7] = yd[at + 7]! - yShift;
              continue;
            }
            // Each chroma sample's share of luma, for the two pixels it covers.
            const cx = bx >> 1;
            const ua = uo + (yy >> 1) * us + cx * uStep;
            const va = vo + (yy >> 1) * vs + cx * vStep;
            for (let c = 0; c < 8; c += 2) {
              const k = (c >> 1);
              const share = kb * (ud[ua + k * uStep]! - 128) + kr * (vd[va + k * vStep]! - 128) - yShift;
              blk[o + c] = yd[at + c]! + share;
              blk[o + c + 1] = yd[at + c + 1]! + share;
            }
            continue;
          }
          const uRow = uo + (yy >> 1) * us;
          const vRow = vo + (yy >> 1) * vs;
          for (let c = 0; c < 8; c++) {
            const xx = bx + c > lastX ? lastX : bx + c;
            let s = yd[rowAt + xx * yStep]! - yShift;
            if (bt709) {
              const cx = xx >> 1;
              s += kb * (ud[uRow + cx * uStep]! - 128) + kr * (vd[vRow + cx * vStep]! - 128);
            }
            blk[o + c] = s;
          }
        }
        coder.dcY = coder.code(0, coder.dcY);
      }
      // Cb, then Cr: one 8x8 block each, the chroma of the 16x16 MCU.
      const cx0 = x0 >> 1;
      const cy0 = y0 >> 1;
      for (let comp = 1; comp <= 2; comp++) {
        const a = comp === 1 ? cbb : crb;
        const bb = comp === 1 ? cbr : crr;
        for (let r = 0; r < 8; r++) {
          const cy = cy0 + r > lastCy ? lastCy : cy0 + r;
          const uRow = uo + cy * us;
          const vRow = vo + cy * vs;
          const o = r * 8;
          if (!bt709) {
            const d = comp === 1 ? ud : vd;
            const rowAt = comp === 1 ? uRow : vRow;
            const step = comp === 1 ? uStep : vStep;
            for (let c = 0; c < 8; c++) {
              const cx = cx0 + c > lastCx ? lastCx : cx0 + c;
              blk[o + c] = d[rowAt + cx * step]! - 128;
            }
            continue;
          }
          for (let c = 0; c < 8; c++) {
            const cx = cx0 + c > lastCx ? lastCx : cx0 + c;
            blk[o + c] = a * (ud[uRow + cx * uStep]! - 128) + bb * (vd[vRow + cx * vStep]! - 128);
          }
        }
        if (comp === 1) coder.dcU = coder.code(1, coder.dcU);
        else coder.dcV = coder.code(2, coder.dcV);
      }
    }
    bits.flush(row < end - 1 ? restartMarker(row) : undefined);
  }
  return bits.bytes().slice();
}

function segment(marker: number, body: readonly number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

function dht(tableClass: number, id: number, bits: readonly number[], values: readonly number[]): number[] {
  return [(tableClass << 4) | id, ...bits, ...values];
}

/** Everything before the entropy-coded data: SOI, JFIF, tables, frame, restart interval, scan. */
export function header(width: number, height: number, quality: Quality): Uint8Array {
  if (!(width > 0 && width <= 0xffff && height > 0 && height <= 0xffff)) throw new RangeError("frame too large for JPEG");
  const luma = quantTable(LUMA_QUANT, quality);
  const chroma = quantTable(CHROMA_QUANT, quality);
  const mcusPerRow = Math.ceil(width / MCU);
  if (mcusPerRow > 0xffff) throw new RangeError("frame too wide");
  const bytes = [
    0xff,
    0xd8,
    // JFIF 1.01, aspect ratio 1:1, no thumbnail (the scrubber's own APP0).
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    ...segment(0xdb, [0x00, ...Array.from(ZIGZAG, (z) => luma[z]!), 0x01, ...Array.from(ZIGZAG, (z) => chroma[z]!)]),
    // Baseline, 8 bits, the size, Y 2x2 with table 0, Cb and Cr 1x1 with table 1.
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]),
    ...segment(0xc4, [
      ...dht(0, 0, DC_LUMA_BITS, DC_VALUES),
      ...dht(1, 0, AC_LUMA_BITS, AC_LUMA_VALUES),
      ...dht(0, 1, DC_CHROMA_BITS, DC_VALUES),
      ...dht(1, 1, AC_CHROMA_BITS, AC_CHROMA_VALUES),
    ]),
    ...segment(0xdd, [mcusPerRow >> 8, mcusPerRow & 0xff]),
    ...segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]),
  ];
  return Uint8Array.from(bytes);
}

/** The JPEG file: `head`, then the bands in order (each from `encodeRows`), the restart
 * marker after each band but the last, and EOI. `firstRows[i]` is band i's first MCU row. */
export function assemble(head: Uint8Array, bands: readonly Uint8Array[], firstRows: readonly number[]): Uint8Array {
  let size = head.length + 2;
  for (const band of bands) size += band.length + 2;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let pos = head.length;
  bands.forEach((band, i) => {
    out.set(band, pos);
    pos += band.length;
    const next = firstRows[i + 1];
    if (next !== undefined) {
      out[pos++] = 0xff;
      out[pos++] = restartMarker(next - 1);
    }
  });
  out[pos++] = 0xff;
  out[pos++] = 0xd9;
  return out.subarray(0, pos);
}

/** A whole frame as a JPEG file, on this thread. */
export function encodeYuv420(frame: Yuv420, quality: Quality): Uint8Array {
  const rows = mcuRows(frame.height);
  const band = encodeRows(frame, quality, 0, rows, frame.height);
  return assemble(header(frame.width, frame.height, quality), [band], [0]);
}
