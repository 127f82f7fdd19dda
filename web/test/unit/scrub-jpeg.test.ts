// The browser's JPEG scrubber (DEI-1, issue 9) on JPEGs made here by a small baseline encoder
// (DC-only blocks with the standard Huffman DC table: files any decoder shows), with every kind
// of metadata added, and broken, truncated and oversized on purpose. The same scrubber is
// compared byte for byte with the server's in tests/corpus/test_web_scrub_parity.py.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, ScrubError, scrubImage, type Reason } from "../../src/lib/scrub/index";
import { entropyEnd, scrubJpeg } from "../../src/lib/scrub/jpeg";

const SECRET = "Jane Doe MRN 1234567";
const enc = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function seg(marker: number, payload: Uint8Array | number[]): Uint8Array {
  const body = Uint8Array.from(payload);
  return cat(Uint8Array.of(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff), body);
}

function contains(data: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= data.length; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

// Standard luminance DC table (ITU T.81 Annex K.3): categories 0 to 11.
const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function canonical(counts: number[], symbols: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  counts.forEach((count, i) => {
    for (let n = 0; n < count; n++) codes.set(symbols[k++]!, [code++, i + 1]);
    code <<= 1;
  });
  return codes;
}

interface Made {
  /** The whole file. */
  data: Uint8Array;
  /** Its segments: DQT, SOF0, DHT, (DRI,) SOS with entropy data. */
  dqt: Uint8Array;
  sof: Uint8Array;
  dht: Uint8Array;
  dri: Uint8Array;
  scan: Uint8Array;
}

/**
 * A baseline JPEG of `width` x `height`, grey (1 component) or YCbCr (3, ids 1 2 3, or other
 * ids), each 8x8 block a flat tone; with a restart marker every `restart` MCUs if asked.
 */
function makeJpeg(
  width = 32,
  height = 24,
  options: { components?: number; ids?: number[]; restart?: number; seed?: number } = {},
): Made {
  const components = options.components ?? 1;
  const ids = options.ids ?? [1, 2, 3, 4].slice(0, components);
  const dc = canonical(DC_COUNTS, DC_SYMBOLS);
  const bytes: number[] = [];
  let acc = 0;
  let nbits = 0;
  const put = (value: number, size: number): void => {
    for (let i = size - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++nbits === 8) {
        bytes.push(acc);
        if (acc === 0xff) bytes.push(0); // stuffing
        acc = 0;
        nbits = 0;
      }
    }
  };
  const flush = (): void => {
    if (nbits) put((1 << (8 - nbits)) - 1, 8 - nbits); // pad with one bits
  };
  const mcus = Math.ceil(width / 8) * Math.ceil(height / 8);
  const pred = new Array<number>(components).fill(0);
  let seed = options.seed ?? 7;
  for (let m = 0; m < mcus; m++) {
    if (options.restart && m && m % options.restart === 0) {
      flush();
      bytes.push(0xff, 0xd0 + ((m / options.restart - 1) % 8));
      pred.fill(0);
    }
    for (let c = 0; c < components; c++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const value = (seed % 1500) - 750; // the block's DC coefficient
      const diff = value - pred[c]!;
      pred[c] = value;
      const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      const [code, len] = dc.get(size)!;
      put(code, len);
      if (size) put(diff > 0 ? diff : diff + (1 << size) - 1, size);
      put(0, 1); // AC: end of block (the one code of the AC table, "0")
    }
  }
  flush();
  const dqt = seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]);
  const sof = seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, components,
    ...ids.flatMap((id) => [id, 0x11, 0])]); // prettier-ignore
  const dht = cat(
    seg(0xc4, [0x00, ...DC_COUNTS, ...DC_SYMBOLS]),
    seg(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]),
  );
  const dri = options.restart ? seg(0xdd, [options.restart >> 8, options.restart & 0xff]) : new Uint8Array(0);
  const sos = seg(0xda, [components, ...ids.flatMap((id) => [id, 0x00]), 0, 63, 0]);
  const scan = cat(sos, Uint8Array.from(bytes));
  const data = cat(Uint8Array.of(0xff, 0xd8), dqt, sof, dht, dri, scan, Uint8Array.of(0xff, 0xd9));
  return { data, dqt, sof, dht, dri, scan };
}

