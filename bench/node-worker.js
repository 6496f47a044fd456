// One fresh Node process: runs one suite of bench/suites.js and writes its raw results as JSON.
// Started by bench/run-node.js (node --expose-gc bench/node-worker.js SUITE OUT.json [--quick]).

import { writeFileSync } from "node:fs";
import { runSuite } from "./harness.js";

const [suite, out] = process.argv.slice(2);
const quick = process.argv.includes("--quick");
if (!suite || !out) {
  console.error("usage: node --expose-gc bench/node-worker.js SUITE OUT.json [--quick]");
  process.exit(2);
}

const gc = globalThis.gc;
const env = {
  quick,
  now: () => performance.now(),
  gc: gc
    ? () => {
        gc();
        gc();
      }
    : undefined,
  memory: () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed };
  },
  log: (message) => console.log(message),
};

const cpu0 = process.cpuUsage();
const result = await runSuite(suite, env);
const cpu = process.cpuUsage(cpu0);
result.cpuMs = (cpu.user + cpu.system) / 1000;
writeFileSync(out, JSON.stringify(result));
// Fibers parked for a measurement may remain: leave at once rather than wait for them.
process.exit(0);
