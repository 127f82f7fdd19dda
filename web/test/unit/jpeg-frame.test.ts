// Which camera frames lib/jpeg encodes from their YUV (lib/jpeg/frame.ts), and how a frame
// is cut into bands for the workers. The pixels themselves are judged by Pillow in
// tests/unit/test_web_jpeg.py.
import { describe, expect, it } from "vitest";
import { MCU, assemble, encodeRows, header, restartMarker } from "../../src/lib/jpeg/encode";
import { bandPlanes, bands, planFrame, type FrameLike } from "../../src/lib/jpeg/frame";

function camera(over: Partial<FrameLike> = {}): FrameLike {
  return {
    format: "NV12",
    codedWidth: 4032,
    codedHeight: 3024,
    displayWidth: 4032,
    displayHeight: 3024,
    visibleRect: { x: 0, y: 0, width: 4032, height: 3024 },
    colorSpace: { fullRange: false, matrix: "bt709" },
    ...over,
  };
}

describe("planFrame", () => {
  it("takes a phone's NV12 and a webcam's I420, reading their range and matrix", () => {
    expect(planFrame(camera(), 4032, 3024)).toMatchObject({ format: "NV12", videoRange: true, matrix: "bt709" });
    const full601 = camera({ format: "I420", colorSpace: { fullRange: true, matrix: "smpte170m" } });
    expect(planFrame(full601, 4032, 3024)).toMatchObject({ format: "I420", videoRange: false, matrix: "bt601" });
  });

  it("reads a frame that says nothing of its colours as Chromium draws it: video range, BT.601", () => {
    const silent = camera({ format: "I420", colorSpace: { fullRange: null, matrix: null } });
    expect(planFrame(silent, 4032, 3024)).toMatchObject({ videoRange: true, matrix: "bt601" });
  });

  it("leaves to the canvas what it cannot encode as shown", () => {
    expect(planFrame(camera({ format: "BGRA" }), 4032, 3024)).toBeNull();
    expect(planFrame(camera({ format: "I444" }), 4032, 3024)).toBeNull();
    expect(planFrame(camera({ colorSpace: { fullRange: false, matrix: "bt2020-ncl" } }), 4032, 3024)).toBeNull();
    expect(planFrame(camera({ rotation: 90 }), 4032, 3024)).toBeNull();
    expect(planFrame(camera({ flip: true }), 4032, 3024)).toBeNull();
    expect(planFrame(camera(), 3024, 4032)).toBeNull(); // shown turned
    expect(planFrame(camera({ visibleRect: { x: 1, y: 0, width: 4032, height: 3024 } }), 4032, 3024)).toBeNull();
    expect(planFrame(camera({ visibleRect: null }), 4032, 3024)).toBeNull();
  });
});

describe("bands", () => {
  it("cuts whole MCU rows, as even as can be, covering every row once", () => {
    for (const [height, count] of [
      [3024, 4],
      [3000, 2],
      [17, 3],
      [1, 4],
      [160, 3],
    ] as const) {
      const parts = bands(height, count);
      expect(parts[0]!.top).toBe(0);
      expect(parts.at(-1)!.bottom).toBe(height);
      parts.forEach((b, i) => {
        expect(b.top).toBe(b.first * MCU);
        if (i > 0) expect(b.first).toBe(parts[i - 1]!.end);
        expect(b.end).toBeGreaterThan(b.first);
      });
      const sizes = parts.map((b) => b.end - b.first);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe("the encoder's file", () => {
  it("has a restart marker after every MCU row but the last, RST0 to RST7 in turn", () => {
    const width = 40;
    const height = 16 * 10;
    const data = new Uint8Array((width * height * 3) / 2).fill(128);
    const layout = [
      { offset: 0, stride: width },
      { offset: width * height, stride: width / 2 },
      { offset: (width * height * 5) / 4, stride: width / 2 },
    ];
    const plan = { format: "I420" as const, width, height, x: 0, y: 0, videoRange: false, matrix: "bt601" as const };
    const [band] = bands(height, 1);
    const jpeg = assemble(header(width, height, 92), [encodeRows(bandPlanes(plan, band!, data, layout), 92, 0, 10, height)], [0]);
    const markers: number[] = [];
    for (let i = 0; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1]! >= 0xd0 && jpeg[i + 1]! <= 0xd7) markers.push(jpeg[i + 1]!);
    expect(markers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map(restartMarker));
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
  });

  it("refuses a frame JPEG cannot hold", () => {
    expect(() => header(70000, 10, 92)).toThrow(RangeError);
    expect(() => header(10, 10, 0)).toThrow(RangeError);
  });
});
