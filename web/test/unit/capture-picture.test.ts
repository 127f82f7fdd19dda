// The shutter's picture from the camera's own JPEG (app/capture/picture.ts): cleaned by the
// scrubber byte for byte, never decoded and encoded again, its orientation kept; anything the
// scrubber does not take as a JPEG goes to the encoder, never through as it came. Run where
// there is no Worker (Node), so the page's own route is the one tested; the worker runs the
// same scrubber (lib/scrub, held byte-identical to the server's by the corpus tests).
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromStill } from "../../src/app/capture/picture";
import { scrubImage } from "../../src/lib/scrub/index";

const SECRET = "Jane Doe 45N 73W BenchPhone";
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function cat(...parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];

function contains(data: Uint8Array, needle: Uint8Array | number[]): boolean {
  outer: for (let i = 0; i + needle.length <= data.length; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** EXIF as a camera writes it: a description naming someone and the orientation (6). */
function cameraExif(): number[] {
  const text = [...ascii(SECRET), 0];
  // prettier-ignore
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 2,
    0x01, 0x0e, 0, 2, 0, 0, 0, text.length, 0, 0, 0, 38, // ImageDescription, at 38
    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation 6
    0, 0, 0, 0, ...text];
  return seg(0xe1, [...ascii("Exif"), 0, 0, ...tiff]);
}

/** A camera's JPEG in miniature: one grey 8x8 block (DC 0, end of block), with EXIF and a
 * comment before the frame. */
function cameraJpeg(): { data: Uint8Array; scan: number[] } {
  const scan = [...seg(0xda, [1, 1, 0x00, 0, 63, 0]), 0x1f]; // "00" DC 0, "0" EOB, 1-padding
  // prettier-ignore
  const data = cat([0xff, 0xd8], cameraExif(), seg(0xfe, ascii(SECRET)),
    seg(0xdb, [0, ...new Array<number>(64).fill(1)]),
    seg(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    seg(0xc4, [0x00, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    seg(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]),
    scan, [0xff, 0xd9]);
  return { data, scan };
}

// The one EXIF block the scrubber writes for orientation 6.
// prettier-ignore
const ORIENTATION_6 = [0xff, 0xe1, 0x00, 0x22, ...ascii("Exif"), 0, 0, 0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1,
  0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the camera's JPEG still", () => {
  it("is scrubbed, not re-encoded: no metadata but the orientation, the scan as the camera wrote it", async () => {
    const encoder = vi.fn(async () => Promise.reject(new Error("no decoder here")));
    vi.stubGlobal("createImageBitmap", encoder);
    const { data, scan } = cameraJpeg();
    expect(contains(data, ascii(SECRET))).toBe(true);
    const picture = await fromStill(new Blob([data.slice()], { type: "image/jpeg" }));
    expect(picture).not.toBeNull();
    expect(picture!.route).toBe("still-scrubbed");
    const out = picture!.data;
    expect(contains(out, ascii(SECRET))).toBe(false);
    expect(contains(out, ORIENTATION_6)).toBe(true);
    expect(contains(out, scan)).toBe(true);
    expect(out).toEqual(scrubImage(data).data); // the importer's scrubber, the same bytes
    expect(encoder).not.toHaveBeenCalled();
  });

  it("that the scrubber does not take as a JPEG goes to the encoder, never through as it came", async () => {
    const encoder = vi.fn(async () => Promise.reject(new Error("no decoder here")));
    vi.stubGlobal("createImageBitmap", encoder);
    // A PNG signature under a JPEG's type, then a JPEG's type on bytes that are not a picture.
    const png = cat([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ascii(SECRET));
    for (const bytes of [png, cat(ascii(SECRET))]) {
      const picture = await fromStill(new Blob([bytes], { type: "image/jpeg" }));
      expect(picture).toBeNull(); // nothing encoded it here: the caller takes the frame
    }
    expect(encoder).toHaveBeenCalledTimes(2);
  });

  it("in another format (the fake camera's PNG) is encoded, not scrubbed", async () => {
    const encoder = vi.fn(async () => Promise.reject(new Error("no decoder here")));
    vi.stubGlobal("createImageBitmap", encoder);
    const { data } = cameraJpeg();
    expect(await fromStill(new Blob([data.slice()], { type: "image/png" }))).toBeNull();
    expect(encoder).toHaveBeenCalledTimes(1);
  });
});
