// Everything the app keeps in IndexedDB and Cache Storage, as one base64 string of bytes.
async () => {
  const parts = [];
  const enc = new TextEncoder();
  const walk = (v) => {
    if (v === null || v === undefined) return;
    if (typeof v === "string") parts.push(enc.encode(v));
    else if (typeof v === "number" || typeof v === "boolean") parts.push(enc.encode(String(v)));
    else if (v instanceof ArrayBuffer) parts.push(new Uint8Array(v));
    else if (ArrayBuffer.isView(v)) parts.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else if (v instanceof Blob) parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object") for (const [k, x] of Object.entries(v)) { parts.push(enc.encode(k)); walk(x); }
  };
  const dbs = await indexedDB.databases();
  const names = [];
  for (const { name } of dbs) {
    names.push(name);
    const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    for (const store of db.objectStoreNames) {
      const tx = db.transaction(store);
      const all = await new Promise((res) => { const r = tx.objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
      const keys = await new Promise((res) => { const r = tx.objectStore(store).getAllKeys(); r.onsuccess = () => res(r.result); });
      walk(all); walk(keys);
    }
    db.close();
  }
  const cacheNames = await caches.keys();
  let cached = 0;
  for (const c of cacheNames) {
    const cache = await caches.open(c);
    for (const req of await cache.keys()) {
      parts.push(enc.encode(req.url));
      const res = await cache.match(req);
      if (res) { parts.push(new Uint8Array(await res.arrayBuffer())); cached++; }
    }
  }
  const blobParts = await Promise.all(parts.map(async (p) => p instanceof Blob ? new Uint8Array(await p.arrayBuffer()) : p));
  let size = 0; for (const p of blobParts) size += p.length;
  const all = new Uint8Array(size); let o = 0; for (const p of blobParts) { all.set(p, o); o += p.length; }
  let s = ""; for (let i = 0; i < all.length; i += 0x8000) s += String.fromCharCode(...all.subarray(i, i + 0x8000));
  return { databases: names, caches: cacheNames, cached, bytes: btoa(s) };
}
