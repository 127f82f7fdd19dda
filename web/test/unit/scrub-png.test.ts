// The browser's PNG scrubber (DEI-1, issue 9) on PNGs made here with node:zlib, carrying text,
// time, EXIF, ICC profiles and private chunks, and broken or oversized on purpose; and its
// zlib inflater (used for iCCP profiles) against Node's zlib on thousands of streams, whole
// and damaged. tests/corpus/test_web_scrub_parity.py compares the scrubber with the server's.
import { crc32 as nodeCrc32, constants, deflateSync, inflateRawSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, ScrubError, scrubImage, type Reason } from "../../src/lib/scrub/index";
import { inflateCapped } from "../../src/lib/scrub/inflate";
import { crc32 } from "../../src/lib/scrub/png";

const SECRET = "Jane Doe MRN 1234567";
const enc = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const SIGNATURE = enc("\x89PNG\r\n\x1a\n");
const MAX_ICC = 16 * 1024 * 1024;

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function chunk(kind: string, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = cat(enc(kind), payload);
  return cat(u32(payload.length), body, u32(nodeCrc32(body)));
}

function contains(data: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= data.length; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function ihdr(width: number, height: number, depth = 8, colour = 2, interlace = 0): Uint8Array {
  return chunk("IHDR", cat(u32(width), u32(height), Uint8Array.of(depth, colour, 0, 0, interlace)));
}

/** An RGB picture's image data: filter 0 rows of a pattern. */
function idat(width: number, height: number): Uint8Array {
  const raw = new Uint8Array(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < 3 * width; x++) raw[y * (1 + 3 * width) + 1 + x] = (x * 7 + y * 13) & 0xff;
  }
  return chunk("IDAT", deflateSync(raw));
}

function iccProfile(size = 400): Uint8Array {
  const p = new Uint8Array(size);
  const view = new DataView(p.buffer);
  view.setUint32(0, size);
  p.set(enc("acsp"), 36);
  view.setUint32(128, 1);
  p.set(enc("wtpt"), 132); // the white point: numbers, nothing to blank
  view.setUint32(136, 144);
  view.setUint32(140, 20);
  p.set(enc("XYZ "), 144);
  return p;
}

/** A TIFF block with an orientation and a description (the name), big-endian. */
function exif(orientation: number): Uint8Array {
  const text = enc(SECRET + "\0");
  // prettier-ignore
  const head = Uint8Array.of(0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 2,
    0x01, 0x0e, 0, 2, 0, 0, 0, text.length, 0, 0, 0, 38,
    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0,
    0, 0, 0, 0);
  return cat(head, text);
}

const W = 24;
const H = 16;
const HEADER = ihdr(W, H);
const DATA = idat(W, H);
const IEND = chunk("IEND");
const PLAIN = cat(SIGNATURE, HEADER, DATA, IEND);
const PHYS = chunk("pHYs", cat(u32(2835), u32(2835), Uint8Array.of(1)));
const GAMA = chunk("gAMA", u32(45455));

/** The iCCP chunk the scrubber writes: the fixed name, the compressed profile as it was. */
const renamedIccp = (stream: Uint8Array): Uint8Array => chunk("iCCP", cat(enc("ICC profile\0\0"), stream));
const iccp = (stream: Uint8Array, name = `${SECRET}'s camera`): Uint8Array =>
  chunk("iCCP", cat(enc(`${name}\0\0`), stream));

const TEXT = cat(
  chunk("tEXt", enc(`Author\0${SECRET}`)),
  chunk("zTXt", cat(enc("Comment\0\0"), deflateSync(enc(SECRET)))),
  chunk("iTXt", enc(`XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>${SECRET}</x:xmpmeta>`)),
  chunk("tIME", Uint8Array.of(7, 232, 1, 2, 3, 4, 5)),
  chunk("sPLT", cat(enc(`${SECRET}\0`), Uint8Array.of(8, 1, 2, 3, 4, 0, 1))),
  chunk("prVt", enc(SECRET)),
);

