// Test instrumentation, run before the app: keeps every 32-byte random value and every
// private key imported, so the storage check can look for the device's keys.
(() => {
  window.__secrets = [];
  const keep = (u8) => window.__secrets.push(Array.from(u8));
  const grv = crypto.getRandomValues.bind(crypto);
  crypto.getRandomValues = (a) => {
    const r = grv(a);
    if (a.byteLength === 32) keep(new Uint8Array(a.buffer, a.byteOffset, 32));
    return r;
  };
  const imp = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (fmt, data, ...rest) => {
    if (fmt === "pkcs8" || fmt === "raw") {
      const u8 = new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data);
      if (u8.length >= 32) keep(u8.slice(u8.length - 32));
    }
    return imp(fmt, data, ...rest);
  };
})();
