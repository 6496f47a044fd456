// npm run bench [-- --quick] [-- --suite NAME,...]: every suite of bench/suites.js, each in fresh
// Node processes (round-robin over the suites, one process at a time), against the built dist/.
// Writes bench/results/node.{json,md,svg} (a --quick run writes to bench/.tmp/results-quick/).

import { spawn } from "node:child_process";
import { writeDocs } from "../scripts/docs.mjs";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { schedule, writeResults, provenance } from "./report.js";
import { cpuTimes, otherCores, waitForQuiet } from "./proc.js";
import { snapshot } from "./snapshot.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const suiteArg = args.indexOf("--suite");
const only = suiteArg >= 0 ? args[suiteArg + 1].split(",") : null;
const outDir = quick || only ? join(here, ".tmp", "results-quick") : join(here, "results");
const tmp = join(here, ".tmp", "node-runs");
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });

function runWorker(suite, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", join(snap, "bench", "node-worker.js"), suite, out, ...(quick ? ["--quick"] : [])],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bench: suite ${suite} exited with ${code ?? signal}`)),
    );
  });
}

// Taken now, right after the build: the sources (and dist/) may move on while the benchmark runs.
const source = provenance(join(here, ".."));
const snap = snapshot(join(here, ".."));
const started = performance.now();
const order = schedule(quick, only);
const runs = [];
/** Retries of a process that something else shared the machine with (beyond QUIET cores). */
const QUIET = 0.3;
// --retries N: on a machine that is never quiet (shared CI), retrying only multiplies the run's length;
// the interference stays recorded per process either way.
const retriesArg = args.indexOf("--retries");
const RETRIES = retriesArg >= 0 ? Number(args[retriesArg + 1]) : quick ? 0 : 2;
/** How long the whole run may wait for quiet, in ms: past that it measures anyway (and says so). */
let waitBudget = quick ? 10_000 : 180_000;
for (const [i, { round, suite }] of order.entries()) {
  for (let attempt = 0; ; attempt++) {
    const quiet = await waitForQuiet(QUIET, Math.min(30_000, waitBudget));
    waitBudget -= quiet.waitedMs;
    if (quiet.waitedMs > 1000)
      console.log(`  waited ${(quiet.waitedMs / 1000).toFixed(0)} s for the machine to be quiet`);
    console.log(
      `[${i + 1}/${order.length}] node, suite ${suite}, process ${round + 1}${attempt ? ` (again: ${attempt})` : ""}`,
    );
    const out = join(tmp, `${suite}-${round}.json`);
    const before = cpuTimes();
    await runWorker(suite, out);
    const after = cpuTimes();
    const result = JSON.parse(readFileSync(out, "utf8"));
    const others = otherCores(before, after);
    result.interference = { round, otherCores: others, attempts: attempt + 1 };
    if (others !== undefined && others > QUIET) {
      console.log(`  note: other work used ${others.toFixed(2)} cores meanwhile`);
      if (attempt < RETRIES) continue;
    }
    runs.push(result);
    break;
  }
}

const r = writeResults(outDir, runs, {
  engine: "node",
  engineVersion: `Node ${process.version} (V8 ${process.versions.v8})`,
  cpu: cpus()[0].model,
  date: new Date().toISOString(),
  quick,
  extra: { source },
});
console.log(
  `\n${r.targets.map((t) => `${t.pass === null ? "—   " : t.pass ? "pass" : "MISS"}  ${t.name}: ${t.value === null ? "not measured" : t.value.toPrecision(3)} (${t.limit === null ? "no limit here" : `${t.op} ${t.limit}`})`).join("\n")}`,
);
console.log(`\nwrote ${join(outDir, "node.{json,md,svg}")} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (!quick && !only) writeDocs();
