// The demo page end to end: built with Vite, served on 127.0.0.1, driven in Debian's Chromium
// through Playwright. Presses the controls and checks what the page shows; saves screenshots to
// test-artifacts/ (git-ignored). Node only: it launches the browser itself.

import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright";
import { build } from "vite";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chromiumArgs, chromiumPath } from "../../scripts/chromium.mjs";
import { serveStatic, type StaticServer } from "./static-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts`;

let server: StaticServer;
let browser: Browser;
let page: Page;
/** What the current page reported: uncaught errors, console errors and warnings. */
let pageErrors: string[] = [];
/** Fiber failures the current test expects (the catastrophic failure's): their error names. */
let expectedFailures: RegExp | null = null;

/** A counter's value, as the page shows it (digits with thousands separators). */
async function count(id: string): Promise<number> {
  const text = (await page.getByTestId(id).textContent()) ?? "";
  return Number(text.replace(/,/g, "").split(" ")[0]);
}

/** A counter of the form "a / b[ / c]", as numbers. */
async function counts(id: string): Promise<number[]> {
  const text = (await page.getByTestId(id).textContent()) ?? "";
  return text.split(" / ").map((part) => Number(part.replace(/,/g, "")));
}

/** The page's fibers, read in one go (one update() of the page wrote them all). */
async function fibers(): Promise<{
  alive: number;
  spawned: number;
  finished: number;
  aborted: number;
  failed: number;
}> {
  // One evaluate, in one turn of the page's event loop: three separate reads could straddle an
  // update() and disagree (a CI run read 885 ended against 930 spawned − alive).
  const [aliveText, spawnedText, endedText] = await page.evaluate(() =>
    ["alive", "spawned", "ended"].map((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ""),
  );
  const number = (part: string): number => Number(part.replace(/,/g, "").split(" ")[0]);
  const [alive, spawned] = [number(aliveText!), number(spawnedText!)];
  const [finished, aborted, failed] = endedText!.split(" / ").map(number);
  return { alive: alive!, spawned: spawned!, finished: finished!, aborted: aborted!, failed: failed! };
}

/** The fibers' failures by error name, as the page's scenario counted them. */
function failures(): Promise<Record<string, number>> {
  return page.evaluate(
    () =>
      (
        globalThis as unknown as {
          fiberhostDemo: { scenario: { summary(): { fibers: { failures: Record<string, number> } } } };
        }
      ).fiberhostDemo.scenario.summary().fibers.failures,
  );
}

/**
 * The transition balance, at one instant of the page (page.evaluate runs between the scheduler's
 * slices): the LeaveRuntimes not yet matched by an EnterRuntime are exactly the leave frames the
 * live tasks hold open, and the same for reverse enters (less those the core counted unmatched).
 */
function balance(): Promise<{ leaves: number[]; reverseEnters: number[] }> {
  return page.evaluate(() => {
    type Counters = Record<
      "leaveRuntime" | "enterRuntime" | "reverseEnterRuntime" | "reverseLeaveRuntime" | "unmatchedReverseEnter",
      number
    >;
    const host = (
      globalThis as unknown as {
        fiberhostDemo: {
          scenario: { host: { counters(): Counters; dump(): { frames: { kind: string }[] }[] } };
        };
      }
    ).fiberhostDemo.scenario.host;
    const c = host.counters();
    let leave = 0;
    let reverse = 0;
    for (const d of host.dump()) for (const f of d.frames) f.kind === "leave" ? leave++ : reverse++;
    return {
      leaves: [c.leaveRuntime - c.enterRuntime, leave],
      reverseEnters: [c.reverseEnterRuntime - c.reverseLeaveRuntime - c.unmatchedReverseEnter, reverse],
    };
  });
}

/** Waits until `read()` satisfies `ok`, up to `ms`; answers the last value read. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await page.waitForTimeout(100);
    v = await read();
  }
  return v;
}

beforeAll(async () => {
  // `npm test` has built the core (and the example guest) already.
  // (Errors only: a loaded machine gets a warning about slow plugins, which is not the page's concern.)
  await build({ configFile: `${ROOT}web/vite.config.ts`, logLevel: "error" });
  server = await serveStatic(`${ROOT}web/dist`);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

// Each test has a page of its own: none depends on what an earlier one pressed.
beforeEach(async () => {
  pageErrors = [];
  expectedFailures = null;
  page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
  page.on("pageerror", (err) => pageErrors.push(`uncaught: ${String(err)}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") pageErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
}, 60_000);

// A fiber that failed (other than the test expects), or anything the page logged as an error,
// fails the test.
afterEach(async () => {
  try {
    const failed = Object.entries(await failures()).filter(([name]) => !expectedFailures?.test(name));
    expect(failed, "fibers that failed in the page").toEqual([]);
    expect(pageErrors, "errors the page reported").toEqual([]);
  } finally {
    await page.close();
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the demo page", () => {
  it("is cross-origin isolated (served with COOP/COEP): workers may share its memory", async () => {
    const isolated = await page.evaluate(
      () =>
        (globalThis as unknown as { fiberhostDemo: { crossOriginIsolated: boolean } }).fiberhostDemo
          .crossOriginIsolated,
    );
    expect(isolated).toBe(true);
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe("function");
  });

  it("runs the scenario: fibers are alive and the counters move", async () => {
    const first = await until(
      () => count("transitions"),
      (n) => n > 0,
    );
    expect(first).toBeGreaterThan(0);
    const later = await until(
      () => count("transitions"),
      (n) => n > first,
    );
    expect(later).toBeGreaterThan(first);
    expect(
      await until(
        () => count("alive"),
        (n) => n >= 500,
      ),
    ).toBeGreaterThanOrEqual(500);
    expect(await page.getByTestId("runtime").textContent()).toBe("runtime running");
    // Requests block inside the guest (a host_fetch that answers a promise) while others run.
    expect(
      await until(
        () => count("blocked"),
        (n) => n > 0,
      ),
    ).toBeGreaterThan(0);
    // Fibers end, by returning or by the supervisor's aborts; none fails. Every fiber that is no
    // longer alive is counted once, by how it ended.
    const ended = await until(fibers, (f) => f.finished > 0 && f.aborted > 0);
    expect(ended.finished).toBeGreaterThan(0);
    expect(ended.aborted).toBeGreaterThan(0);
    expect(ended.failed).toBe(0);
    expect(ended.finished + ended.aborted + ended.failed).toBe(ended.spawned - ended.alive);
    // The transitions balance against the frames the live fibers hold open.
    for (let i = 0; i < 3; i++) {
      const b = await balance();
      expect(b.leaves[0], "LeaveRuntime − EnterRuntime = open leave frames").toBe(b.leaves[1]);
      expect(b.reverseEnters[0], "ReverseEnter − ReverseLeave − unmatched = open reverse frames").toBe(
        b.reverseEnters[1],
      );
      await page.waitForTimeout(200);
    }
  });

  it("a suspension holds managed fibers: none runs managed code until the resume", async () => {
    await page.getByTestId("suspend").click();
    await expect
      .poll(() => page.getByTestId("last-call").textContent())
      .toMatch(/^host\.suspendRuntime\(\) → S_(OK|FALSE)$/);
    expect(await page.getByTestId("runtime").textContent()).toBe("runtime suspended (by hand)");
    const held = await until(
      () => count("held"),
      (n) => n > 0,
    );
    expect(held).toBeGreaterThan(0);
    // Held fibers make no transition: the totals stand still while the runtime is suspended.
    await page.waitForTimeout(300);
    const frozen = await count("transitions");
    await page.waitForTimeout(700);
    expect(await count("transitions")).toBe(frozen);
    expect(await count("held")).toBeGreaterThan(0);
    const b = await balance(); // the held fibers' frames stay open, counted
    expect(b.leaves[0]).toBe(b.leaves[1]);
    expect(b.reverseEnters[0]).toBe(b.reverseEnters[1]);
    // The probe's synchronous reverse enter on the root task cannot wait: HOST_E_TIMEOUT at once.
    await expect.poll(() => page.getByTestId("probe-enter").textContent(), { timeout: 3000 }).toBe("HOST_E_TIMEOUT");
    await page.screenshot({ path: `${ARTIFACTS}/demo-page-suspended.png` });

    await page.getByTestId("resume").click();
    await expect.poll(() => page.getByTestId("last-call").textContent()).toBe("host.resumeRuntime() → S_OK");
    expect(
      await until(
        () => count("transitions"),
        (n) => n > frozen,
      ),
    ).toBeGreaterThan(frozen);
  });

  it("spawns 1,000 fibers, alerts one and aborts one", async () => {
    const spawned = await count("spawned");
    await page.getByTestId("spawn").click();
    expect(await count("spawned")).toBeGreaterThanOrEqual(spawned + 1000);
    await page.getByTestId("alert").click();
    await expect.poll(() => page.getByTestId("last-call").textContent()).toMatch(/\.alert\(\) → S_OK$/);
    // A click on a lane's name picks its fiber for Alert (a fiber may end in between: a few tries).
    let alerted = false;
    for (let attempt = 0; attempt < 5 && !alerted; attempt++) {
      const label = page.locator("#lane-labels div").nth(3 + attempt);
      await label.click();
      const name = await label.textContent();
      await page.getByTestId("alert").click();
      alerted = (await page.getByTestId("last-call").textContent()) === `${name}.alert() → S_OK`;
      await label.click(); // unselect
    }
    expect(alerted).toBe(true);
    // The Abort button's own abort (the supervisor aborts fibers anyway: the page counts the
    // button's apart, by the reason it gives): answered S_OK, so delivered.
    expect(await counts("button-aborts")).toEqual([0, 0]);
    await page.getByTestId("abort").click();
    await expect.poll(() => page.getByTestId("last-call").textContent()).toMatch(/\.abort\(\) → S_OK$/);
    await expect.poll(() => counts("button-aborts"), { timeout: 10_000 }).toEqual([1, 1]);
  });

  it("stays responsive with thousands of fibers: no task holds the page up for long", async () => {
    // The first wave arrives, then a thousand more on top of it.
    await until(
      () => count("alive"),
      (n) => n >= 1500,
    );
    await page.getByTestId("spawn").click();
    expect(
      await until(
        () => count("alive"),
        (n) => n >= 2000,
      ),
    ).toBeGreaterThanOrEqual(2000);
    // A fresh page's first seconds hold its compiles and the thousand spawns (one click handler):
    // the page at work is measured, as it was when an earlier test had warmed it up.
    await page.waitForTimeout(3000);
    // The longest gap between timer callbacks over a second: the scheduler's slices in between.
    const longestGapMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let last = performance.now();
          let longest = 0;
          const end = last + 1000;
          const tick = (): void => {
            const now = performance.now();
            longest = Math.max(longest, now - last);
            last = now;
            if (now < end) setTimeout(tick, 0);
            else resolve(longest);
          };
          setTimeout(tick, 0);
        }),
    );
    // (Tens of ms when the machine is quiet; the bound leaves room for a test run sharing its cores.)
    expect(longestGapMs).toBeLessThan(400);
  });

  it("runs the transition benchmark and draws it beside the floor", async () => {
    await page.getByTestId("bench").click();
    await page.waitForSelector("[data-testid=bench-chart][data-done=true]", { timeout: 30_000 });
    const cases = await page
      .locator("[data-testid=bench-chart] g[data-case]")
      .evaluateAll((gs) => gs.map((g) => g.textContent?.replace(/\s+/g, " ").trim()));
    expect(cases).toHaveLength(4);
    expect(cases[0]).toMatch(/^floor: two empty wasm calls [\d.]+ ns$/);
    expect(cases[1]).toMatch(/^ReverseEnter \+ ReverseLeave [\d.]+ ns \([\d.]+×\)$/);
    expect(cases[2]).toMatch(/^LeaveRuntime \+ EnterRuntime [\d.]+ ns \([\d.]+×\)$/);
    expect(cases[3]).toMatch(/^fiber switch \(yield f\.yield\(\)\) [\d.]+ ns/);
    await page.waitForTimeout(1500); // a little more history in the lanes for the picture
    await page.screenshot({ path: `${ARTIFACTS}/demo-page.png` });
  });

  it("saves the page's trace as Chrome trace-event JSON, for Perfetto", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("save-trace").click()]);
    expect(download.suggestedFilename()).toBe("fiberhost-trace.json");
    const path = `${ARTIFACTS}/demo-page-trace.json`;
    await download.saveAs(path);
    const trace = JSON.parse(readFileSync(path, "utf8")) as { traceEvents: { name: string; ph: string }[] };
    const names = new Set(trace.traceEvents.map((e) => e.name));
    for (const name of [
      "thread_name",
      "running",
      "LeaveRuntime",
      "EnterRuntime",
      "ReverseEnterRuntime",
      "ReverseLeaveRuntime",
    ]) {
      expect(names).toContain(name);
    }
    expect(await page.getByTestId("last-call").textContent()).toMatch(
      /^host\.trace\.toChromeTrace\(\) → [\d,]+ events saved/,
    );
  });

  it("after a catastrophic failure every call answers HOST_E_CLRNOTAVAILABLE", async () => {
    await until(
      () => count("alive"),
      (n) => n >= 500,
    );
    // The fibers caught in the middle fail with the disabled runtime's answer (or their closed
    // sync object's): those, and only those, are expected.
    expectedFailures = /^(HOST_E_CLRNOTAVAILABLE|HOST_E_ABANDONED)$/;
    await page.getByTestId("fail").click();
    expect(await page.getByTestId("last-call").textContent()).toMatch(/→ E_FAIL, then HOST_E_CLRNOTAVAILABLE$/);
    expect(await page.getByTestId("runtime").textContent()).toBe("runtime disabled: HOST_E_CLRNOTAVAILABLE");
    await expect
      .poll(() => page.getByTestId("probe-current").textContent(), { timeout: 3000 })
      .toBe("HOST_E_CLRNOTAVAILABLE");
    expect(await page.getByTestId("probe-enter").textContent()).toBe("HOST_E_CLRNOTAVAILABLE");
    expect(await page.getByTestId("probe-hook").textContent()).toBe("HOST_E_CLRNOTAVAILABLE");
    for (const [control, call] of [
      ["spawn", /^host\.spawn\(\) .* → HOST_E_CLRNOTAVAILABLE$/],
      ["suspend", /^host\.suspendRuntime\(\) → HOST_E_CLRNOTAVAILABLE$/],
      ["resume", /^host\.resumeRuntime\(\) → HOST_E_CLRNOTAVAILABLE$/],
    ] as const) {
      await page.getByTestId(control).click();
      expect(await page.getByTestId("last-call").textContent()).toMatch(call);
    }
    // The fibers unwind: none is left alive, and the page still answers.
    expect(
      await until(
        () => count("alive"),
        (n) => n === 0,
      ),
    ).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/demo-page-failed.png` });
  });
});