const SOI = Uint8Array.of(0xff, 0xd8);
const EOI = Uint8Array.of(0xff, 0xd9);
// prettier-ignore
const JFIF = Uint8Array.of(0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00,
  0x00, 0x01, 0x00, 0x01, 0x00, 0x00);

/** The minimal EXIF APP1 the scrubber writes for an orientation other than 1. */
function minimalExif(orientation: number): Uint8Array {
  // prettier-ignore
  return cat(Uint8Array.of(0xff, 0xe1, 0x00, 0x22), enc("Exif\0\0"), Uint8Array.of(
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01,
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00));
}

/** An EXIF block with a description, an orientation, GPS and a thumbnail, in either order. */
function exifTiff(orientation: number | null, little: boolean): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number): void => void (little ? out.push(v & 0xff, v >> 8) : out.push(v >> 8, v & 0xff));
  const u32 = (v: number): void => {
    const b = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...(little ? b.reverse() : b));
  };
  const thumb = makeJpeg(16, 16).data;
  const text = enc(SECRET + "\0");
  const entries = orientation === null ? 3 : 4;
  const ifd0 = 8;
  const gpsAt = ifd0 + 2 + 12 * entries + 4;
  const ifd1At = gpsAt + 2 + 12 + 4;
  const textAt = ifd1At + 2 + 24 + 4;
  const thumbAt = textAt + text.length;
  out.push(...(little ? [0x49, 0x49] : [0x4d, 0x4d]));
  u16(42);
  u32(ifd0);
  u16(entries);
  u16(0x010e), u16(2), u32(text.length), u32(textAt); // ImageDescription
  if (orientation !== null) (u16(0x0112), u16(3), u32(1), u16(orientation), u16(0));
  u16(0x013b), u16(2), u32(text.length), u32(textAt); // Artist
  u16(0x8825), u16(4), u32(1), u32(gpsAt); // GPS IFD
  u32(ifd1At);
  u16(1);
  u16(0x0002), u16(2), u32(text.length), u32(textAt); // GPSLatitude, as text
  u32(0);
  u16(2);
  u16(0x0201), u16(4), u32(1), u32(thumbAt); // thumbnail offset
  u16(0x0202), u16(4), u32(1), u32(thumb.length);
  u32(0);
  return cat(Uint8Array.from(out), text, thumb);
}

function iccProfile(size = 200): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, size);
  p.set(enc("acsp"), 36);
  new DataView(p.buffer).setUint32(128, 1); // one tag, inside the profile
  p.set(enc("wtpt"), 132); // the white point: numbers, nothing to blank
  new DataView(p.buffer).setUint32(136, 144);
  new DataView(p.buffer).setUint32(140, 20);
  p.set(enc("XYZ "), 144);
  return p;
}

/** A valid profile with a name written where no tag points (zeros there are padding). */
function strayIcc(size: number, at: number): Uint8Array {
  const p = iccProfile(size);
  p.set(enc("Jane"), at);
  return p;
}

function iccSegments(profile: Uint8Array, pieces: number, count = pieces): Uint8Array[] {
  const step = Math.ceil(profile.length / pieces);
  return Array.from({ length: pieces }, (_, i) =>
    seg(0xe2, cat(enc("ICC_PROFILE\0"), Uint8Array.of(i + 1, count), profile.subarray(i * step, (i + 1) * step))),
  );
}

