// Runs the vault's Argon2id in a Web Worker (kdf-worker-entry.ts), off the main thread.
//
// One worker per derivation (terminated afterwards: it frees the 64 MiB), and one spare
// started after each derivation, so that the next unlock (after the app locks) finds its
// worker loaded instead of paying for the start. A spare has never seen a passcode.

import { CryptoError } from "./errors";
import { deriveVaultKey, type KdfParams } from "./kdf";

let spare: Worker | null = null;

function start(): Worker {
  const worker = new Worker(new URL("./kdf-worker-entry.ts", import.meta.url), { type: "module" });
  worker.onerror = () => {
    // A spare that failed to load is dropped; the next derivation starts its own.
    if (spare === worker) spare = null;
    worker.terminate();
  };
  return worker;
}

/** deriveVaultKey in a one-off Web Worker; in place when there is no Worker (Node, tests).
 * Marks the User Timing measure `clinphoto:argon2id` with the time Argon2id took inside it. */
export async function deriveInWorker(passcode: string, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
  if (typeof Worker === "undefined") return deriveVaultKey(passcode, salt, p);
  const worker = spare ?? start();
  spare = null;
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ key?: Uint8Array; ms?: number }>) => {
        if (e.data.key instanceof Uint8Array) {
          if (typeof e.data.ms === "number") {
            const end = performance.now();
            performance.measure("clinphoto:argon2id", { start: end - e.data.ms, end });
          }
          resolve(e.data.key);
        } else reject(new CryptoError());
      };
      worker.onerror = () => reject(new CryptoError());
      worker.postMessage({ passcode, salt, p });
    });
  } finally {
    worker.terminate();
    try {
      spare = start();
    } catch {
      spare = null;
    }
  }
}
