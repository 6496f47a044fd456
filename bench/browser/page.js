// The browser side of `npm run bench:browser`: one page load runs one suite of bench/suites.js
// (?suite=NAME[&quick]) and hands its raw results to the runner (bench/run-browser.js).

import { runSuite } from "../harness.js";

const params = new URLSearchParams(location.search);
const suite = params.get("suite");
const quick = params.has("quick");
const logEl = document.getElementById("log");
const lines = [];

const env = {
  quick,
  now: () => performance.now(),
  // With --js-flags=--expose-gc (the runner passes it), gc() settles the heap before a memory reading.
  gc:
    typeof globalThis.gc === "function"
      ? () => {
          globalThis.gc();
          globalThis.gc();
        }
      : undefined,
  // Chromium's performance.memory (precise with --enable-precise-memory-info): the JS heap only;
  // and, from the runner, the RSS of the browser's processes (this page's renderer among them).
  memory: async () => ({
    heap: /** @type {any} */ (performance).memory?.usedJSHeapSize, // Chromium only
    browserRss: (await globalThis.benchRss?.()) ?? undefined,
  }),
  log: (message) => {
    lines.push(message);
    console.log(message);
  },
};

async function main() {
  try {
    const result = await runSuite(suite, env);
    result.crossOriginIsolated = globalThis.crossOriginIsolated === true;
    result.userAgent = navigator.userAgent;
    logEl.textContent = lines.join("\n");
    await globalThis.benchDone(JSON.stringify(result));
  } catch (err) {
    logEl.textContent = String(err?.stack ?? err);
    await globalThis.benchDone(JSON.stringify({ error: String(err?.stack ?? err) }));
  }
}

// Let the load settle first: the runner's exposed function must be in place.
setTimeout(main, 50);
