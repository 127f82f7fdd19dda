// Two baseline JPEGs of horizontal strips of one picture joined into one JPEG, without
// decoding a pixel (issue 9, Safari's frame route): each strip's entropy-coded data is
// re-coded from its own Huffman tables (a canvas encoder optimises them per image) to the
// standard tables of ITU T.81 Annex K.3, which hold every DC and AC symbol; the joined file
// has one DRI whose interval is the first strip's MCU count, so the second strip begins
// after RST0 with its DC predictors reset, as it was encoded.
//
// `recodeStandard` runs in each strip's worker; `joinStrips` on the page.

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;
const DQT = 0xdb;
const DRI = 0xdd;
const SOF0 = 0xc0;
const SOF1 = 0xc1;

/** Why a strip cannot be re-coded or joined: the caller falls back to one encode. */
export class JoinError extends Error {}

interface Segment {
  marker: number;
  /** Offset of the 0xFF of its marker. */
  start: number;
  /** Offset just past the segment (marker, length and payload). */
  end: number;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
}

interface Parsed {
  /** Segments before SOS, in order (SOI excluded). */
  segments: Segment[];
  sof: Segment;
  width: number;
  height: number;
  components: Component[];
  hmax: number;
  vmax: number;
  /** DHT tables by (class << 4 | id). */
  tables: Map<number, Huffman>;
  sos: Segment;
  /** Scan components: index into `components`, DC and AC table ids. */
  scan: { index: number; td: number; ta: number }[];
  /** Entropy-coded data: from just past SOS to the EOI marker. */
  dataStart: number;
  dataEnd: number;
}

interface Huffman {
  counts: number[];
  symbols: number[];
}

// The standard tables of ITU T.81 Annex K.3 (K.3.1 DC, K.3.2 AC).
const STD_DC_LUMA: Huffman = {
  counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};
const STD_DC_CHROMA: Huffman = {
  counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};
// prettier-ignore
const STD_AC_LUMA: Huffman = {
  counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  symbols: [
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
    0xf9, 0xfa,
  ],
};
// prettier-ignore
const STD_AC_CHROMA: Huffman = {
  counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  symbols: [
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
    0xf9, 0xfa,
  ],
};

/** The standard table for a class (0 DC, 1 AC) and id: luminance for id 0, chrominance
 * for the others. */
function standard(tc: number, th: number): Huffman {
  if (tc === 0) return th === 0 ? STD_DC_LUMA : STD_DC_CHROMA;
  return th === 0 ? STD_AC_LUMA : STD_AC_CHROMA;
}

const u16 = (d: Uint8Array, at: number): number => (d[at]! << 8) | d[at + 1]!;

/** The segments of a baseline JPEG up to its first scan, and where that scan's data ends.
 * Throws JoinError for anything but one baseline (SOF0/SOF1) Huffman scan of 8-bit samples. */
