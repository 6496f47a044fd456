// startWorker in a page built by Vite (test/e2e/worker-page/), served with COOP/COEP like the demo
// page, in Debian's Chromium through Playwright: Vite must find startWorker's bootstrap from its
// literal `new Worker(new URL("./worker-main.js", import.meta.url), { type: "module" })` (the .ts
// source) and bundle it as a worker of its own; a worker then loads a module by URL, a copied asset or
// a Vite-bundled worker entry that imports the library. Also: web/vite.config.ts's dev server and
// preview send COOP/COEP. Node only: it builds the page and launches the browser itself.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright";
import { build, createServer, preview } from "vite";
import { afterAll, describe, expect, it } from "vitest";
import { chromiumArgs, chromiumPath } from "../../scripts/chromium.mjs";
import { serveStatic } from "./static-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "fiberhost-worker-page-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("startWorker in a Vite-built page", () => {
  it("bundles the bootstrap as a worker; workers load an asset module and a bundled one", async () => {
    await build({
      root: `${ROOT}test/e2e/worker-page`,
      configFile: false,
      base: "./",
      logLevel: "error",
      build: { outDir: out, emptyOutDir: true, target: "es2022" },
      worker: { format: "es" },
    });
    // The bootstrap is a chunk of its own (named after worker-main.ts), not the raw source.
    const assets = readdirSync(join(out, "assets"));
    expect(assets.filter((f) => /^worker-main-.*\.js$/.test(f))).toHaveLength(1);
    expect(assets.filter((f) => f.endsWith(".ts"))).toEqual([]);

    const server = await serveStatic(out);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(String(err)));
      await page.goto(server.url);
      await page.waitForFunction(() => "workerPage" in globalThis, undefined, { timeout: 20_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { workerPage: unknown }).workerPage);
      expect(result).toEqual({
        crossOriginIsolated: true,
        asset: { before: 0, data: "asset" },
        word: 5,
        bundled: { data: "bundled", name: "E_INVALIDARG" },
      });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it("web/vite.config.ts: the dev server and `vite preview` send COOP/COEP", async () => {
    const configFile = `${ROOT}web/vite.config.ts`;
    const dev = await createServer({ configFile, logLevel: "error", server: { port: 0 } });
    await dev.listen();
    try {
      const headers = (await fetch(`${dev.resolvedUrls!.local[0]}`)).headers;
      expect(headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    } finally {
      await dev.close();
    }
    // Preview serves a build: the page above's will do (the headers do not depend on what is served).
    const served = await preview({ configFile, logLevel: "error", preview: { port: 0 }, build: { outDir: out } });
    try {
      const headers = (await fetch(`${served.resolvedUrls!.local[0]}`)).headers;
      expect(headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    } finally {
      await new Promise<void>((resolve) => served.httpServer.close(() => resolve()));
    }
  });
});
