// The demo page's start: the thread control (?threads=N) picks one host (1, the default: one-host.ts)
// or a pool of N workers on one shared runtime (2 … 31, or auto: threads-page.ts). Threads need a
// cross-origin-isolated page (web/vite.config.ts sends COOP/COEP); where it is not, the control
// says why, in createHost's own words, and the page runs on one host.

import threadsEntry from "virtual:fiberhost-threads-entry";
import { HResultError } from "../src/index.js";
import { createThreadsHost } from "../src/demo/threads-demo.js";

const params = new URLSearchParams(location.search);
const select = document.getElementById("threads") as HTMLSelectElement;
const why = document.getElementById("threads-why") as HTMLElement;

/** ?threads: 1 … 31 or auto; anything else is reported and 1 used. */
function threadsParam(): number | "auto" {
  const raw = params.get("threads");
  if (raw === null) return 1;
  if (raw === "auto") return "auto";
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 31) return n;
  const notice = document.getElementById("notice") as HTMLElement;
  notice.textContent = `?threads=${raw.slice(0, 20)} is not a whole number from 1 to 31 or auto: using one host.`;
  notice.hidden = false;
  return 1;
}

/**
 * Why threads are off, from createHost's rejection. Chromium hides SharedArrayBuffer on a page that
 * is not isolated, and createHost then names what is missing rather than the headers: the page
 * names them itself.
 */
function threadsOff(err: unknown): void {
  const said = err instanceof HResultError ? err.message : String(err);
  const isolation =
    globalThis.crossOriginIsolated === false
      ? "this page is not cross-origin isolated: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp. "
      : "";
  why.textContent = `Threads are off: ${isolation}(${said})`;
  why.hidden = false;
}

const asked = threadsParam();
for (const option of Array.from(select.options)) option.selected = option.value === String(asked);
select.onchange = () => {
  params.set("threads", select.value);
  location.search = params.toString();
};

let pool: Awaited<ReturnType<typeof createThreadsHost>> | null = null;
if (asked !== 1) {
  try {
    pool = await createThreadsHost(asked, threadsEntry);
  } catch (err) {
    threadsOff(err);
    for (const option of Array.from(select.options)) {
      option.selected = option.value === "1";
      option.disabled = option.value !== "1";
    }
  }
} else if (!globalThis.crossOriginIsolated) {
  // Asked for one host: say now why the other choices would not work here.
  await createThreadsHost(2, threadsEntry).catch((err: unknown) => {
    threadsOff(err);
    for (const option of Array.from(select.options)) option.disabled = option.value !== "1";
  });
}

if (pool !== null) {
  const { startThreadsPage } = await import("./threads-page.js");
  startThreadsPage(pool);
} else {
  // A used export: the build keeps the module (package.json says "sideEffects": false).
  const { demo } = await import("./one-host.js");
  if (demo.scenario === undefined) throw new Error("the demo page did not start");
}