export function parseBaseline(data: Uint8Array): Parsed {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== SOI) throw new JoinError("not a JPEG");
  const segments: Segment[] = [];
  const tables = new Map<number, Huffman>();
  let sof: Segment | null = null;
  let width = 0;
  let height = 0;
  const components: Component[] = [];
  let at = 2;
  for (;;) {
    if (at + 4 > data.length || data[at] !== 0xff) throw new JoinError("a segment is malformed");
    let marker = data[at + 1]!;
    while (marker === 0xff && at + 5 <= data.length) marker = data[++at + 1]!; // fill bytes
    if (marker === SOI || marker === EOI || (marker >= 0xd0 && marker <= 0xd7)) throw new JoinError("no scan");
    const length = u16(data, at + 2);
    const seg: Segment = { marker, start: at, end: at + 2 + length };
    if (length < 2 || seg.end > data.length) throw new JoinError("a segment runs past the end");
    const body = at + 4;
    if (marker === SOF0 || marker === SOF1) {
      if (data[body] !== 8) throw new JoinError("not 8-bit samples");
      height = u16(data, body + 1);
      width = u16(data, body + 3);
      const n = data[body + 5]!;
      if (length !== 8 + 3 * n || n < 1 || n > 4) throw new JoinError("SOF is malformed");
      for (let i = 0; i < n; i++) {
        const p = body + 6 + 3 * i;
        const hv = data[p + 1]!;
        components.push({ id: data[p]!, h: hv >> 4, v: hv & 15, tq: data[p + 2]! });
      }
      sof = seg;
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc) {
      throw new JoinError("not a baseline JPEG");
    } else if (marker === DRI) {
      if (u16(data, body) !== 0) throw new JoinError("the strip has restart markers");
    } else if (marker === DHT) {
      let p = body;
      while (p < seg.end) {
        const tcth = data[p]!;
        const counts = Array.from(data.subarray(p + 1, p + 17));
        const total = counts.reduce((a, b) => a + b, 0);
        if (p + 17 + total > seg.end) throw new JoinError("DHT is malformed");
        tables.set(tcth, { counts, symbols: Array.from(data.subarray(p + 17, p + 17 + total)) });
        p += 17 + total;
      }
    } else if (marker === SOS) {
      if (!sof) throw new JoinError("a scan before the frame header");
      const ns = data[body]!;
      if (length !== 6 + 2 * ns) throw new JoinError("SOS is malformed");
      const scan: Parsed["scan"] = [];
      for (let i = 0; i < ns; i++) {
        const cid = data[body + 1 + 2 * i]!;
        const t = data[body + 2 + 2 * i]!;
        const index = components.findIndex((c) => c.id === cid);
        if (index < 0) throw new JoinError("a scan component not in the frame");
        scan.push({ index, td: t >> 4, ta: t & 15 });
      }
      const q = body + 1 + 2 * ns;
      if (data[q] !== 0 || data[q + 1] !== 63 || data[q + 2] !== 0) throw new JoinError("not a sequential scan");
      if (ns !== components.length) throw new JoinError("not one scan of every component");
      const dataStart = seg.end;
      const dataEnd = scanEnd(data, dataStart);
      if (data[dataEnd + 1] !== EOI) throw new JoinError("more than one scan");
      const hmax = Math.max(...components.map((c) => c.h));
      const vmax = Math.max(...components.map((c) => c.v));
      return { segments, sof, width, height, components, hmax, vmax, tables, sos: seg, scan, dataStart, dataEnd };
    }
    segments.push(seg);
    at = seg.end;
  }
}

/** The offset of the marker that ends entropy-coded data starting at `at`. */
function scanEnd(data: Uint8Array, at: number): number {
  for (;;) {
    const i = data.indexOf(0xff, at);
    if (i < 0 || i + 1 >= data.length) throw new JoinError("the scan is truncated");
    const next = data[i + 1]!;
    if (next === 0) at = i + 2;
    else if (next >= 0xd0 && next <= 0xd7) throw new JoinError("the strip has restart markers");
    else if (next === 0xff) at = i + 1;
    else return i;
  }
}

/** A lookup of every 16-bit prefix: (code length << 8 | symbol), 0 for no code. */
function decoder(t: Huffman): Uint16Array {
  const lut = new Uint16Array(1 << 16);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let n = 0; n < t.counts[len - 1]!; n++) {
      const sym = t.symbols[k++]!;
      if (code >= 1 << len) throw new JoinError("a Huffman table is malformed");
      const from = code << (16 - len);
      lut.fill((len << 8) | sym, from, from + (1 << (16 - len)));
      code++;
    }
    code <<= 1;
  }
  return lut;
}

/** Code and length by symbol: (length << 16 | code), 0 for a symbol not in the table. */
function encoder(t: Huffman): Uint32Array {
  const out = new Uint32Array(256);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let n = 0; n < t.counts[len - 1]!; n++) out[t.symbols[k++]!] = (len << 16) | code++;
    code <<= 1;
  }
  return out;
}

function dhtSegment(classes: number[]): Uint8Array {
  const parts: number[] = [];
  for (const tcth of classes) {
    const t = standard(tcth >> 4, tcth & 15);
    parts.push(tcth, ...t.counts, ...t.symbols);
  }
  return Uint8Array.from([0xff, DHT, (parts.length + 2) >> 8, (parts.length + 2) & 0xff, ...parts]);
}

/** The number of MCUs of a frame `height` rows high (interleaved scan). */
function mcuCount(p: Parsed, height: number): number {
  if (p.components.length === 1) {
    const c = p.components[0]!;
    return Math.ceil(Math.ceil((p.width * c.h) / p.hmax) / 8) * Math.ceil(Math.ceil((height * c.v) / p.vmax) / 8);
  }
  return Math.ceil(p.width / (8 * p.hmax)) * Math.ceil(height / (8 * p.vmax));
}

/** The entropy-coded data of `p` re-coded with the standard tables: byte-stuffed, the last
 * byte padded with 1-bits, without any marker. */
