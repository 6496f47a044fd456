// npm run bench:browser [-- --quick] [-- --suite NAME,...]: the suites of bench/suites.js in headless
// Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH), driven by Playwright against the page
// bench/browser/index.html served by bench/server.js on 127.0.0.1. Each run of a suite is a
// fresh page load in a new browser context (its own renderer process), one at a time.
// Writes bench/results/chromium.{json,md,svg} (a --quick run writes to bench/.tmp/results-quick/).

import { existsSync } from "node:fs";
import { writeDocs } from "../scripts/docs.mjs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright";
import { chromiumArgs, chromiumPath } from "../scripts/chromium.mjs";
import { serve } from "./server.js";
import { snapshot } from "./snapshot.js";
import { schedule, writeResults, provenance } from "./report.js";
import { cpuTimes, otherCores, descendantsRss, waitForQuiet } from "./proc.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const suiteArg = args.indexOf("--suite");
const only = suiteArg >= 0 ? args[suiteArg + 1].split(",") : null;
const outDir = quick || only ? join(here, ".tmp", "results-quick") : join(here, "results");

const executablePath = chromiumPath;
if (!existsSync(executablePath)) {
  console.error(
    `bench:browser needs Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH); Playwright's own browsers are not downloaded.`,
  );
  process.exit(1);
}

// Taken now, right after the build: the sources (and dist/) may move on while the benchmark runs.
const source = provenance(root);
const server = await serve(snapshot(root, "chromium"), root);
const browser = await chromium.launch({
  executablePath,
  args: [
    "--headless",
    ...chromiumArgs,
    // For the parked-fibers case: exact performance.memory values, and gc() to settle the heap first.
    "--enable-precise-memory-info",
    "--js-flags=--expose-gc",
  ],
});

/** One fresh page load running `suite`; answers its raw results. */
async function runPage(suite) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let settle;
    const done = new Promise((resolve) => (settle = resolve));
    await page.exposeFunction("benchDone", (json) => settle(JSON.parse(json)));
    // The page cannot see its RSS: the runner reads the browser's processes' RSS from /proc for it.
    await page.exposeFunction("benchRss", () => descendantsRss());
    page.on("console", (m) => console.log(m.text()));
    page.on("pageerror", (err) => settle({ error: String(err?.stack ?? err) }));
    page.on("crash", () => settle({ error: "the page crashed" }));
    const url = `${server.url}/bench/browser/index.html?suite=${encodeURIComponent(suite)}${quick ? "&quick" : ""}`;
    await page.goto(url);
    let timer;
    const result = await Promise.race([
      done,
      new Promise((resolve) => (timer = setTimeout(() => resolve({ error: "timed out after 10 minutes" }), 600_000))),
    ]);
    clearTimeout(timer);
    if (result.error) throw new Error(`bench:browser: suite ${suite}: ${result.error}`);
    return result;
  } finally {
    await context.close();
  }
}

/** Retries of a page load that something else shared the machine with (beyond QUIET cores). */
const QUIET = 0.3;
// --retries N: on a machine that is never quiet (shared CI), retrying only multiplies the run's length;
// the interference stays recorded per process either way.
const retriesArg = args.indexOf("--retries");
const RETRIES = retriesArg >= 0 ? Number(args[retriesArg + 1]) : quick ? 0 : 2;
/** How long the whole run may wait for quiet, in ms: past that it measures anyway (and says so). */
let waitBudget = quick ? 10_000 : 180_000;
const started = performance.now();
const runs = [];
let userAgent = "";
let isolated = true;
const order = schedule(quick, only, "chromium");
try {
  for (const [i, { round, suite }] of order.entries()) {
    for (let attempt = 0; ; attempt++) {
      const quiet = await waitForQuiet(QUIET, Math.min(30_000, waitBudget));
      waitBudget -= quiet.waitedMs;
      if (quiet.waitedMs > 1000)
        console.log(`  waited ${(quiet.waitedMs / 1000).toFixed(0)} s for the machine to be quiet`);
      console.log(
        `[${i + 1}/${order.length}] chromium, suite ${suite}, page load ${round + 1}${attempt ? ` (again: ${attempt})` : ""}`,
      );
      const before = cpuTimes();
      const result = await runPage(suite);
      const after = cpuTimes();
      const others = otherCores(before, after);
      result.interference = { round, otherCores: others, attempts: attempt + 1 };
      if (others !== undefined && others > QUIET) {
        console.log(`  note: other work used ${others.toFixed(2)} cores meanwhile`);
        if (attempt < RETRIES) continue;
      }
      userAgent = result.userAgent;
      // bench/server.js sends COOP/COEP: without them the timer is coarse (100 µs) and the suites
      // across workers have no SharedArrayBuffer. Said at once, and recorded with the results.
      if (!result.crossOriginIsolated && isolated)
        console.log("  note: the page was not cross-origin isolated (COOP/COEP missing): no SharedArrayBuffer");
      isolated &&= result.crossOriginIsolated;
      runs.push(result);
      break;
    }
  }
} finally {
  const version = browser.version();
  await browser.close();
  await server.close();
  // A run cut short leaves bench/results alone: its partial results go to bench/.tmp/results-partial.
  const complete = runs.length === order.length;
  if (runs.length) {
    const dir = complete ? outDir : join(here, ".tmp", "results-partial");
    const r = writeResults(dir, runs, {
      engine: "chromium",
      engineVersion: `Chromium ${version} (headless, ${executablePath})`,
      cpu: cpus()[0].model,
      date: new Date().toISOString(),
      quick,
      extra: { source, userAgent, crossOriginIsolated: isolated },
    });
    console.log(
      `\n${r.targets.map((t) => `${t.pass === null ? "—   " : t.pass ? "pass" : "MISS"}  ${t.name}: ${t.value === null ? "not measured" : t.value.toPrecision(3)} (${t.limit === null ? "no limit here" : `${t.op} ${t.limit}`})`).join("\n")}`,
    );
    console.log(
      `\nwrote ${join(dir, "chromium.{json,md,svg}")}${complete ? "" : ` (partial: ${runs.length} of ${order.length} page loads)`} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    if (complete && !quick && !only) writeDocs();
  }
}
