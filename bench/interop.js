// Standalone runner for bench/interop-cases.js: each case in several fresh Node processes (or
// fresh Chromium pages with --browser; a warm-up, then samples sized to ~40 ms), the median ns per
// operation over processes, and the ratios taken within each process. The cases measure dist/,
// the built package. Usage: npm run build && node bench/interop.js [processes] [--browser]
// Writes bench/results/interop-{node,chromium}.json, which the README's interop costs are
// generated from (`<!-- gen bench interop-node case "…" -->`, scripts/docs.mjs).

import { EXTERNAL_CASES, INTEROP_CASES, INTEROP_RATIOS as RATIOS } from "./interop-cases.js";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Measures the cases in this process: { name: ns per op }. The external (QuickJS) cases run in
 * processes of their own (`--worker external`): beside the plain guests they slow those down.
 */
export async function measureAll(now = () => performance.now(), cases = INTEROP_CASES) {
  const out = {};
  for (const c of cases) {
    const inst = await c.setup();
    const per = c.opsPerIter ?? 1;
    let iterations = 0;
    let sink = 0;
    const time = async (n) => {
      const t0 = now();
      sink += await inst.run(n);
      iterations += n;
      return now() - t0;
    };
    let n = 1;
    while ((await time(n)) < 10 && n < 1 << 30) n *= 2; // calibrate
    // Warm up for 200 ms: a case first in its process (the QuickJS cases, in processes of their
    // own) otherwise measures its cold start (75 µs a host call against 5 µs warm).
    for (let spent = 0; spent < 200; ) spent += await time(n);
    const ms = await time(n);
    n = Math.max(1, Math.round((n * 40) / Math.max(ms, 0.01)));
    const samples = [];
    for (let i = 0; i < 7; i++) samples.push(((await time(n)) * 1e6) / (n * per));
    inst.verify(iterations, sink);
    out[c.name] = median(samples);
  }
  return out;
}

/** What scripts/docs.mjs reads (the shape of bench/results/<engine>.json's cases and ratios). */
export function results(runs, engine, engineVersion, source) {
  const cases = Object.keys(runs[0]).map((name) => ({
    name,
    medianNs: median(runs.map((r) => r[name])),
    runMediansNs: runs.map((r) => r[name]),
  }));
  const ratios = {};
  const ratioRuns = {};
  for (const [what, a, b] of RATIOS) {
    if (!(a in runs[0]) || !(b in runs[0])) continue;
    ratioRuns[what] = runs.map((r) => r[a] / r[b]);
    ratios[what] = median(ratioRuns[what]);
  }
  const method = "each case in its own fresh process or page load, in turn: medians over them; ratios within each";
  return {
    engine,
    engineVersion,
    date: new Date().toISOString(),
    processes: runs.length,
    method,
    source,
    cases,
    ratios,
    ratioRuns,
  };
}

/** The table: medians over processes, and each ratio's median over its per-process values. */
export function report(runs, label) {
  const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);
  const lines = [`${label}: ${runs.length} processes, median ns per operation`, ""];
  for (const name of Object.keys(runs[0]))
    lines.push(`  ${fmt(median(runs.map((r) => r[name]))).padStart(10)}  ${name}`);
  lines.push("");
  for (const [what, a, b] of RATIOS) {
    if (!(a in runs[0]) || !(b in runs[0])) continue;
    const ratios = runs.map((r) => r[a] / r[b]);
    const diffs = runs.map((r) => r[a] - r[b]);
    lines.push(`  ${what}: ${median(ratios).toFixed(2)}× (+${fmt(median(diffs))})`);
  }
  return lines.join("\n");
}

/** Chromium pages, each a fresh renderer: serves bench/, dist/ and the guest's bytes on 127.0.0.1. */
async function browserRuns(count) {
  const { createServer } = await import("node:http");
  const { readFile } = await import("node:fs/promises");
  const { chromium } = await import("playwright");
  const { chromiumArgs, chromiumPath } = await import("../scripts/chromium.mjs");
  const root = new URL("../", import.meta.url);
  const allowed = [
    "bench/interop",
    "bench/cases/",
    "dist/",
    "examples/c-guest/generated/",
    "node_modules/@assemblyscript/loader/",
  ];
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname.slice(1);
    const headers = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
    if (path === "interop.html") {
      res.writeHead(200, { ...headers, "content-type": "text/html" });
      res.end(
        `<script type="importmap">{ "imports": { "@assemblyscript/loader": "/node_modules/@assemblyscript/loader/index.js" } }</script><script type="module">import { measureAll } from "/bench/interop.js"; measureAll().then((r) => (window.result = r), (e) => (window.result = { error: String(e.stack) }));</script>`,
      );
      return;
    }
    if (path.includes("..") || !allowed.some((a) => path.startsWith(a))) return void res.writeHead(404).end();
    try {
      const body = await readFile(new URL(path, root));
      res.writeHead(200, {
        ...headers,
        "content-type": path.endsWith(".js") ? "text/javascript" : "application/octet-stream",
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${port}/interop.html`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const runs = [];
  try {
    for (let i = 0; i < count; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on("pageerror", (e) => console.error("page error:", e.message));
      await page.goto(url);
      await page.waitForFunction(() => /** @type {any} */ (window).result !== undefined, null, { timeout: 300_000 });
      const r = await page.evaluate(() => /** @type {any} */ (window).result);
      await context.close();
      if (r.error) throw new Error(r.error);
      runs.push(r);
    }
    return { runs, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

const isMain =
  typeof process !== "undefined" &&
  process.argv?.[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].split("/").pop());
if (isMain) {
  const { fileURLToPath } = await import("node:url");
  const { execFileSync } = await import("node:child_process");
  const self = fileURLToPath(import.meta.url);
  if (process.argv[2] === "--worker") {
    const cases = process.argv[3] === "external" ? EXTERNAL_CASES : INTEROP_CASES;
    process.stdout.write(JSON.stringify(await measureAll(undefined, cases)));
    process.exit(0);
  }
  const { writeFileSync } = await import("node:fs");
  const { provenance } = await import("./report.js");
  const root = fileURLToPath(new URL("../", import.meta.url));
  const source = provenance(root);
  const processes = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 5);
  const write = (engine, r) => {
    const file = new URL(`results/interop-${engine}.json`, import.meta.url);
    writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    console.log(`\nwrote ${fileURLToPath(file)}`);
  };
  if (process.argv.includes("--browser")) {
    const { runs, version } = await browserRuns(processes);
    console.log(report(runs, `Chromium ${version}`));
    write("chromium", results(runs, "chromium", `Chromium ${version}`, source));
  } else {
    const runs = [];
    const worker = (...args) =>
      JSON.parse(execFileSync(process.execPath, [self, "--worker", ...args], { encoding: "utf8" }));
    for (let p = 0; p < processes; p++) runs.push({ ...worker(), ...worker("external") });
    console.log(report(runs, `Node ${process.version}`));
    const v8 = process.versions.v8;
    write("node", results(runs, "node", `Node ${process.version} (V8 ${v8})`, source));
  }
}