function recodeScan(data: Uint8Array, p: Parsed): Uint8Array {
  const blocksOf: number[] = [];
  const dcIn: Uint16Array[] = [];
  const acIn: Uint16Array[] = [];
  const dcOut: Uint32Array[] = [];
  const acOut: Uint32Array[] = [];
  const single = p.components.length === 1;
  for (const s of p.scan) {
    const c = p.components[s.index]!;
    blocksOf.push(single ? 1 : c.h * c.v);
    const dc = p.tables.get(s.td);
    const ac = p.tables.get(0x10 | s.ta);
    if (!dc || !ac) throw new JoinError("a Huffman table the scan uses is missing");
    dcIn.push(decoder(dc));
    acIn.push(decoder(ac));
    dcOut.push(encoder(standard(0, s.td)));
    acOut.push(encoder(standard(1, s.ta)));
  }
  const mcus = mcuCount(p, p.height);
  const end = p.dataEnd;
  // Everything below is in locals (no closures) so that the loop stays fast before and after
  // the engine optimises it. Reader: `acc` holds `bits` unread bits in its low end (at most
  // 32); past the data it reads 1-bits, as a decoder pads. Writer: `wacc` holds `wbits`
  // (fewer than 8) unwritten bits between symbols.
  let pos = p.dataStart;
  let acc = 0;
  let bits = 0;
  let out = new Uint8Array(Math.max(4096, Math.ceil((end - pos) * 1.25)));
  let o = 0;
  let wacc = 0;
  let wbits = 0;
  let b = 0;
  for (let m = 0; m < mcus; m++) {
    for (let ci = 0; ci < blocksOf.length; ci++) {
      const dIn = dcIn[ci]!;
      const aIn = acIn[ci]!;
      const dOut = dcOut[ci]!;
      const aOut = acOut[ci]!;
      for (let n = blocksOf[ci]!; n > 0; n--) {
        // A block writes at most 64 symbols of 16 + 11 bits, doubled by stuffing.
        if (o + 512 > out.length) {
          const grown = new Uint8Array(out.length * 2);
          grown.set(out.subarray(0, o));
          out = grown;
        }
        // DC: the category's code, then that many bits as they are; AC: run/size codes and
        // their bits until the end of block or the 63rd coefficient.
        let k = 0;
        let lut = dIn;
        let codes = dOut;
        for (;;) {
          if (bits < 16) {
            while (bits <= 24) {
              b = 0xff;
              if (pos < end) {
                b = data[pos++]!;
                if (b === 0xff) pos++; // the stuffed 0x00
              }
              acc = (acc << 8) | b;
              bits += 8;
            }
          }
          const e = lut[(acc >>> (bits - 16)) & 0xffff]!;
          if (e === 0) throw new JoinError("the scan has an invalid code");
          bits -= e >> 8;
          const sym = e & 0xff;
          const w = codes[sym]!;
          if (w === 0) throw new JoinError("a symbol outside the standard table");
          const size = sym & 15;
          // The new code, then the extra bits read straight from the old stream.
          const len = w >>> 16;
          wacc = (wacc << len) | (w & 0xffff);
          wbits += len;
          while (wbits >= 8) {
            wbits -= 8;
            b = (wacc >>> wbits) & 0xff;
            out[o++] = b;
            if (b === 0xff) out[o++] = 0;
          }
          if (k === 0) {
            // DC: sym is the category (0-11).
            if (sym) {
              while (bits < sym) {
                b = 0xff;
                if (pos < end) {
                  b = data[pos++]!;
                  if (b === 0xff) pos++;
                }
                acc = (acc << 8) | b;
                bits += 8;
              }
              bits -= sym;
              wacc = (wacc << sym) | ((acc >>> bits) & ((1 << sym) - 1));
              wbits += sym;
              while (wbits >= 8) {
                wbits -= 8;
                b = (wacc >>> wbits) & 0xff;
                out[o++] = b;
                if (b === 0xff) out[o++] = 0;
              }
            }
            k = 1;
            lut = aIn;
            codes = aOut;
            continue;
          }
          if (size === 0) {
            if (sym === 0) break; // end of block
            if (sym !== 0xf0) throw new JoinError("the scan has an invalid AC symbol");
            k += 16;
          } else {
            while (bits < size) {
              b = 0xff;
              if (pos < end) {
                b = data[pos++]!;
                if (b === 0xff) pos++;
              }
              acc = (acc << 8) | b;
              bits += 8;
            }
            bits -= size;
            wacc = (wacc << size) | ((acc >>> bits) & ((1 << size) - 1));
            wbits += size;
            while (wbits >= 8) {
              wbits -= 8;
              b = (wacc >>> wbits) & 0xff;
              out[o++] = b;
              if (b === 0xff) out[o++] = 0;
            }
            k += (sym >> 4) + 1;
          }
          if (k >= 64) break;
        }
      }
    }
  }
  if (pos < end) throw new JoinError("the scan has data past its last MCU");
  if (wbits > 0) {
    const pad = 8 - wbits;
    b = ((wacc << pad) | ((1 << pad) - 1)) & 0xff;
    out[o++] = b;
    if (b === 0xff) out[o++] = 0;
  }
  return out.subarray(0, o);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A baseline JPEG re-coded with the standard Huffman tables (Annex K.3): the same header
 * but its DHT segments, one DHT of the standard tables just before the scan, the re-coded
 * scan. The pixels are exactly the same. Throws JoinError for what it cannot re-code. */
export function recodeStandard(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const p = parseBaseline(data);
  const scan = recodeScan(data, p);
  const used = new Set<number>();
  for (const s of p.scan) {
    used.add(s.td);
    used.add(0x10 | s.ta);
  }
  const head = p.segments.filter((s) => s.marker !== DHT && s.marker !== DRI).map((s) => data.subarray(s.start, s.end));
  return concat([
    Uint8Array.of(0xff, SOI),
    ...head,
    dhtSegment([...used].sort((a, b) => a - b)),
    data.subarray(p.sos.start, p.sos.end),
    scan,
    Uint8Array.of(0xff, EOI),
  ]);
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Two strips re-coded by `recodeStandard`, the first above the second, joined into one
 * JPEG of their whole height. They must have the same width, quantisation tables, frame
 * components and scan; the first must be a whole number of MCU rows high and at least as
 * many as the second. Throws JoinError otherwise. */
export function joinStrips(top: Uint8Array, bottom: Uint8Array): Uint8Array<ArrayBuffer> {
  const a = parseBaseline(top);
  const b = parseBaseline(bottom);
  const mcuRows = a.components.length === 1 ? 8 : 8 * a.vmax;
  if (a.width !== b.width) throw new JoinError("the strips differ in width");
  if (a.height % mcuRows !== 0) throw new JoinError("the first strip is not whole MCU rows");
  const sofBody = (p: Parsed, d: Uint8Array): Uint8Array => d.subarray(p.sof.start + 9, p.sof.end);
  if (a.sof.marker !== b.sof.marker || !equal(sofBody(a, top), sofBody(b, bottom))) {
    throw new JoinError("the strips' frame components differ");
  }
  const dqts = (p: Parsed, d: Uint8Array): Uint8Array[] =>
    p.segments.filter((s) => s.marker === DQT).map((s) => d.subarray(s.start, s.end));
  const qa = dqts(a, top);
  const qb = dqts(b, bottom);
  if (qa.length !== qb.length || !qa.every((q, i) => equal(q, qb[i]!))) throw new JoinError("the strips' quantisation differs");
  if (!equal(top.subarray(a.sos.start, a.sos.end), bottom.subarray(b.sos.start, b.sos.end))) {
    throw new JoinError("the strips' scans differ");
  }
  const dht = (p: Parsed, d: Uint8Array): Uint8Array[] =>
    p.segments.filter((s) => s.marker === DHT).map((s) => d.subarray(s.start, s.end));
  const standardTables = dhtSegment([...a.tables.keys()].sort((x, y) => x - y));
  const ha = dht(a, top);
  const hb = dht(b, bottom);
  if (ha.length !== 1 || hb.length !== 1 || !equal(ha[0]!, standardTables) || !equal(hb[0]!, standardTables)) {
    throw new JoinError("the strips are not re-coded with the standard tables");
  }
  const height = a.height + b.height;
  const interval = mcuCount(a, a.height);
  if (height > 0xffff || interval > 0xffff) throw new JoinError("the picture is too large to join");
  if (mcuCount(b, b.height) > interval) throw new JoinError("the second strip is taller than the first");
  const sof = top.slice(a.sof.start, a.sof.end);
  sof[5] = height >> 8;
  sof[6] = height & 0xff;
  const head = a.segments.filter((s) => s.marker !== DRI).map((s) => (s === a.sof ? sof : top.subarray(s.start, s.end)));
  return concat([
    Uint8Array.of(0xff, SOI),
    ...head,
    Uint8Array.of(0xff, DRI, 0, 4, interval >> 8, interval & 0xff),
    top.subarray(a.sos.start, a.sos.end),
    top.subarray(a.dataStart, a.dataEnd),
    Uint8Array.of(0xff, 0xd0),
    bottom.subarray(b.dataStart, b.dataEnd),
    Uint8Array.of(0xff, EOI),
  ]);
}
