// zlib (RFC 1950/1951) decompression with a cap on the output, for one purpose: checking the
// ICC profile in a PNG iCCP chunk. The browser's DecompressionStream is asynchronous and has
// no cap, so this small inflater does it synchronously.
//
// It answers what the server's `zlib.decompressobj().decompress(data, cap)` lets it decide
// (src/clinphoto/imaging/png.py): the whole stream inflated and checked ("ok"); more output
// than the cap while compressed input is left ("over-cap": a decompression bomb); or anything
// else ("bad": a zlib error, or the data ends first). It accepts and refuses exactly the
// streams zlib does (code sets, distances, block types, header and Adler-32 checks), and
// decides in the same order, so the verdict is the same as the server's for every input.

export type InflateResult =
  | { readonly status: "ok"; readonly data: Uint8Array; readonly consumed: number }
  | { readonly status: "over-cap" }
  | { readonly status: "bad" };

const BAD: InflateResult = Object.freeze({ status: "bad" });
const OVER_CAP: InflateResult = Object.freeze({ status: "over-cap" });

// Base lengths and extra bits of length symbols 257..285, distances 0..29 (RFC 1951 3.2.5).
// prettier-ignore
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
  67, 83, 99, 115, 131, 163, 195, 227, 258];
// prettier-ignore
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5,
  5, 5, 5, 0];
// prettier-ignore
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513,
  769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
// prettier-ignore
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
  11, 11, 12, 12, 13, 13];
// Order of the code length code lengths (RFC 1951 3.2.7).
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Thrown inside the inflater: the input ends before the stream does. */
class OutOfInput extends Error {}
/** Thrown inside the inflater: the stream is invalid where zlib reports an error. */
class Invalid extends Error {}
/** Thrown inside the inflater: one more output byte would pass the cap. */
class OverCap extends Error {}

/** A canonical Huffman code: how many codes of each length, and the symbols in code order. */
interface Code {
  readonly count: Uint16Array; // count[len] for len 0..15
  readonly symbol: Uint16Array;
}

/**
 * Build a code from code lengths, with zlib's rules: an over-subscribed set is refused; an
 * incomplete set is refused unless `incompleteOk` and it is a single code of one bit (or,
 * when `emptyOk`, no code at all).
 */
function buildCode(lengths: Uint8Array, incompleteOk: boolean, emptyOk: boolean): Code {
  const count = new Uint16Array(16);
  for (const len of lengths) count[len]!++;
  let max = 15;
  while (max >= 1 && count[max] === 0) max--;
  if (max === 0) {
    if (emptyOk) return { count, symbol: new Uint16Array(0) };
    throw new Invalid("no codes");
  }
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left <<= 1;
    left -= count[len]!;
    if (left < 0) throw new Invalid("over-subscribed code");
  }
  if (left > 0 && !(incompleteOk && max === 1)) throw new Invalid("incomplete code");
  const offsets = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len]! + count[len]!;
  const symbol = new Uint16Array(lengths.length);
  lengths.forEach((len, sym) => {
    if (len !== 0) symbol[offsets[len]!++] = sym;
  });
  count[0] = 0;
  return { count, symbol };
}

let fixedCodes: [Code, Code] | null = null;

function fixed(): [Code, Code] {
  if (fixedCodes === null) {
    const lengths = new Uint8Array(288);
    lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedCodes = [buildCode(lengths, false, false), buildCode(new Uint8Array(32).fill(5), false, false)];
  }
  return fixedCodes;
}