/** Every kind of metadata a phone or an editor writes, as segments. */
function metadata(orientation: number | null = 6, little = false): Uint8Array {
  return cat(
    seg(0xe1, cat(enc("Exif\0\0"), exifTiff(orientation, little))),
    seg(0xe1, enc(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>${SECRET}</dc:creator></x:xmpmeta>`)),
    seg(0xed, enc(`Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x18\x1c\x02\x50\0\x14${SECRET}`)),
    seg(0xe0, cat(enc("JFXX\0\x10"), makeJpeg(16, 8).data)), // JFIF extension thumbnail
    seg(0xe2, enc(`MPF\0II*\0${SECRET}`)),
    seg(0xfe, enc(`comment ${SECRET}`)),
    seg(0xeb, enc(`JP${SECRET}`)),
  );
}

function reason(data: Uint8Array, limits = DEFAULT_LIMITS): Reason {
  try {
    scrubImage(data, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ScrubError);
    return (error as ScrubError).reason;
  }
  throw new Error("the scrubber accepted it");
}

/** The file with `extra` inserted at offset `at`. */
const insert = (data: Uint8Array, at: number, extra: Uint8Array): Uint8Array =>
  cat(data.subarray(0, at), extra, data.subarray(at));

describe("JPEG: what is kept", () => {
  it("keeps exactly the frame, tables and scan of a tagged grey JPEG, drops all metadata", () => {
    const made = makeJpeg();
    const tagged = cat(
      SOI,
      metadata(6),
      made.data.subarray(2),
      makeJpeg(8, 8).data, // a second picture after the EOI, as multi-picture files do
      enc(`trailer ${SECRET}`),
    );
    const out = scrubImage(tagged);
    expect(out.mediaType).toBe("image/jpeg");
    expect(out.data).toEqual(cat(SOI, JFIF, minimalExif(6), made.dqt, made.sof, made.dht, made.scan, EOI));
    for (const needle of [SECRET, "Jane", "Exif\0\0II", "JFXX", "MPF", "Photoshop", "xmpmeta", "trailer"]) {
      expect(contains(out.data, enc(needle)), needle).toBe(false);
    }
  });

  it("reads the orientation in either byte order, writes none for 1 or when there is none", () => {
    const made = makeJpeg(24, 16, { components: 3 });
    const plain = cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.scan, EOI);
    for (const little of [true, false]) {
      for (let o = 1; o <= 8; o++) {
        const out = scrubJpeg(cat(SOI, metadata(o, little), made.data.subarray(2)));
        expect(out).toEqual(o === 1 ? plain : insert(plain, 20, minimalExif(o)));
      }
      expect(scrubJpeg(cat(SOI, metadata(null, little), made.data.subarray(2)))).toEqual(plain);
    }
    // Only the first EXIF segment counts, as for decoders.
    const two = cat(SOI, metadata(3), metadata(8), made.data.subarray(2));
    expect(scrubJpeg(two)).toEqual(insert(plain, 20, minimalExif(3)));
  });

  it("is idempotent, and keeps a file that is already clean byte for byte", () => {
    const made = makeJpeg(40, 40, { components: 3, restart: 2 });
    const once = scrubJpeg(cat(SOI, metadata(5), made.data.subarray(2)));
    expect(scrubJpeg(once)).toEqual(once);
    const clean = cat(SOI, JFIF, made.data.subarray(2));
    expect(scrubJpeg(clean)).toEqual(clean);
  });

  it("keeps restart markers and the restart interval, drops fill bytes before markers", () => {
    const made = makeJpeg(64, 16, { restart: 1 });
    expect(contains(made.scan, Uint8Array.of(0xff, 0xd3))).toBe(true);
    const filled = cat(SOI, made.dqt, made.sof, made.dht, made.dri, made.scan, Uint8Array.of(0xff, 0xff, 0xff, 0xd9));
    expect(scrubJpeg(filled)).toEqual(cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.dri, made.scan, EOI));
    const padded = cat(SOI, Uint8Array.of(0xff, 0xff), made.data.subarray(2));
    expect(scrubJpeg(padded)).toEqual(scrubJpeg(made.data));
  });

  it("keeps a valid ICC profile in one or several segments and drops a broken one", () => {
    const made = makeJpeg();
    const body = made.data.subarray(2);
    for (const pieces of [1, 3]) {
      const segments = iccSegments(iccProfile(3000), pieces);
      const out = scrubJpeg(cat(SOI, ...segments, body));
      expect(out).toEqual(cat(SOI, JFIF, ...segments, made.dqt, made.sof, made.dht, made.scan, EOI));
    }
    const broken = [
      iccSegments(iccProfile(3000), 2, 3), // says three pieces, has two
      iccSegments(iccProfile(3000).fill(0, 36, 40), 1), // no "acsp"
      [seg(0xe2, cat(enc("ICC_PROFILE\0"), Uint8Array.of(1, 1), iccProfile(3000), enc(SECRET)))],
      [...iccSegments(iccProfile(3000), 2), ...iccSegments(iccProfile(3000), 2)], // repeated
      iccSegments(strayIcc(3000, 2990), 1), // a name after the last tag, no tag points to it
      iccSegments(strayIcc(3000, 600), 3), // the same, the profile in three segments
    ];
    for (const segments of broken) {
      const out = scrubJpeg(cat(SOI, ...segments, body));
      expect(out).toEqual(cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.scan, EOI));
    }
  });

  it("keeps the 12 bytes of the last Adobe segment before the scan, and adds no JFIF then", () => {
    const made = makeJpeg(16, 16, { components: 3 });
    const adobe = (transform: number, extra = ""): Uint8Array =>
      seg(0xee, cat(enc("Adobe"), Uint8Array.of(0, 100, 0x40, 0, 0, 0, transform), enc(extra)));
    const input = cat(SOI, adobe(1, SECRET), adobe(0, SECRET), made.data.subarray(2));
    expect(scrubJpeg(input)).toEqual(cat(SOI, adobe(0), made.dqt, made.sof, made.dht, made.scan, EOI));
    // An Adobe segment after the first scan is not read by decoders: dropped.
    const late = insert(made.data, made.data.length - 2, adobe(1));
    expect(scrubJpeg(late)).toEqual(cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.scan, EOI));
    // Components named R, G, B: no JFIF, which would make decoders read them as YCbCr.
    const rgb = makeJpeg(16, 16, { components: 3, ids: [0x52, 0x47, 0x42] });
    expect(scrubJpeg(rgb.data)).toEqual(rgb.data);
  });

  it("leaves out table definitions no scan reads, and text hidden in them", () => {
    const made = makeJpeg();
    const text = enc(SECRET.repeat(4)).subarray(0, 64);
    const unusedDqt = seg(0xdb, cat(Uint8Array.of(0x00), text)); // replaced before the scan
    const otherSlot = seg(0xc4, cat(Uint8Array.of(0x13, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0), enc(SECRET)));
    const afterScan = seg(0xc4, cat(Uint8Array.of(0x10, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0), enc(SECRET)));
    const input = cat(SOI, unusedDqt, made.dqt, made.sof, otherSlot, made.dht, made.scan, afterScan, EOI);
    const out = scrubJpeg(input);
    expect(out).toEqual(cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.scan, EOI));
    expect(contains(out, enc("Jane"))).toBe(false);
    // A used and an unused table in one segment: the segment is rewritten with the used one.
    const both = seg(0xdb, cat(made.dqt.subarray(4), Uint8Array.of(0x03), text));
    expect(scrubJpeg(cat(SOI, both, made.data.subarray(2 + made.dqt.length)))).toEqual(
      cat(SOI, JFIF, made.dqt, made.sof, made.dht, made.scan, EOI),
    );
  });
});

describe("JPEG: what is refused", () => {
  const made = makeJpeg();
  const parts = [made.dqt, made.sof, made.dht.subarray(0, 33), made.dht.subarray(33), made.scan.subarray(0, 10)];

  it("refuses every kept segment padded with a name as malformed", () => {
    parts.forEach((part, index) => {
      const length = ((part[2]! << 8) | part[3]!) + SECRET.length;
      const grown = cat(part.subarray(0, 2), Uint8Array.of(length >> 8, length & 0xff), part.subarray(4), enc(SECRET));
      const others = parts.map((p, i) => (i === index ? grown : p));
      const data = cat(SOI, ...others, made.scan.subarray(10), EOI);
      expect(reason(data), `segment ${index}`).toBe("malformed");
    });
  });

  it.each([
    ["a second SOI", () => insert(made.data, 2, SOI), "malformed"],
    ["a stray FF 00", () => insert(made.data, 2, Uint8Array.of(0xff, 0x00)), "malformed"],
    ["garbage between segments", () => insert(made.data, 2, enc("xx")), "malformed"],
    ["a scan before the frame", () => cat(SOI, made.dqt, made.dht, made.scan, made.sof, EOI), "malformed"],
    ["no frame", () => cat(SOI, made.dqt, made.dht, EOI), "malformed"],
    ["no scan", () => cat(SOI, made.dqt, made.sof, made.dht, EOI), "malformed"],
    ["two frames", () => cat(SOI, made.dqt, made.sof, made.sof, made.dht, made.scan, EOI), "malformed"],
    ["segment length 1", () => insert(made.data, 2, Uint8Array.of(0xff, 0xe1, 0x00, 0x01)), "malformed"],
    ["segment past the end", () => insert(made.data, made.data.length - 2, Uint8Array.of(0xff, 0xe1, 0x40, 0x00)), "truncated"],
    ["no EOI", () => made.data.subarray(0, made.data.length - 2), "truncated"],
    ["hierarchical (DHP)", () => insert(made.data, 2, seg(0xde, made.sof.subarray(4))), "unsupported-feature"],
    ["height from DNL", () => cat(SOI, made.dqt, seg(0xc0, [8, 0, 0, 0, 32, 1, 1, 0x11, 0]), made.dht, made.scan, EOI), "unsupported-feature"],
    ["five components", () => cat(SOI, made.dqt, seg(0xc0, [8, 0, 8, 0, 8, 5, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 5, 0x11, 0]), made.dht, made.scan, EOI), "unsupported-feature"],
    ["width 0", () => cat(SOI, made.dqt, seg(0xc0, [8, 0, 8, 0, 0, 1, 1, 0x11, 0]), made.dht, made.scan, EOI), "malformed"],
    ["9-bit samples", () => cat(SOI, made.dqt, seg(0xc0, [9, 0, 8, 0, 8, 1, 1, 0x11, 0]), made.dht, made.scan, EOI), "malformed"],
  ] as const)("refuses %s", (_, build, expected) => {
    expect(reason(build())).toBe(expected);
  });

  it("refuses pictures over the pixel limits before reading further (bombs)", () => {
    const frame = (w: number, h: number): Uint8Array =>
      cat(SOI, made.dqt, seg(0xc0, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]), made.dht, made.scan, EOI);
    expect(reason(frame(30_001, 8))).toBe("too-many-pixels");
    expect(reason(frame(8, 30_001))).toBe("too-many-pixels");
    expect(reason(frame(20_000, 20_000))).toBe("too-many-pixels");
    expect(scrubImage(frame(10_000, 10_000)).data.length).toBeGreaterThan(0); // 100 MP: the limit
    expect(reason(made.data, { ...DEFAULT_LIMITS, maxImageBytes: made.data.length - 1 })).toBe("too-large");
    expect(reason(made.data, { ...DEFAULT_LIMITS, maxPixels: 32 * 24 - 1 })).toBe("too-many-pixels");
  });

  it("refuses the file cut at any offset, with a reason", () => {
    const tagged = cat(SOI, metadata(6), makeJpeg(24, 24, { components: 3, restart: 2 }).data.subarray(2));
    expect([0, 1, 2].map((cut) => reason(tagged.subarray(0, cut)))).toEqual([
      "empty",
      "unsupported-format", // FF alone: no format starts so
      "malformed", // FF D8: no marker follows
    ]);
    for (let cut = 3; cut < tagged.length - 1; cut++) {
      const got = reason(tagged.subarray(0, cut));
      expect(["truncated", "malformed"], `cut at ${cut}`).toContain(got);
    }
  });

  it("never throws anything but a ScrubError, and never lets the name through, on mutants", () => {
    const base = cat(SOI, metadata(6), makeJpeg(24, 24, { components: 3, restart: 2 }).data.subarray(2));
    let seed = 12345;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const data = base.slice();
      for (let k = 0; k <= random(3); k++) {
        const at = random(data.length);
        data[at] = [0xff, 0x00, 0xd9, 0xda, 0xc0, 0xe1, random(256)][random(7)]!;
      }
      try {
        const out = scrubImage(data).data;
        accepted++;
        expect(contains(out, enc("Jane Doe"))).toBe(false);
      } catch (error) {
        expect(error).toBeInstanceOf(ScrubError);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("JPEG: the end of the entropy-coded data", () => {
  const pattern = /\xff[^\x00\xd0-\xd7\xff]/g;
  const regexEnd = (data: Uint8Array, pos: number): number => {
    pattern.lastIndex = pos;
    const found = pattern.exec(String.fromCharCode(...data));
    return found ? found.index : -1;
  };

  it("agrees with the regular expression on every short string of the bytes that matter", () => {
    const alphabet = [0x00, 0x01, 0xd0, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xfe, 0xff, 0x12];
    const strings: number[][] = [[]];
    for (let len = 1; len <= 4; len++) {
      for (const s of strings.filter((x) => x.length === len - 1)) for (const b of alphabet) strings.push([...s, b]);
    }
    const wrong: string[] = [];
    for (const s of strings) {
      const data = Uint8Array.from(s);
      for (let pos = 0; pos <= data.length; pos++) {
        if (entropyEnd(data, pos) !== regexEnd(data, pos)) wrong.push(`${s.join(" ")} from ${pos}`);
      }
    }
    expect(strings.length).toBe(1 + 11 + 121 + 1331 + 14641);
    expect(wrong).toEqual([]);
  });

  it("agrees with the regular expression on random bytes rich in 0xFF", () => {
    let seed = 99;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed >> 8);
    for (let i = 0; i < 500; i++) {
      const data = Uint8Array.from({ length: 1 + (next() % 60) }, () =>
        next() % 3 === 0 ? 0xff : [0x00, 0xd3, 0xd9, 0xc4, next() & 0xff][next() % 5]!,
      );
      const pos = next() % (data.length + 1);
      expect(entropyEnd(data, pos)).toBe(regexEnd(data, pos));
    }
  });
});

describe("formats other than JPEG and PNG", () => {
  it.each([
    ["empty", new Uint8Array(0), "empty"],
    ["GIF", enc("GIF89a\x01\x00\x01\x00"), "unsupported-format"],
    ["WebP", enc("RIFF\x10\x00\x00\x00WEBPVP8 "), "unsupported-format"],
    ["TIFF", enc("II*\x00\x08\x00\x00\x00"), "unsupported-format"],
    ["HEIC", enc("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "unsupported-format"],
    ["MP4", enc("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), "unsupported-format"],
    ["ftyp cut short", enc("\x00\x00\x00\x20ftypheic"), "truncated"],
    ["BMP", enc("BM\x00\x00\x00\x00"), "unsupported-format"],
    ["PDF", enc("%PDF-1.7"), "unsupported-format"],
    ["FF D8 without a marker", enc("\xff\xd8\x00\x00"), "malformed"],
    ["text", enc(SECRET), "unsupported-format"],
  ] as const)("refuses %s", (_, data, expected) => {
    expect(reason(data)).toBe(expected);
  });
});
