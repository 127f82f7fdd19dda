// lib/jpeg's encoder run from the Python suite (tests/unit/test_web_jpeg.py), which decodes
// what it makes with Pillow and compares the pixels with its own YUV-to-RGB reference.
// stdin {frames: [{width, height, b64, format: "I420" | "NV12", videoRange, matrix, quality,
// bands}]}, the samples planar (I420: Y, U, V) or semi-planar (NV12: Y, UV), rows packed;
// stdout {results: [{b64}]}, each frame encoded in `bands` bands (as the workers do), joined.
import { readFileSync } from "node:fs";
import { assemble, encodeRows, header } from "../../src/lib/jpeg/encode";
import { bandPlanes, bands, type FramePlan } from "../../src/lib/jpeg/frame";

interface Frame {
  width: number;
  height: number;
  b64: string;
  format: "I420" | "NV12";
  videoRange: boolean;
  matrix: "bt601" | "bt709";
  quality: number;
  bands: number;
}

const input = JSON.parse(readFileSync(0, "utf8")) as { frames: Frame[] };
const results = input.frames.map((f) => {
  const data = new Uint8Array(Buffer.from(f.b64, "base64"));
  const cw = Math.ceil(f.width / 2);
  const ch = Math.ceil(f.height / 2);
  const plan: FramePlan = { format: f.format, width: f.width, height: f.height, x: 0, y: 0, videoRange: f.videoRange, matrix: f.matrix };
  const parts = bands(f.height, f.bands);
  const encoded = parts.map((band) => {
    // What VideoFrame.copyTo gives for the band's rectangle: its rows, from its top.
    const y = { offset: band.top * f.width, stride: f.width };
    const layout =
      f.format === "NV12"
        ? [y, { offset: f.width * f.height + (band.top / 2) * cw * 2, stride: cw * 2 }]
        : [y, { offset: f.width * f.height + (band.top / 2) * cw, stride: cw }, { offset: f.width * f.height + cw * ch + (band.top / 2) * cw, stride: cw }];
    return encodeRows(bandPlanes(plan, band, data, layout), f.quality, band.first, band.end, f.height);
  });
  const jpeg = assemble(
    header(f.width, f.height, f.quality),
    encoded,
    parts.map((b) => b.first),
  );
  return { b64: Buffer.from(jpeg).toString("base64") };
});
process.stdout.write(JSON.stringify({ results }));
