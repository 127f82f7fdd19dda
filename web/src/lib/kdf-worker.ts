// Runs the vault's Argon2id in a Web Worker (kdf-worker-entry.ts), off the main thread.

import { CryptoError } from "./errors";
import { deriveVaultKey, type KdfParams } from "./kdf";

/** deriveVaultKey in a one-off Web Worker; in place when there is no Worker (Node, tests). */
export async function deriveInWorker(passcode: string, salt: Uint8Array, p: KdfParams): Promise<Uint8Array> {
  if (typeof Worker === "undefined") return deriveVaultKey(passcode, salt, p);
  const worker = new Worker(new URL("./kdf-worker-entry.ts", import.meta.url), { type: "module" });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ key?: Uint8Array }>) => {
        if (e.data.key instanceof Uint8Array) resolve(e.data.key);
        else reject(new CryptoError());
      };
      worker.onerror = () => reject(new CryptoError());
      worker.postMessage({ passcode, salt, p });
    });
  } finally {
    worker.terminate();
  }
}