/** Adler-32 (RFC 1950) of the first `length` bytes of `data`, as zlib.adler32. */
export function adler32(data: Uint8Array, length: number): number {
  let a = 1;
  let b = 0;
  for (let at = 0; at < length; ) {
    const stop = Math.min(length, at + 3800); // no overflow of b before the modulo
    for (; at < stop; at++) {
      a += data[at]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

class Inflater {
  private pos = 0; // next input byte
  private bitBuf = 0;
  private bitCount = 0;
  private out: Uint8Array;
  private size = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly cap: number,
  ) {
    this.out = new Uint8Array(Math.min(cap, Math.max(1024, input.length * 4)));
  }

  /** Input bytes zlib has taken in at this point: every byte any bit was read from. */
  consumed(): number {
    return this.pos;
  }

  private bits(need: number): number {
    let buf = this.bitBuf;
    while (this.bitCount < need) {
      if (this.pos >= this.input.length) throw new OutOfInput();
      buf |= this.input[this.pos++]! << this.bitCount;
      this.bitCount += 8;
    }
    this.bitBuf = buf >>> need;
    this.bitCount -= need;
    return buf & ((1 << need) - 1);
  }

  /** One symbol, one bit at a time (RFC 1951 codes are sent most significant bit first). */
  private decode(code: Code): number {
    let value = 0; // bits of the code so far
    let first = 0; // first code of this length
    let index = 0; // index of the first code of this length in code.symbol
    for (let len = 1; len <= 15; len++) {
      value |= this.bits(1);
      const count = code.count[len]!;
      if (value - count < first) return code.symbol[index + (value - first)]!;
      index += count;
      first = (first + count) << 1;
      value <<= 1;
    }
    throw new Invalid("invalid code");
  }

  private put(byte: number): void {
    if (this.size === this.out.length) {
      if (this.size >= this.cap) throw new OverCap();
      const bigger = new Uint8Array(Math.min(this.cap, this.out.length * 2));
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out[this.size++] = byte;
  }

  private stored(): void {
    this.bitBuf = 0; // go to a byte boundary
    this.bitCount = 0;
    if (this.pos + 4 > this.input.length) throw new OutOfInput();
    const at = this.pos;
    const length = this.input[at]! | (this.input[at + 1]! << 8);
    const check = this.input[at + 2]! | (this.input[at + 3]! << 8);
    this.pos += 4;
    if (length !== (check ^ 0xffff)) throw new Invalid("invalid stored block lengths");
    for (let i = 0; i < length; i++) {
      if (this.pos >= this.input.length) throw new OutOfInput();
      this.put(this.input[this.pos]!);
      this.pos++;
    }
  }

  private dynamicCodes(): [Code, Code] {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw new Invalid("too many length or distance symbols");
    const clLengths = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) clLengths[CL_ORDER[i]!] = this.bits(3);
    // zlib reads every length as 0 with an all-zero code length code, which leaves no
    // end-of-block code: an error before any output, as here.
    if (clLengths.every((len) => len === 0)) throw new Invalid("no code length codes");
    const clCode = buildCode(clLengths, false, false);
    const lengths = new Uint8Array(nlen + ndist);
    for (let index = 0; index < nlen + ndist; ) {
      const symbol = this.decode(clCode);
      if (symbol < 16) {
        lengths[index++] = symbol;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (symbol === 16) {
        if (index === 0) throw new Invalid("invalid bit length repeat");
        value = lengths[index - 1]!;
        repeat = 3 + this.bits(2);
      } else if (symbol === 17) {
        repeat = 3 + this.bits(3);
      } else {
        repeat = 11 + this.bits(7);
      }
      if (index + repeat > nlen + ndist) throw new Invalid("invalid bit length repeat");
      lengths.fill(value, index, index + repeat);
      index += repeat;
    }
    if (lengths[256] === 0) throw new Invalid("invalid code -- missing end-of-block");
    return [
      buildCode(lengths.subarray(0, nlen), true, false),
      buildCode(lengths.subarray(nlen), true, true),
    ];
  }

  private codes(literals: Code, distances: Code): void {
    for (;;) {
      const symbol = this.decode(literals);
      if (symbol < 256) {
        this.put(symbol);
        continue;
      }
      if (symbol === 256) return;
      if (symbol > 285) throw new Invalid("invalid literal/length code");
      const extra = LENGTH_EXTRA[symbol - 257]!;
      let length = LENGTH_BASE[symbol - 257]! + (extra ? this.bits(extra) : 0);
      if (distances.symbol.length === 0) throw new Invalid("invalid distance code");
      const dsym = this.decode(distances);
      if (dsym > 29) throw new Invalid("invalid distance code");
      const dextra = DIST_EXTRA[dsym]!;
      const distance = DIST_BASE[dsym]! + (dextra ? this.bits(dextra) : 0);
      // zlib stops for output space before it looks at the distance.
      if (this.size >= this.cap) throw new OverCap();
      if (distance > this.size) throw new Invalid("invalid distance too far back");
      while (length-- > 0) this.put(this.out[this.size - distance]!);
    }
  }

  run(): Uint8Array {
    const cmf = this.bits(8);
    const flg = this.bits(8);
    if (((cmf << 8) | flg) % 31 !== 0) throw new Invalid("incorrect header check");
    if ((cmf & 15) !== 8) throw new Invalid("unknown compression method");
    if ((cmf >> 4) + 8 > 15) throw new Invalid("invalid window size");
    if (flg & 0x20) throw new Invalid("a preset dictionary is needed");
    for (let last = 0; !last; ) {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(...fixed());
      else if (type === 2) this.codes(...this.dynamicCodes());
      else throw new Invalid("invalid block type");
    }
    this.bitBuf = 0; // the Adler-32 check starts at a byte boundary, most significant first
    this.bitCount = 0;
    let check = 0;
    for (let i = 0; i < 4; i++) check = check * 256 + this.bits(8);
    if (check !== adler32(this.out, this.size)) throw new Invalid("incorrect data check");
    return this.out.subarray(0, this.size);
  }
}

/** Inflate the zlib stream at the start of `input` (bytes after its end are ignored). */
export function inflateCapped(input: Uint8Array, cap: number): InflateResult {
  const inflater = new Inflater(input, cap);
  try {
    const data = inflater.run();
    // Bits are read a byte at a time as needed, so this is exactly the stream's length.
    return { status: "ok", data, consumed: inflater.consumed() };
  } catch (error) {
    if (error instanceof OverCap) {
      // zlib stops with the rest of the input unread: a bomb if any is left.
      return inflater.consumed() < input.length ? OVER_CAP : BAD;
    }
    if (error instanceof OutOfInput || error instanceof Invalid) return BAD;
    throw error;
  }
}
