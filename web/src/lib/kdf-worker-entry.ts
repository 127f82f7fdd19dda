// The Web Worker that runs Argon2id off the main thread (started by kdf-worker.ts), so the
// unlock screen stays responsive for the seconds a phone needs. One derivation per worker:
// the caller terminates it afterwards, which frees the 64 MiB of WebAssembly memory. It
// loads hash-wasm as soon as it starts, so a worker started ahead of the unlock (a spare,
// see kdf-worker.ts) has it ready when the passcode comes.

import { deriveVaultKey, type KdfParams } from "./kdf";

interface Request {
  passcode: string;
  salt: Uint8Array;
  p: KdfParams;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
const loading = import("./kdf-argon2").catch(() => undefined);

scope.onmessage = async (e: MessageEvent<Request>) => {
  try {
    await loading;
    const t0 = performance.now();
    const key = await deriveVaultKey(e.data.passcode, e.data.salt, e.data.p);
    // How long Argon2id itself took, for the unlock's User Timing (docs/benchmarks.md).
    scope.postMessage({ key, ms: performance.now() - t0 }, [key.buffer]);
  } catch {
    scope.postMessage({ error: true });
  }
};
