// The browser's scrubber run from the Python suite (tests/corpus/test_web_scrub_parity.py):
// stdin {items: [{path} | {b64}], limits?, repeat?}; stdout {results: [...], ms?}. Each result
// is {ok: true, mediaType, b64} or {ok: false, reason, message}, or {ok: false, crash} when
// something other than a ScrubError was thrown (always a defect). With `repeat`, each item is
// scrubbed that many more times and the median milliseconds per item are returned as `ms`.
import { readFileSync } from "node:fs";
import { DEFAULT_LIMITS, ScrubError, scrubImage, type Limits } from "../../src/lib/scrub/index";

interface Item {
  path?: string;
  b64?: string;
}
interface Input {
  items: Item[];
  limits?: Partial<Limits>;
  repeat?: number;
}

const input = JSON.parse(readFileSync(0, "utf8")) as Input;
const limits: Limits = { ...DEFAULT_LIMITS, ...input.limits };

function bytesOf(item: Item): Uint8Array {
  if (item.path !== undefined) return new Uint8Array(readFileSync(item.path));
  return new Uint8Array(Buffer.from(item.b64 ?? "", "base64"));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const results = [];
const ms: number[] = [];
for (const item of input.items) {
  const data = bytesOf(item);
  try {
    const out = scrubImage(data, limits);
    results.push({ ok: true, mediaType: out.mediaType, b64: Buffer.from(out.data).toString("base64") });
  } catch (error) {
    if (error instanceof ScrubError) {
      results.push({ ok: false, reason: error.reason, message: error.message });
    } else {
      results.push({ ok: false, crash: error instanceof Error ? (error.stack ?? String(error)) : String(error) });
    }
  }
  if (input.repeat) {
    const times: number[] = [];
    for (let i = 0; i < input.repeat; i++) {
      const started = performance.now();
      try {
        scrubImage(data, limits);
      } catch {
        // timed all the same
      }
      times.push(performance.now() - started);
    }
    ms.push(median(times));
  }
}
process.stdout.write(JSON.stringify(input.repeat ? { results, ms } : { results }));
