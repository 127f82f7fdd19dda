// Errors of the app's cryptography. A CryptoError never says why an operation failed (the
// same rule as the Python side's clinphoto.crypto.CryptoError, TRN-5).

/** A cryptographic operation failed: a wrong key, a damaged or forged input. */
export class CryptoError extends Error {
  constructor() {
    super("cryptographic operation failed");
    this.name = "CryptoError";
  }
}
