// The Web Worker that runs Argon2id off the main thread (started by kdf-worker.ts), so the
// unlock screen stays responsive for the seconds a phone needs. One derivation per worker:
// the caller terminates it afterwards, which frees the 64 MiB of WebAssembly memory.

import { deriveVaultKey, type KdfParams } from "./kdf";

interface Request {
  passcode: string;
  salt: Uint8Array;
  p: KdfParams;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (e: MessageEvent<Request>) => {
  try {
    const key = await deriveVaultKey(e.data.passcode, e.data.salt, e.data.p);
    scope.postMessage({ key }, [key.buffer]);
  } catch {
    scope.postMessage({ error: true });
  }
};
