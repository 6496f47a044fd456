// Issue 20, item 8: the demo page's rough edges, end to end (built with Vite, served on 127.0.0.1,
// driven in Debian's Chromium through Playwright, as demo-page.node.test.ts does, with the same
// static server): a click on a lane's name selects that fiber, not the lane; a bad ?fibers= is
// shown, and the default used; lane labels survive a catastrophic failure. Node only.

import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumArgs, chromiumPath } from "../../scripts/chromium.mjs";
import { serveStatic, type StaticServer } from "./static-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts`;

let server: StaticServer;
let browser: Browser;
const pageErrors: string[] = [];

/** A page on the demo, with `query`, once it is ready. The caller closes it. */
async function open(query = ""): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  await page.goto(`${server.url}${query}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return page;
}

beforeAll(async () => {
  // `npm test` has built the core (and the example guest) already.
  await build({ configFile: `${ROOT}web/vite.config.ts`, logLevel: "warn" });
  server = await serveStatic(`${ROOT}web/dist`);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The name of the fiber the page has selected (null: none), read from the page's lanes. */
const selection = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { fiberhostDemo: { lanes: { selection: { name: string } | null } } }).fiberhostDemo
        .lanes.selection?.name ?? null,
  );

describe("the demo page's lanes and parameters", () => {
  it("a click on a lane's name selects its fiber: once that fiber ends, Alert says so and alerts no other", async () => {
    const page = await open();
    try {
      // Lanes fill within a few samples; a fiber may end between reading its name and the click,
      // or soon after (its lane then shows the next fiber, unmarked): read both at once.
      let name: string | null = null;
      for (let attempt = 0; attempt < 10 && name === null; attempt++) {
        const label = page.locator("#lane-labels div").nth(2 + attempt);
        const text = await label.textContent();
        await label.click();
        const { selected, marked } = await page.evaluate(() => ({
          selected:
            (globalThis as unknown as { fiberhostDemo: { lanes: { selection: { name: string } | null } } })
              .fiberhostDemo.lanes.selection?.name ?? null,
          marked: Array.from(document.querySelectorAll("#lane-labels div.selected"), (e) => e.textContent),
        }));
        if (text !== "—" && selected === text && marked.length === 1 && marked[0] === text) name = text;
        else if (selected !== null) await label.click(); // unselect a fiber that just took the lane
      }
      expect(name).not.toBeNull();
      // The selected fiber ends (aborted from the console, so that no click races its end)...
      await page.evaluate(() => {
        const demo = (globalThis as unknown as { fiberhostDemo: { lanes: { selection: { abort(): number } } } })
          .fiberhostDemo;
        demo.lanes.selection.abort();
      });
      await expect
        .poll(
          () =>
            page.evaluate(
              () =>
                (globalThis as unknown as { fiberhostDemo: { lanes: { selection: { done: boolean } | null } } })
                  .fiberhostDemo.lanes.selection?.done,
            ),
          { timeout: 10_000 },
        )
        .toBe(true);
      // ...and its lane goes to the next fiber; Alert does not act on that one.
      await page.waitForTimeout(300);
      await page.getByTestId("alert").click();
      expect(await page.getByTestId("last-call").textContent()).toBe(
        `${name}.alert() → not called: ${name} has ended; click a name to pick another fiber`,
      );
      expect(await selection(page)).toBeNull();
      // With nothing selected, Alert acts on the first lane's fiber again.
      await page.getByTestId("alert").click();
      await expect.poll(() => page.getByTestId("last-call").textContent()).toMatch(/\.alert\(\) → S_OK$/);
    } finally {
      await page.close();
    }
  });

  for (const bad of ["abc", "-5", "1.5", "100001"]) {
    it(`?fibers=${bad} is shown as not a valid population, and the default (2,000) is used`, async () => {
      const page = await open(`?fibers=${bad}`);
      try {
        const notice = page.getByTestId("notice");
        expect(await notice.isVisible()).toBe(true);
        expect(await notice.textContent()).toBe(
          `?fibers=${bad} is not a whole number from 1 to 100,000: using the default, 2,000.`,
        );
        const population = await page.evaluate(
          () =>
            (globalThis as unknown as { fiberhostDemo: { scenario: { total: number } } }).fiberhostDemo.scenario.total,
        );
        expect(population).toBe(2000);
        if (bad === "abc") await page.screenshot({ path: `${ARTIFACTS}/demo-page-bad-parameter.png` });
      } finally {
        await page.close();
      }
    });
  }

  it("a valid ?fibers= shows no notice and is used", async () => {
    const page = await open("?fibers=300");
    try {
      expect(await page.getByTestId("notice").isVisible()).toBe(false);
      const population = await page.evaluate(
        () =>
          (globalThis as unknown as { fiberhostDemo: { scenario: { total: number } } }).fiberhostDemo.scenario.total,
      );
      expect(population).toBe(300);
    } finally {
      await page.close();
    }
  });

  it("suspended by hand, the probe's HOST_E_TIMEOUT says why; a second Suspend's S_FALSE says why", async () => {
    const page = await open("?fibers=300");
    try {
      await page.getByTestId("suspend").click();
      await page.getByTestId("suspend").click();
      expect(await page.getByTestId("last-call").textContent()).toBe("host.suspendRuntime() → S_FALSE");
      expect(await page.getByTestId("last-why").textContent()).toBe(
        "S_FALSE: the runtime is suspended already (by this button); Resume first",
      );
      await expect.poll(() => page.getByTestId("probe-enter").textContent(), { timeout: 3000 }).toBe("HOST_E_TIMEOUT");
      await expect
        .poll(() => page.getByTestId("probe-why").textContent(), { timeout: 3000 })
        .toBe(
          "HOST_E_TIMEOUT: the runtime is suspended (by hand: Resume ends it), and the root task may not wait to enter it.",
        );
      await page.getByTestId("resume").click();
      expect(await page.getByTestId("last-why").isVisible()).toBe(false);
      // Resumed, the scenario's collector stops the world again (COLLECT_PAUSE_MS of every
      // COLLECT_EVERY_MS, src/demo/background.ts: about a third of the time): a probe, one a
      // second, lands in a pause that often, and a loaded CI machine saw three in a row.
      await expect.poll(() => page.getByTestId("probe-enter").textContent(), { timeout: 10_000 }).toBe("S_OK");
    } finally {
      await page.close();
    }
  });

  it("after a catastrophic failure the lanes keep their fibers' names, shown as ended", async () => {
    const page = await open();
    try {
      // Every lane has had a fiber (the population ramps up over the first seconds).
      await expect.poll(() => page.locator("#lane-labels div", { hasText: "—" }).count(), { timeout: 30_000 }).toBe(0);
      await page.getByTestId("fail").click();
      await expect.poll(() => page.locator("#lane-labels div.ended").count(), { timeout: 10_000 }).toBeGreaterThan(40);
      expect(await page.locator("#lane-labels div", { hasText: "—" }).count()).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/demo-page-failed-labels.png` });
    } finally {
      await page.close();
    }
  });

  it("threw no error in the pages", () => {
    expect(pageErrors).toEqual([]);
  });
});
