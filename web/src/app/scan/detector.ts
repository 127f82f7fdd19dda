// The barcode reader for wristbands, loaded only when a scan starts (a dynamic import: none
// of it is in the first-load bundle). Code 128, PDF417 and Data Matrix are the wristband
// symbologies hospitals print; QR codes are read too. The browser's own BarcodeDetector is
// used where it reads all of them (Chrome on Android); elsewhere the barcode-detector
// ponyfill runs ZXing-C++ compiled to WebAssembly. Its .wasm comes from this app's own build,
// served by clinphoto: the package's default would fetch it from a CDN (jsDelivr), which the
// app never contacts (and its Content-Security-Policy would refuse).
import { BarcodeDetector as ZXingDetector, prepareZXingModule } from "barcode-detector/ponyfill";
import wasmUrl from "zxing-wasm/reader/zxing_reader.wasm?url";

export const FORMATS = ["code_128", "pdf417", "data_matrix", "qr_code"] as const;

prepareZXingModule({
  overrides: {
    locateFile: (path: string, prefix: string) =>
      path.endsWith(".wasm") ? new URL(wasmUrl, location.href).href : prefix + path,
  },
});

export interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

interface NativeDetectorClass {
  new (o: { formats: string[] }): Detector;
  getSupportedFormats(): Promise<string[]>;
}

/** A reader for the wristband formats: the browser's, when it reads them all, else ZXing. */
export async function makeDetector(): Promise<Detector> {
  const Native = (globalThis as { BarcodeDetector?: NativeDetectorClass }).BarcodeDetector;
  if (Native) {
    try {
      const supported = await Native.getSupportedFormats();
      if (FORMATS.every((f) => supported.includes(f))) return new Native({ formats: [...FORMATS] });
    } catch {
      /* fall back to ZXing */
    }
  }
  return new ZXingDetector({ formats: [...FORMATS] });
}
