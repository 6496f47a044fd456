// The demo page: `npm run demo:web` serves it, `npm run build:web` writes the static page to
// web/dist/ (relative URLs: any static server, any path). It imports the library's sources.
//
// Served cross-origin isolated (COOP/COEP, dev and preview): the page's thread control needs
// SharedArrayBuffer. A static server of the built page must send the same two headers.

import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

/** The two headers that make a page cross-origin isolated (vitest.config.ts sends the same). */
const CROSS_ORIGIN_ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

const ENTRY_ID = "virtual:fiberhost-threads-entry";

/**
 * The page's thread control starts a pool whose workers run fiberhost's bootstrap
 * (src/threads/worker-main.ts), which imports the demo's entry module (src/demo/threads-entry.ts)
 * by URL; the entry's bodies take the worker's host from the bootstrap's pool-worker.ts module, so
 * the two must share that module in the worker.
 *
 * - Dev: Vite serves both from the sources, each module at one URL: they share it as they are.
 * - Build: Vite would bundle the bootstrap as a worker of its own, and `new URL("x.ts",
 *   import.meta.url)` copies the entry as a raw asset (TypeScript, unbundled). Instead both are
 *   emitted as chunks of the page's own build, so Rollup splits what they share (the library) into
 *   chunks that both import: one module instance in the worker. The bootstrap's URL in
 *   worker-start.ts is rewritten to its chunk's; `virtual:fiberhost-threads-entry` answers the
 *   entry chunk's URL (the source's, under dev).
 */
function threadsChunks(): Plugin {
  let bootstrap = "";
  let entry = "";
  let building = false;
  return {
    name: "fiberhost-threads-chunks",
    enforce: "pre",
    configResolved(config) {
      building = config.command === "build";
    },
    buildStart() {
      if (!building) return;
      bootstrap = this.emitFile({
        type: "chunk",
        id: src("threads/worker-main.ts"),
        name: "fiberhost-worker",
        preserveSignature: "strict",
      });
      entry = this.emitFile({
        type: "chunk",
        id: src("demo/threads-entry.ts"),
        name: "threads-entry",
        preserveSignature: "strict",
      });
    },
    resolveId(id) {
      return id === ENTRY_ID ? `\0${ENTRY_ID}` : null;
    },
    load(id) {
      if (id !== `\0${ENTRY_ID}`) return null;
      return building
        ? `export default import.meta.ROLLUP_FILE_URL_${entry};`
        : `export default new URL(${JSON.stringify(`/@fs${src("demo/threads-entry.ts")}`)}, import.meta.url).href;`;
    },
    transform(code, id) {
      if (!building || id !== src("threads/worker-start.ts")) return null;
      const literal = 'new URL("./worker-main.js", import.meta.url)';
      if (!code.includes(literal)) this.error(`worker-start.ts no longer starts its worker with ${literal}`);
      return { code: code.replace(literal, `new URL(import.meta.ROLLUP_FILE_URL_${bootstrap})`), map: null };
    },
  };
}

export default defineConfig({
  root,
  base: "./",
  plugins: [threadsChunks()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  worker: { format: "es" },
  server: {
    host: "127.0.0.1",
    headers: CROSS_ORIGIN_ISOLATION,
    fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] },
  },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
});
