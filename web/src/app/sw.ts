// The service worker: keeps the app shell so the app opens without a network. Hashed
// /assets/* files are served from the cache first (their names change with their content);
// the page itself (/) goes to the network first and falls back to the cached copy offline.
// The API (/v1/*) and anything of another origin are never cached or even seen here: photos,
// keys and patient data never enter Cache Storage.
/// <reference lib="webworker" />
export {};
declare const self: ServiceWorkerGlobalScope;

// Filled in by the build (vite.config.ts): the shell's files and a version from their names.
const PRECACHE: string[] = JSON.parse("__CLINPHOTO_PRECACHE__") as string[];
const VERSION = "__CLINPHOTO_VERSION__";
const CACHE = `clinphoto-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(PRECACHE.map((p) => new Request(p, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("clinphoto-shell-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

function isApi(path: string): boolean {
  return (
    path.startsWith("/v1/") ||
    path === "/v1" ||
    path.startsWith("/docs") ||
    path === "/openapi.json" ||
    path === "/healthz"
  );
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || isApi(url.pathname)) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(
      (async () => {
        const hit = await caches.match(req, { cacheName: CACHE });
        return hit ?? fetch(req);
      })(),
    );
    return;
  }
  if (req.mode === "navigate" || url.pathname === "/" || url.pathname === "/index.html") {
    event.respondWith(
      (async () => {
        try {
          const fresh = await fetch(req);
          if (fresh.ok && url.pathname === "/") {
            const cache = await caches.open(CACHE);
            await cache.put("/", fresh.clone());
          }
          return fresh;
        } catch {
          const cached = await caches.match("/", { cacheName: CACHE });
          return cached ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(
      (async () => (await caches.match(url.pathname, { cacheName: CACHE })) ?? fetch(req))(),
    );
  }
});
