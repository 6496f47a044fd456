// The demo page's thread control end to end: the built page (web/dist/, Vite's build with the
// bootstrap and the entry module as chunks of the page's own build) in Chromium through
// Playwright. Served cross-origin isolated, ?threads=2 runs the scenario on a pool of two workers
// and draws their lanes; served without COOP/COEP, the control says why threads are off.

import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright";
import { build } from "vite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumArgs, chromiumPath } from "../../scripts/chromium.mjs";
import { ISOLATION, serveStatic, type StaticServer } from "./static-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts`;

let isolated: StaticServer;
let plain: StaticServer;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

async function open(url: string): Promise<void> {
  pageErrors = [];
  page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
  page.on("pageerror", (err) => pageErrors.push(`uncaught: ${String(err)}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") pageErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
}

const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? "";
const count = async (id: string): Promise<number> => Number((await text(id)).replace(/,/g, "").split(" ")[0]);

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await page.waitForTimeout(100);
    v = await read();
  }
  return v;
}

beforeAll(async () => {
  await build({ configFile: `${ROOT}web/vite.config.ts`, logLevel: "error" });
  isolated = await serveStatic(`${ROOT}web/dist`, ISOLATION);
  plain = await serveStatic(`${ROOT}web/dist`, {});
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(async () => {
  try {
    expect(pageErrors, "errors the page reported").toEqual([]);
  } finally {
    await page?.close();
  }
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

describe("the demo page's thread control", () => {
  it("?threads=2 on an isolated page: two workers run their shares, lanes per worker, one set of totals", async () => {
    await open(`${isolated.url}?threads=2&fibers=400`);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.getByTestId("threads").inputValue()).toBe("2");
    const workers = (await text("workers")).split(", ");
    expect(workers).toHaveLength(2);
    expect(new Set(workers).size).toBe(2);
    // Each worker's share spawns its half and its fibers cross: the shared core counts them all.
    const alive = await until(
      () => Promise.all([1, 2].map((w) => text(`worker-${w}`))),
      (v) => v.every((t) => Number(t.split(" / ")[0]!.replace(/,/g, "")) >= 150),
    );
    for (const t of alive) expect(Number(t.split(" / ")[0]!.replace(/,/g, ""))).toBeGreaterThanOrEqual(150);
    const first = await until(
      () => count("transitions"),
      (n) => n > 0,
    );
    expect(
      await until(
        () => count("transitions"),
        (n) => n > first,
      ),
    ).toBeGreaterThan(first);
    // The collector on the page's thread stops the world across both workers, again and again.
    expect(
      await until(
        () => count("suspensions"),
        (n) => n >= 3,
      ),
    ).toBeGreaterThanOrEqual(3);
    expect(await text("invariants")).toBe("hold");
    // A lane group per worker, named by its thread, drawn from what each worker wrote to the board.
    for (const [i, thread] of workers.entries())
      expect(await text(`lanes-worker-${i + 1}`)).toBe(`worker ${i + 1} (thread ${thread})`);
    const shown = await page.evaluate(() => {
      const demo = (globalThis as unknown as { fiberhostDemo: { threads: { lanes: { shown(w: number): number } } } })
        .fiberhostDemo.threads.lanes;
      return [demo.shown(0), demo.shown(1)];
    });
    for (const n of shown) expect(n).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/demo-page-threads.png`, fullPage: true });
  });

  it("Suspend holds every worker's managed fibers until Resume", async () => {
    await open(`${isolated.url}?threads=2&fibers=400`);
    await until(
      () => count("alive"),
      (n) => n >= 300,
    );
    await page.getByTestId("suspend").click();
    await expect
      .poll(() => text("last-call"), { timeout: 10_000 })
      .toMatch(/^host\.suspendRuntimeAsync\(\) → S_(OK|FALSE): every worker held/);
    expect(await text("runtime")).toBe("runtime suspended (by hand)");
    expect(
      await until(
        () => count("held"),
        (n) => n > 0,
      ),
    ).toBeGreaterThan(0);
    const transitions = await count("transitions");
    await page.waitForTimeout(500);
    // Held: no fiber on any worker enters or leaves managed code (a fiber inside a guest may finish
    // the crossings it is in: count no more than the few that were under way).
    expect((await count("transitions")) - transitions).toBeLessThan(50);
    await page.getByTestId("resume").click();
    expect(await text("last-call")).toBe("host.resumeRuntime() → S_OK");
    const after = await count("transitions");
    expect(
      await until(
        () => count("transitions"),
        (n) => n > after + 100,
      ),
    ).toBeGreaterThan(after + 100);
  });

  it("a page that is not cross-origin isolated says why threads are off, and runs on one host", async () => {
    await open(`${plain.url}?threads=2`);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
    expect(await text("threads-why")).toMatch(
      /^Threads are off: .*not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp.*\(HOST_E_CLRNOTAVAILABLE: createSharedCore: /,
    );
    // The choices that need threads are offered no more.
    expect(await page.locator('[data-testid="threads"] option:not([disabled])').allTextContents()).toEqual([
      "1 (one host)",
    ]);
    expect(await page.getByTestId("threads").inputValue()).toBe("1");
    expect(
      await until(
        () => count("transitions"),
        (n) => n > 0,
      ),
    ).toBeGreaterThan(0);
  });
});