function reason(data: Uint8Array, limits = DEFAULT_LIMITS): Reason {
  try {
    scrubImage(data, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ScrubError);
    return (error as ScrubError).reason;
  }
  throw new Error("the scrubber accepted it");
}

describe("PNG: what is kept", () => {
  it("keeps the picture and rendering chunks, renames the profile, drops all metadata", () => {
    const stream = deflateSync(iccProfile());
    const input = cat(SIGNATURE, HEADER, TEXT, chunk("eXIf", exif(6)), GAMA, PHYS, iccp(stream), DATA, TEXT, IEND,
      enc(`after the end ${SECRET}`)); // prettier-ignore
    const minimalExif = chunk("eXIf", Uint8Array.of(0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1,
      0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0)); // prettier-ignore
    const out = scrubImage(input);
    expect(out.mediaType).toBe("image/png");
    expect(out.data).toEqual(cat(SIGNATURE, HEADER, GAMA, PHYS, renamedIccp(stream), minimalExif, DATA, IEND));
    expect(contains(out.data, enc("Jane"))).toBe(false);
  });

  it("writes no eXIf for orientation 1, and reads only the first eXIf before the image data", () => {
    expect(scrubImage(cat(SIGNATURE, HEADER, chunk("eXIf", exif(1)), DATA, IEND)).data).toEqual(PLAIN);
    expect(scrubImage(cat(SIGNATURE, HEADER, DATA, chunk("eXIf", exif(6)), IEND)).data).toEqual(PLAIN);
    const two = scrubImage(cat(SIGNATURE, HEADER, chunk("eXIf", exif(1)), chunk("eXIf", exif(6)), DATA, IEND));
    expect(two.data).toEqual(PLAIN);
  });

  it("keeps a file that is already clean byte for byte, and is idempotent", () => {
    const palette = cat(SIGNATURE, ihdr(4, 4, 8, 3), chunk("PLTE", Uint8Array.of(1, 2, 3, 4, 5, 6)),
      chunk("tRNS", Uint8Array.of(0)), chunk("IDAT", deflateSync(new Uint8Array(20))), IEND); // prettier-ignore
    expect(scrubImage(palette).data).toEqual(palette);
    expect(scrubImage(PLAIN).data).toEqual(PLAIN);
    const once = scrubImage(cat(SIGNATURE, HEADER, TEXT, chunk("eXIf", exif(3)), DATA, IEND)).data;
    expect(scrubImage(once).data).toEqual(once);
  });

  it("drops an ICC profile that is not one, and keeps one of exactly 16 MiB", () => {
    for (const stream of [
      deflateSync(iccProfile().fill(0, 36, 40)), // no "acsp"
      deflateSync(iccProfile()).subarray(0, 30), // cut short
      enc(SECRET), // not zlib
      deflateSync(iccProfile(), { dictionary: enc("abcabcabc") }), // needs a preset dictionary
      deflateSync(iccProfile().fill(0x4a, 380, 384)), // bytes after the last tag, no tag's
    ]) {
      expect(scrubImage(cat(SIGNATURE, HEADER, iccp(stream), DATA, IEND)).data).toEqual(PLAIN);
    }
    const profile = new Uint8Array(MAX_ICC);
    profile.set(iccProfile());
    new DataView(profile.buffer).setUint32(0, MAX_ICC);
    const stream = deflateSync(profile, { level: 9 });
    const out = scrubImage(cat(SIGNATURE, HEADER, iccp(stream), DATA, IEND)).data;
    expect(out).toEqual(cat(SIGNATURE, HEADER, renamedIccp(stream), DATA, IEND));
  });
});

