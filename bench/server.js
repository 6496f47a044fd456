// A tiny static server for the browser benchmark: node:http only, bound to 127.0.0.1 on a free
// port. It serves, read-only, the page in bench/browser/ and dist/ (from the runner's snapshot),
// and the two packages the page imports from node_modules, with COOP/COEP so the page is
// cross-origin isolated (performance.now() then has 5 µs resolution instead of 100 µs).

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

async function isFile(path) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** dist/'s one bare import, as the page's import map resolves it (a module worker has no import map). */
const BARE = [["@assemblyscript/loader", "/node_modules/@assemblyscript/loader/index.js"]];

/**
 * Starts serving `root` (node_modules/ from `modulesRoot`); answers { url, close() }. With
 * `resolveBareImports`, dist/'s modules are served with their bare import replaced by the path the
 * page's import map gives it: the threads bench's module workers load dist/ too, and a worker does
 * not see the page's import map.
 */
export function serve(root, modulesRoot = root, { resolveBareImports = false } = {}) {
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
    let body = await readFile(file);
    if (resolveBareImports && rel.startsWith("dist/") && rel.endsWith(".js")) {
      let text = body.toString("utf8");
      for (const [bare, path] of BARE) text = text.replaceAll(`from "${bare}"`, `from "${path}"`);
      body = Buffer.from(text, "utf8");
    }
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
