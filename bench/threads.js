// npm run bench:threads [-- PROCESSES] [-- --browser] [-- --case a,b] [-- --quick]: the runtime
// across workers (issue 22), each case of bench/threads-cases.js in fresh Node processes (or fresh
// Chromium pages, cross-origin isolated by bench/server.js's COOP/COEP), round-robin over the
// cases, one at a time, after waiting for the machine to be quiet. Measures a snapshot of dist/
// (bench/snapshot.js). Writes bench/results/threads-{node,chromium}.json (not with --case or
// --quick: those go to bench/.tmp/) and rewrites the README's generated blocks.
//
// `node bench/threads.js --case-in-process NAME` runs one case in this process and prints its JSON
// (what each fresh process does).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === "--case-in-process") {
  const { runCase } = await import("./threads-cases.js");
  const r = await runCase(args[1]);
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
}

if (args[0] === "--report") {
  // The figures again from the raw per-process results kept in results/threads-*.json (after a
  // change to threads-report.js only), and the README's blocks.
  const { readFileSync } = await import("node:fs");
  const { aggregate, toText } = await import("./threads-report.js");
  for (const engine of ["node", "chromium"]) {
    const file = join(here, "results", `threads-${engine}.json`);
    if (!existsSync(file)) continue;
    const { figures, raw, processesPerCase, ...meta } = JSON.parse(readFileSync(file, "utf8"));
    const r = aggregate(raw, meta);
    writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    console.log(`${toText(r)}\n`);
  }
  const { writeDocs } = await import("../scripts/docs.mjs");
  writeDocs();
  process.exit(0);
}

const { CASE_NAMES } = await import("./threads-case-names.js");
const { aggregate, toText } = await import("./threads-report.js");
const { snapshot } = await import("./snapshot.js");
const { provenance } = await import("./report.js");
const { cpuTimes, otherCores, waitForQuiet } = await import("./proc.js");

const root = join(here, "..");
const browser = args.includes("--browser");
const quick = args.includes("--quick");
const caseArg = args.indexOf("--case");
const only = caseArg >= 0 ? args[caseArg + 1].split(",") : null;
const processes = Number(args.find((a) => /^\d+$/.test(a)) ?? (quick ? 1 : 5));
const names = CASE_NAMES.filter((c) => !only || only.includes(c));
const outDir = quick || only ? join(here, ".tmp", "results-quick") : join(here, "results");
const engine = browser ? "chromium" : "node";
const QUIET = 0.3;
let waitBudget = quick ? 5_000 : 240_000;

const source = provenance(root);
const snap = snapshot(root, `threads-${engine}`);
const order = [];
for (let round = 0; round < processes; round++) for (const c of names) order.push({ round, name: c });

/** Runs `once(name)` for each entry of the order, after waiting for quiet; records the interference. */
async function runAll(once) {
  const runs = [];
  for (const [i, { round, name }] of order.entries()) {
    const quiet = await waitForQuiet(QUIET, Math.min(30_000, waitBudget));
    waitBudget -= quiet.waitedMs;
    console.log(`[${i + 1}/${order.length}] ${engine}, ${name}, run ${round + 1}`);
    const before = cpuTimes();
    let r;
    try {
      r = await once(name);
    } catch (err) {
      // A process that failed (a lost wake, a hang) is reported and left out of the figures.
      console.log(
        `  failed: ${String(err?.message ?? err)
          .split("\n")
          .slice(0, 3)
          .join(" ")}`,
      );
      r = { case: name, error: String(err?.message ?? err).slice(0, 2000) };
    }
    const others = otherCores(before, cpuTimes());
    r.interference = { round, otherCores: others, waitedMs: Math.round(quiet.waitedMs) };
    if (others !== undefined && others > QUIET)
      console.log(`  note: other work used ${others.toFixed(2)} cores meanwhile`);
    runs.push(r);
  }
  return runs;
}

let runs;
let engineVersion;
let coresSource;
if (!browser) {
  const script = join(snap, "bench", "threads.js");
  runs = await runAll(async (name) =>
    JSON.parse(
      execFileSync(process.execPath, [script, "--case-in-process", name], {
        encoding: "utf8",
        timeout: 300_000,
        stdio: ["ignore", "pipe", "pipe"],
      }),
    ),
  );
  engineVersion = `Node ${process.version} (V8 ${process.versions.v8})`;
  coresSource = "os.availableParallelism()";
} else {
  const { chromium } = await import("playwright");
  const { chromiumArgs, chromiumPath } = await import("../scripts/chromium.mjs");
  const { serve } = await import("./server.js");
  if (!existsSync(chromiumPath)) {
    console.error(`bench:threads --browser needs Chromium at ${chromiumPath} (or CHROMIUM_PATH)`);
    process.exit(1);
  }
  // Module workers do not see the page's import map: dist/'s one bare import is resolved by the server.
  const server = await serve(snap, root);
  const b = await chromium.launch({ executablePath: chromiumPath, args: ["--headless", ...chromiumArgs] });
  try {
    runs = await runAll(async (name) => {
      const context = await b.newContext();
      try {
        const page = await context.newPage();
        let settle;
        const done = new Promise((r) => (settle = r));
        await page.exposeFunction("benchDone", (json) => settle(JSON.parse(json)));
        page.on("pageerror", (e) => settle({ error: String(e?.stack ?? e) }));
        page.on("crash", () => settle({ error: "the page crashed" }));
        await page.goto(`${server.url}/bench/browser/threads.html?case=${encodeURIComponent(name)}`);
        let timer;
        const r = await Promise.race([
          done,
          new Promise((res) => (timer = setTimeout(() => res({ error: "timed out after 5 minutes" }), 300_000))),
        ]);
        clearTimeout(timer);
        if (r.error) throw new Error(`bench:threads --browser: ${name}: ${r.error}`);
        if (r.crossOriginIsolated !== true) throw new Error("the page was not cross-origin isolated");
        return r;
      } finally {
        await context.close();
      }
    });
    engineVersion = `Chromium ${b.version()}`;
  } finally {
    await b.close();
    await server.close();
  }
  coresSource = "navigator.hardwareConcurrency";
}

const failed = runs.filter((r) => r.error !== undefined);
runs = runs.filter((r) => r.error === undefined);
if (runs.length === 0) throw new Error("bench:threads: every process failed");
const result = aggregate(runs, {
  failed,
  engine,
  engineVersion,
  cores: runs[0].cores,
  coresSource,
  hostCores: availableParallelism(),
  cpu: cpus()[0]?.model ?? "unknown",
  date: new Date().toISOString(),
  method:
    "each case in its own fresh process (page load), round-robin over the cases, one at a time; figures are medians over processes of each process's figure",
  source,
});
console.log(`\n${toText(result)}`);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `threads-${engine}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${file}`);
if (!quick && !only) {
  const { writeDocs } = await import("../scripts/docs.mjs");
  writeDocs();
}