describe("PNG: what is refused", () => {
  const idatAt = SIGNATURE.length + HEADER.length;
  const flipped = PLAIN.slice();
  flipped[idatAt + 20]! ^= 0x40;

  it.each([
    ["a bad CRC", () => flipped, "malformed"],
    ["a cut in the image data", () => PLAIN.subarray(0, idatAt + 30), "truncated"],
    ["no IEND", () => PLAIN.subarray(0, PLAIN.length - 12), "truncated"],
    ["a chunk name with a digit", () => cat(SIGNATURE, HEADER, chunk("pr1t", enc("x")), DATA, IEND), "malformed"],
    ["IHDR not first", () => cat(SIGNATURE, GAMA, HEADER, DATA, IEND), "malformed"],
    ["two IHDR", () => cat(SIGNATURE, HEADER, HEADER, DATA, IEND), "malformed"],
    ["IDAT split by another chunk", () => cat(SIGNATURE, HEADER, DATA, GAMA, DATA, IEND), "malformed"],
    ["PLTE after IDAT", () => cat(SIGNATURE, HEADER, DATA, chunk("PLTE", new Uint8Array(3)), IEND), "malformed"],
    ["no IDAT", () => cat(SIGNATURE, HEADER, IEND), "malformed"],
    ["IEND with content", () => cat(SIGNATURE, HEADER, DATA, chunk("IEND", enc("x"))), "malformed"],
    ["two iCCP", () => cat(SIGNATURE, HEADER, iccp(deflateSync(iccProfile())), iccp(enc("x")), DATA, IEND), "malformed"],
    ["16-bit palette", () => cat(SIGNATURE, ihdr(W, H, 16, 3), DATA, IEND), "malformed"],
    ["interlace method 2", () => cat(SIGNATURE, ihdr(W, H, 8, 2, 2), DATA, IEND), "malformed"],
    ["an empty picture", () => cat(SIGNATURE, ihdr(0, H), DATA, IEND), "malformed"],
    ["Apple's CgBI", () => cat(SIGNATURE, chunk("CgBI", Uint8Array.of(0x50, 0, 0x20, 6)), HEADER, DATA, IEND), "malformed"],
    ["an unknown critical chunk", () => cat(SIGNATURE, HEADER, chunk("JANE", enc(SECRET)), DATA, IEND), "unsupported-feature"],
    ["a picture too wide", () => cat(SIGNATURE, ihdr(30_001, 1), DATA, IEND), "too-many-pixels"],
    ["a picture with too many pixels", () => cat(SIGNATURE, ihdr(20_000, 20_000), DATA, IEND), "too-many-pixels"],
  ] as const)("refuses %s", (_, build, expected) => {
    expect(reason(build())).toBe(expected);
  });

  it("refuses an ICC profile that inflates beyond 16 MiB (a decompression bomb)", () => {
    const bomb = deflateSync(new Uint8Array(MAX_ICC + 1), { level: 9 });
    expect(reason(cat(SIGNATURE, HEADER, iccp(bomb), DATA, IEND))).toBe("decompression-bomb");
  });

  it("refuses animations over the frame limits, and hidden default images", () => {
    const actl = (frames: number): Uint8Array => chunk("acTL", cat(u32(frames), u32(0)));
    const fctl = (seq: number, w = W, h = H, x = 0): Uint8Array =>
      chunk("fcTL", cat(u32(seq), u32(w), u32(h), u32(x), u32(0), Uint8Array.of(0, 1, 0, 10, 0, 0)));
    const apng = (frames: number, ...rest: Uint8Array[]): Uint8Array =>
      cat(SIGNATURE, HEADER, actl(frames), fctl(0), DATA, ...rest, IEND);
    expect(scrubImage(apng(1)).data).toEqual(apng(1));
    expect(reason(apng(1_001))).toBe("decompression-bomb");
    expect(reason(apng(3, fctl(1), fctl(2), fctl(3)), { ...DEFAULT_LIMITS, maxFrames: 3 })).toBe("decompression-bomb");
    expect(reason(apng(2, fctl(1, W, H, 1)))).toBe("malformed"); // sticks out of the picture
    const hidden = cat(SIGNATURE, HEADER, actl(1), DATA, fctl(0), IEND);
    expect(reason(hidden)).toBe("unsupported-feature");
    expect(reason(apng(1), { ...DEFAULT_LIMITS, maxImageBytes: 100 })).toBe("too-large");
  });

  it("refuses the file cut at any offset, with a reason", () => {
    const tagged = cat(SIGNATURE, HEADER, TEXT, iccp(deflateSync(iccProfile())), DATA, IEND);
    for (let cut = 1; cut < tagged.length; cut++) {
      const got = reason(tagged.subarray(0, cut));
      expect(["truncated", "unsupported-format"], `cut at ${cut}`).toContain(got);
      if (cut >= 8) expect(got).toBe("truncated");
    }
  });
});

