// The strip join of Safari's frame route (web/src/lib/jpeg-join.ts) run from the Python suite
// (tests/unit/test_jpeg_join.py), on JPEGs Pillow writes there: stdin {recode: [b64...]} or
// {join: [top_b64, bottom_b64]}, or both; stdout {recoded: [b64...], joined: b64, ms: {...}}
// or {error} (a JoinError's message).
import { readFileSync } from "node:fs";
import { JoinError, joinStrips, recodeStandard } from "../../src/lib/jpeg-join";

interface Input {
  recode?: string[];
  join?: [string, string];
}

const input = JSON.parse(readFileSync(0, "utf8")) as Input;
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
const b64 = (data: Uint8Array): string => Buffer.from(data).toString("base64");

const out: { recoded?: string[]; joined?: string; recode_ms?: number[]; error?: string } = {};
try {
  if (input.recode) {
    const recoded: string[] = [];
    const ms: number[] = [];
    for (const item of input.recode) {
      const data = bytes(item);
      const t0 = performance.now();
      const made = recodeStandard(data);
      ms.push(performance.now() - t0);
      recoded.push(b64(made));
    }
    out.recoded = recoded;
    out.recode_ms = ms;
  }
  if (input.join) out.joined = b64(joinStrips(bytes(input.join[0]), bytes(input.join[1])));
} catch (error) {
  if (!(error instanceof JoinError)) throw error;
  out.error = error.message;
}
process.stdout.write(JSON.stringify(out));
