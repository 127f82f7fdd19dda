// DEI-1: a kept ICC profile keeps its colour and loses its words (src/lib/scrub/icc.ts, the
// twin of src/clinphoto/imaging/icc.py; tests/corpus/test_web_scrub_parity.py compares the
// two byte for byte on many more profiles). A name is hidden in the places a profile has for
// text; the profile keeps its length, its tag table and its numbers, and none of the text.
import { crc32, deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { concat, putU32be, startsWith } from "../../src/lib/scrub/bytes";
import { cleanIcc } from "../../src/lib/scrub/icc";
import { scrubImage } from "../../src/lib/scrub/index";

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const utf16 = (text: string): Uint8Array => Uint8Array.from([...text].flatMap((c) => [0, c.charCodeAt(0)]));
const be32 = putU32be;

const cat = (...parts: Uint8Array[]): Uint8Array => concat(parts);

const has = (data: Uint8Array, needle: Uint8Array): boolean => data.some((_, i) => startsWith(data, needle, i));

const pad4 = (body: Uint8Array): Uint8Array => cat(body, new Uint8Array(-body.length & 3));
const WHITE = cat(enc("XYZ "), new Uint8Array(4), be32(63190), be32(65536), be32(54061));
const mluc = (text: string): Uint8Array =>
  cat(enc("mluc"), new Uint8Array(4), be32(1), be32(12), enc("enUS"), be32(text.length * 2), be32(28), utf16(text));
const text = (value: string): Uint8Array => cat(enc("text"), new Uint8Array(4), enc(value), Uint8Array.of(0));

/** A profile with an `acsp` header, a creation date and the tags in order. */
function profile(tags: [string, Uint8Array][]): Uint8Array {
  let offset = 132 + 12 * tags.length;
  const table: Uint8Array[] = [be32(tags.length)];
  const bodies: Uint8Array[] = [];
  for (const [signature, body] of tags) {
    table.push(enc(signature), be32(offset), be32(body.length));
    bodies.push(pad4(body));
    offset += pad4(body).length;
  }
  const header = new Uint8Array(128);
  header.set(be32(offset), 0);
  header.set(enc("mntrRGB XYZ "), 12);
  header.set(Uint8Array.of(0x07, 0xea, 0, 3, 0, 15), 24); // 2026-03-15
  header.set(enc("acsp"), 36);
  header.set(enc("Jane Doe"), 100); // the header's reserved bytes
  return cat(header, ...table, ...bodies);
}

describe("ICC profiles: the text is blanked, the colour kept", () => {
  const named = profile([
    ["desc", mluc("Jane Doe")],
    ["cprt", text("Jane Doe, MRN 48213377")],
    ["wtpt", WHITE],
  ]);

  it("blanks every text, the date and the reserved bytes, at the same length", () => {
    const cleaned = cleanIcc(named)!;
    expect(cleaned).not.toBeNull();
    expect(cleaned.length).toBe(named.length);
    for (const hidden of [enc("Jane"), utf16("Jane"), enc("48213377")]) expect(has(cleaned, hidden)).toBe(false);
    expect(cleaned.subarray(24, 36)).toEqual(new Uint8Array(12));
    expect(cleaned.subarray(0, 24)).toEqual(named.subarray(0, 24));
    expect(cleaned.subarray(128, 168)).toEqual(named.subarray(128, 168)); // the tag table
    expect(cleaned.subarray(named.length - 20)).toEqual(WHITE); // the numbers
    expect(cleanIcc(cleaned)).toEqual(cleaned); // nothing left to blank
  });

  it("drops a profile with a tag it cannot read, or a text tag over another tag", () => {
    expect(cleanIcc(profile([["priv", cat(enc("Jane"), new Uint8Array(4), enc("Doe!"))], ["wtpt", WHITE]]))).toBeNull();
    const over = profile([["desc", text("Jane Doe")], ["wtpt", WHITE]]);
    over.set(be32(over.length - 156), 140); // the description's length runs over the white point
    expect(cleanIcc(over)).toBeNull();
  });

  it("writes a changed profile into a PNG as a stored zlib stream that inflates to it", () => {
    const chunk = (kind: string, payload: Uint8Array): Uint8Array =>
      cat(be32(payload.length), enc(kind), payload, be32(crc32(cat(enc(kind), payload)) >>> 0));
    const png = cat(
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      chunk("IHDR", cat(be32(1), be32(1), Uint8Array.of(8, 0, 0, 0, 0))),
      chunk("iCCP", cat(enc("Jane's camera\0\0"), deflateSync(named))),
      chunk("IDAT", deflateSync(Uint8Array.of(0, 0))),
      chunk("IEND", new Uint8Array(0)),
    );
    const out = scrubImage(png).data;
    const at = out.findIndex((_, i) => startsWith(out, enc("iCCP"), i));
    const length = new DataView(out.buffer, out.byteOffset).getUint32(at - 4);
    const payload = out.subarray(at + 4, at + 4 + length);
    expect(payload.subarray(0, 13)).toEqual(enc("ICC profile\0\0"));
    const stream = payload.subarray(13);
    expect([...stream.subarray(0, 3)]).toEqual([0x78, 0x01, 0x01]); // stored, one final block
    expect(new Uint8Array(inflateSync(stream))).toEqual(cleanIcc(named));
  });
});
