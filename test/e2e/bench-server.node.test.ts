// bench/server.js, the browser benchmark's page server: its pages are cross-origin isolated (COOP/COEP
// on every response: workers sharing memory need it), and the library's bare imports are written as
// paths in the JavaScript it serves from dist/: a worker does not get the page's import map, and a
// worker that imports the library (startWorker's module) must still find @assemblyscript/loader.
// Node only: it starts the server and fetches from it.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerStart } from "../support/workers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
type Serve = (root: string) => Promise<{ url: string; close(): Promise<void> }>;
let server: Awaited<ReturnType<Serve>>;

beforeAll(async () => {
  await workerStart(); // dist/ up to date
  // (A specifier in a variable: bench/ is JavaScript without declarations.)
  const path = `${ROOT}bench/server.js`;
  const { serve } = (await import(/* @vite-ignore */ path)) as { serve: Serve };
  server = await serve(ROOT);
});
afterAll(() => server?.close());

describe("bench/server.js", () => {
  it.each(["/bench/browser/index.html", "/dist/threads/worker-main.js", "/dist/index.js"])(
    "%s: sent with COOP/COEP (the page, its modules and its workers' scripts)",
    async (path) => {
      const res = await fetch(server.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    },
  );

  it("writes the bare import of @assemblyscript/loader in dist/ as the path the import map names", async () => {
    const code = await (await fetch(`${server.url}/dist/core/load.js`)).text();
    expect(code).toContain('from "/node_modules/@assemblyscript/loader/index.js"');
    expect(code).not.toContain('"@assemblyscript/loader"');
    const loader = await fetch(`${server.url}/node_modules/@assemblyscript/loader/index.js`);
    expect(loader.status).toBe(200);
  });
});
