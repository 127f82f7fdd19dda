// Build of the phone app. The output goes to dist/ (never committed): the clinphoto server
// serves it at / on the same origin as the API. Nothing is loaded from another origin.
// The service worker (src/app/sw.ts) is built beside the app as /sw.js, with the list of
// the shell's files to keep offline written into it.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

function precacheList(): Plugin {
  return {
    name: "clinphoto-precache",
    apply: "build",
    generateBundle(_options, bundle) {
      const publicFiles = readdirSync(resolve(import.meta.dirname, "public")).map((f) => `/${f}`);
      const built = Object.keys(bundle)
        .filter((f) => f !== "sw.js" && f !== "index.html" && !f.endsWith(".map"))
        .map((f) => `/${f}`);
      // "/" is the page itself (index.html, emitted by Vite's HTML step).
      const files = [...new Set(["/", ...built, ...publicFiles])].sort();
      const version = createHash("sha256").update(files.join("\n")).digest("hex").slice(0, 16);
      const sw = bundle["sw.js"];
      if (!sw || sw.type !== "chunk") throw new Error("sw.js was not built");
      sw.code = sw.code
        .replace("__CLINPHOTO_PRECACHE__", JSON.stringify(files).replaceAll('"', '\\"'))
        .replace("__CLINPHOTO_VERSION__", version);
    },
  };
}

export default defineConfig({
  // JSX is compiled for Preact as tsconfig.json says (jsxImportSource).
  plugins: [precacheList()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0, // no data: URLs, so the CSP needs no data: source
    modulePreload: { polyfill: false }, // the polyfill is an inline script
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        sw: resolve(import.meta.dirname, "src/app/sw.ts"),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js"),
      },
    },
  },
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
  },
});
