// A tiny static server for the browser benchmark: node:http only, bound to 127.0.0.1 on a free
// port. It serves, read-only, the page in bench/browser/ and dist/ (from the runner's snapshot),
// and the two packages the page imports from node_modules, with COOP/COEP so the page is
// cross-origin isolated (performance.now() then has 5 µs resolution instead of 100 µs, and
// SharedArrayBuffer exists: workers sharing memory, src/threads/).

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/** Only these trees are served. */
const ALLOWED = [
  "bench/",
  "dist/",
  "examples/c-guest/generated/",
  "node_modules/@assemblyscript/loader/",
  "node_modules/effect/",
];

/**
 * The bare specifiers of dist/ and bench/, as the page's import map (bench/browser/index.html) maps
 * them, written into the JavaScript served from those trees: a worker does not get the page's import
 * map (Chromium 156), and a worker that imports the library (src/threads/, startWorker) must still
 * find @assemblyscript/loader.
 */
const BARE = /(\bfrom\s*|\bimport\s*\(\s*)(["'])(@assemblyscript\/loader|effect\/[\w/.-]+)\2/g;
function mapBare(code) {
  return code.replace(BARE, (_, before, quote, spec) => {
    const path =
      spec === "@assemblyscript/loader"
        ? "/node_modules/@assemblyscript/loader/index.js"
        : `/node_modules/effect/dist/${spec.slice("effect/".length)}.js`;
    return `${before}${quote}${path}${quote}`;
  });
}

async function isFile(path) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Starts serving `root` (node_modules/ from `modulesRoot`); answers { url, close() }. dist/'s and
 * bench/'s modules are served with their bare imports written as paths (mapBare): the threads
 * bench's module workers load dist/ too, and a worker does not see the page's import map.
 */
export function serve(root, modulesRoot = root) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname).replace(/^\/+/, "");
    const rel = normalize(path).split(sep).join("/");
    if (req.method !== "GET" || rel.startsWith("..") || !ALLOWED.some((p) => rel.startsWith(p))) {
      res.writeHead(404).end("not found");
      return;
    }
    let file = join(rel.startsWith("node_modules/") ? modulesRoot : root, rel);
    // Effect's own modules import each other with extensions; a bare "effect/X" maps to dist/X.
    if (!(await isFile(file)) && (await isFile(`${file}.js`))) file = `${file}.js`;
    if (!(await isFile(file))) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    const body = await readFile(file);
    const mapped = /^(dist|bench)\//.test(rel) && /\.m?js$/.test(file);
    res.end(mapped ? mapBare(body.toString("utf8")) : body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
