// hash-wasm's Argon2id alone, in a module of its own so that kdf.ts can import it on demand
// (a dynamic import of "hash-wasm" itself would bring every one of its algorithms).
export { argon2id } from "hash-wasm";
