// Builds the small Node programs in test/interop/ that let the Python test suite run the web
// app's own TypeScript (sealing, signing, scrubbing) and compare it with the Python side.
// Output: build/interop/<name>.mjs (never committed). `npm run build:interop`.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vite";

const dir = resolve(import.meta.dirname, "test/interop");
const entries = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => [f.slice(0, -3), resolve(dir, f)]),
);

export default defineConfig({
  build: {
    ssr: true,
    outDir: "build/interop",
    emptyOutDir: true,
    target: "node20",
    rollupOptions: { input: entries, output: { entryFileNames: "[name].mjs", format: "es" } },
  },
  publicDir: false,
  ssr: { noExternal: true },
});