describe("the inflater for ICC profiles, against Node's zlib", () => {
  let seed = 4242;
  const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >> 4) % n);

  /** What Node's zlib makes of the stream: the bytes, or null for an error or a cut. */
  function nodeInflate(stream: Uint8Array): Uint8Array | null {
    try {
      return new Uint8Array(inflateSync(stream));
    } catch {
      return null;
    }
  }

  function damage(stream: Uint8Array, from = 0): Uint8Array {
    const out = stream.slice();
    for (let k = 0; k <= random(3); k++) {
      const at = from + random(out.length - from);
      out[at] = random(2) ? out[at]! ^ (1 << random(8)) : random(256);
    }
    return random(5) === 0 ? out.subarray(0, random(out.length)) : out;
  }

  const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);

  function adler32(data: Uint8Array): Uint8Array {
    let a = 1;
    let b = 0;
    for (const byte of data) {
      a = (a + byte) % 65521;
      b = (b + a) % 65521;
    }
    return u32(((b << 16) | a) >>> 0);
  }

  function sources(): Uint8Array[] {
    const texty = enc((SECRET + " and some ICC-ish text ").repeat(40));
    const noisy = Uint8Array.from({ length: 3000 }, () => random(256));
    const runs = Uint8Array.from({ length: 5000 }, (_, i) => (i >> 7) & 3);
    const out: Uint8Array[] = [];
    for (const data of [texty, noisy, runs, iccProfile(), new Uint8Array(0)]) {
      for (const level of [0, 1, 6, 9]) {
        for (const strategy of [constants.Z_DEFAULT_STRATEGY, constants.Z_HUFFMAN_ONLY, constants.Z_RLE, constants.Z_FIXED]) {
          for (const windowBits of [9, 15]) out.push(deflateSync(data, { level, strategy, windowBits }));
        }
      }
    }
    return out;
  }

  it("inflates every kind of stream zlib writes to the same bytes", () => {
    for (const stream of sources()) {
      const got = inflateCapped(stream, MAX_ICC);
      expect(got.status).toBe("ok");
      expect(got.status === "ok" && got.data).toEqual(new Uint8Array(inflateSync(stream)));
    }
  });

  it("refuses what zlib refuses, and inflates what it inflates, on damaged streams", () => {
    const all = sources().filter((stream) => stream.length > 8);
    let bad = 0;
    for (let i = 0; i < 4000; i++) {
      const stream = damage(all[random(all.length)]!);
      const expected = nodeInflate(stream);
      const got = inflateCapped(stream, MAX_ICC);
      expect(got.status, `stream ${i}`).toBe(expected === null ? "bad" : "ok");
      if (got.status === "ok") expect(same(got.data, expected!), `stream ${i}`).toBe(true);
      else bad++;
    }
    expect(bad).toBeGreaterThan(3000); // the Adler-32 check catches nearly every change
  }, 60_000);

  it("decodes damaged deflate data as zlib does, when the checksum is made to match", () => {
    const all = sources().filter((stream) => stream.length > 8);
    let ok = 0;
    let bad = 0;
    for (let i = 0; i < 3000; i++) {
      const whole = all[random(all.length)]!;
      const body = damage(whole.subarray(2, whole.length - 4));
      let stream: Uint8Array;
      let expected: Uint8Array | null;
      try {
        const { buffer, engine } = inflateRawSync(body, { info: true }) as unknown as {
          buffer: Buffer;
          engine: { bytesWritten: number };
        };
        expected = new Uint8Array(buffer);
        stream = cat(whole.subarray(0, 2), body.subarray(0, engine.bytesWritten), adler32(expected));
      } catch {
        expected = null;
        stream = cat(whole.subarray(0, 2), body, new Uint8Array(4));
      }
      const got = inflateCapped(stream, MAX_ICC);
      expect(got.status, `stream ${i}`).toBe(expected === null ? "bad" : "ok");
      if (got.status === "ok") {
        expect(same(got.data, expected!), `stream ${i}`).toBe(true);
        ok++;
      } else {
        bad++;
      }
    }
    expect(ok).toBeGreaterThan(300);
    expect(bad).toBeGreaterThan(300);
  }, 60_000);

  it("stops at the cap: a bomb while input is left, a bad stream when it is all read", () => {
    const stream = deflateSync(new Uint8Array(100_000));
    expect(inflateCapped(stream, 100_000).status).toBe("ok");
    expect(inflateCapped(stream, 99_999).status).toBe("over-cap");
    const stored = deflateSync(enc("abcdefgh"), { level: 0 }); // header, 5 bytes, data, Adler-32
    expect(inflateCapped(stored, 7).status).toBe("over-cap");
    expect(inflateCapped(stored.subarray(0, 2 + 5 + 8), 7).status).toBe("over-cap");
    expect(inflateCapped(stored.subarray(0, 2 + 5 + 7), 7).status).toBe("bad"); // no byte left
  });

  it("stops at the cap only when zlib would have input left, as the server tells a bomb", () => {
    // "abcdefgh" with fixed codes: 8 bits a literal after 3 bits of block header, so the
    // eighth literal ends in byte 10; zlib has read all of an 11-byte stream when it stops.
    const fixed = Uint8Array.from(Buffer.from("78014b4c4a4e494d4bcf00000e000325", "hex"));
    expect(nodeInflate(fixed)).toEqual(enc("abcdefgh"));
    expect(inflateCapped(fixed.subarray(0, 10), 7).status).toBe("bad");
    expect(inflateCapped(fixed.subarray(0, 11), 7).status).toBe("bad");
    expect(inflateCapped(fixed.subarray(0, 12), 7).status).toBe("over-cap");
    expect(inflateCapped(fixed, 8).status).toBe("ok");
  });

  it("refuses a match reaching back before the start, as zlib does", () => {
    const out: number[] = [];
    let acc = 0;
    let n = 0;
    const bits = (value: number, count: number): void => {
      for (let i = 0; i < count; i++) {
        acc |= ((value >> i) & 1) << n;
        if (++n === 8) [out[out.length], acc, n] = [acc, 0, 0];
      }
    };
    const code = (value: number, count: number): void => {
      for (let i = count - 1; i >= 0; i--) bits((value >> i) & 1, 1); // Huffman codes: MSB first
    };
    const stream = (literalFirst: boolean): Uint8Array => {
      out.length = 0;
      [acc, n] = [0, 0];
      bits(1, 1); // last block
      bits(1, 2); // fixed codes
      if (literalFirst) code(0x30 + 0x61, 8); // 'a'
      code(1, 7); // length 3 (symbol 257)
      code(0, 5); // distance 1
      code(0, 7); // end of block
      if (n) bits(0, 8 - n);
      const data = literalFirst ? enc("aaaa") : new Uint8Array(3);
      return cat(Uint8Array.of(0x78, 0x01), Uint8Array.from(out), adler32(data));
    };
    expect(nodeInflate(stream(true))).toEqual(enc("aaaa"));
    expect(inflateCapped(stream(true), MAX_ICC)).toMatchObject({ status: "ok", data: enc("aaaa"), consumed: stream(true).length });
    expect(nodeInflate(stream(false))).toBeNull();
    expect(inflateCapped(stream(false), MAX_ICC).status).toBe("bad");
  });

  it("computes CRC-32 as zlib does", () => {
    for (const length of [0, 1, 3, 4, 5, 17, 1000]) {
      const data = Uint8Array.from({ length }, () => random(256));
      expect(crc32(data)).toBe(nodeCrc32(data));
      expect(crc32(data, 12345)).toBe(nodeCrc32(data, 12345));
    }
  });
});
