// Build of the phone app. The output goes to dist/ (never committed): the clinphoto server
// serves it at / on the same origin as the API. Nothing is loaded from another origin.
import { defineConfig } from "vitest/config";

export default defineConfig({
  // JSX is compiled for Preact as tsconfig.json says (jsxImportSource).
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0, // no data: URLs, so the CSP needs no data: source
    modulePreload: { polyfill: false }, // the polyfill is an inline script
  },
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
  },
});
