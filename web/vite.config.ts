// The demo page: `npm run demo:web` serves it, `npm run build:web` writes the static page to
// web/dist/ (relative URLs: any static server, any path). It imports the library's sources.

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// Cross-origin isolation (COOP + COEP), on the dev server and on `vite preview`: SharedArrayBuffer, and
// so the runtime across workers (src/threads/), exists only in an isolated page. Every resource the
// page loads is its own, so require-corp costs it nothing. A static host must send the same two.
const headers = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root,
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  worker: { format: "es" },
  server: { host: "127.0.0.1", headers, fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  preview: { host: "127.0.0.1", headers },
});
